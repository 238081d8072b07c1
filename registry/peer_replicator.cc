#include "registry/peer_replicator.h"

#include <nlohmann/json.hpp>

#include "registry/eureka_codec.h"
#include "runtime/core/json.h"
#include "runtime/logging/log.h"

namespace op::registry {

PeerReplicator::PeerReplicator(std::string peer, std::string authorization, http::HttpClient& http, InstanceRegistry& reg,
                               prometheus::Counter& failures, prometheus::Counter& batches, prometheus::Counter& dropped)
    : peer_(std::move(peer)), authorization_(std::move(authorization)), http_(http), reg_(reg), failures_(failures), batches_(batches),
      dropped_(dropped),
      task_("replicator", [this] { return SendQueued(); }) {
  task_.Start();
}

void PeerReplicator::Add(ReplicationTask t) {
  bool warn = false;
  {
    std::lock_guard lock(mu_);
    if (queue_.size() >= kMaxQueued) {
      queue_.pop_front();
      dropped_.Increment();
      warn = !dropping_;
      dropping_ = true;
    } else if (queue_.size() < kMaxQueued / 2) {
      dropping_ = false;
    }
    queue_.push_back(std::move(t));
  }
  if (warn) log::Warn("replication queue full: dropping the oldest tasks", {{"peer", peer_}, {"queued", kMaxQueued}});
  task_.Wake();
}

std::chrono::milliseconds PeerReplicator::SendQueued() {
  std::vector<ReplicationTask> batch;
  {
    std::lock_guard lock(mu_);
    while (!queue_.empty() && batch.size() < kBatchSize) {
      batch.push_back(std::move(queue_.front()));
      queue_.pop_front();
    }
  }
  if (batch.empty()) return std::chrono::seconds(1);  // Add() wakes the task
  if (!Send(batch)) {  // put back, in order, and back off
    failures_.Increment();
    std::lock_guard lock(mu_);
    for (auto it = batch.rbegin(); it != batch.rend(); ++it) queue_.push_front(std::move(*it));
    return backoff_.Next();
  }
  backoff_.Reset();
  std::lock_guard lock(mu_);
  return queue_.empty() ? std::chrono::seconds(1) : std::chrono::milliseconds(0);
}

bool PeerReplicator::Send(const std::vector<ReplicationTask>& batch) {
  nlohmann::json list = nlohmann::json::array();
  std::vector<const ReplicationTask*> sent;  // the answers come in this order
  for (const auto& t : batch) {
    nlohmann::json item = {{"appName", t.app}, {"id", t.id}, {"action", t.action}};
    if (t.action == "Register") {
      auto info = reg_.Get(t.app, t.id);
      if (!info) continue;  // gone since: its Cancel is queued after this
      item["instanceInfo"] = InstanceJson(*info);
      item["lastDirtyTimestamp"] = std::to_string(info->last_dirty_timestamp);
      item["status"] = InstanceRegistry::Effective(*info);
      item["overriddenStatus"] = info->overridden_status;
    }
    if (!t.status.empty()) item["status"] = t.status;
    list.push_back(item);
    sent.push_back(&t);
  }
  if (sent.empty()) return true;
  http::ClientRequest r{"POST", peer_ + "/peerreplication/batch", {}, nlohmann::json({{"replicationList", list}}).dump(),
                        std::chrono::milliseconds(5000)};
  r.headers.Set("Content-Type", "application/json");
  r.headers.Set("Accept", "application/json");
  r.headers.Set(kReplicationHeader, "true");
  if (!authorization_.empty()) r.headers.Set("Authorization", authorization_);
  auto resp = http_.Send(r);
  if (!resp.ok() || resp.status != 200) {
    log::Warn("replication to peer failed", {{"peer", peer_}, {"error", resp.ok() ? std::to_string(resp.status) : resp.error_message}});
    return false;
  }
  // A heartbeat the peer does not know (404) is answered with a register.
  auto answers = ParseJsonOrDiscarded(resp.body);
  if (answers.is_object() && answers.contains("responseList")) {
    const auto& rl = answers["responseList"];
    for (size_t k = 0; k < rl.size() && k < sent.size(); ++k)
      if (rl[k].is_object() && rl[k].value("statusCode", 200) == 404 && sent[k]->action == "Heartbeat")
        if (reg_.Get(sent[k]->app, sent[k]->id)) Add({"Register", sent[k]->app, sent[k]->id, ""});
  }
  batches_.Increment();
  return true;
}

}  // namespace op::registry
