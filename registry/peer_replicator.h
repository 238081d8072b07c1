#pragma once
// Replicates this registry's changes to one peer, the way Eureka's
// PeerEurekaNode does: queued tasks sent in batches to
// POST {peer}/peerreplication/batch, marked with the replication header so
// the peer does not forward them again. A failed batch is put back, in order,
// and retried with backoff; a heartbeat the peer does not know (404) is
// answered with a register.
//
// Threads: one "replicator" task per peer sends; Add() may be called from any
// thread.
#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <prometheus/counter.h>

#include "registry/instance_registry.h"
#include "runtime/core/backoff.h"
#include "runtime/core/periodic_task.h"
#include "runtime/http/client.h"

namespace op::registry {

inline constexpr const char* kReplicationHeader = "x-netflix-discovery-replication";

// A task names the instance; a Register sends the instance as it is when the
// batch goes out (the newest state, and a queue of tasks stays small).
struct ReplicationTask {
  std::string action;  // Register, Heartbeat, Cancel, StatusUpdate, DeleteStatusOverride
  std::string app, id;
  std::string status;
};

class PeerReplicator {
 public:
  // Past this the oldest task is dropped and counted, as Eureka's batching
  // dispatcher does: a peer that is down that long copies the registry when
  // it starts again.
  static constexpr size_t kMaxQueued = 10'000;
  static constexpr size_t kBatchSize = 250;

  // `authorization`: the peer credential's HTTP Basic value.
  PeerReplicator(std::string peer, std::string authorization, http::HttpClient& http, InstanceRegistry& reg,
                 prometheus::Counter& failures, prometheus::Counter& batches, prometheus::Counter& dropped);
  void Add(ReplicationTask t);
  const std::string& peer() const { return peer_; }

 private:
  std::chrono::milliseconds SendQueued();  // the task's step
  bool Send(const std::vector<ReplicationTask>& batch);

  const std::string peer_;
  const std::string authorization_;
  http::HttpClient& http_;
  InstanceRegistry& reg_;
  prometheus::Counter& failures_;
  prometheus::Counter& batches_;
  prometheus::Counter& dropped_;
  std::mutex mu_;
  bool dropping_ = false;  // warned about this overflow already
  std::deque<ReplicationTask> queue_;
  Backoff backoff_{{std::chrono::milliseconds(100), std::chrono::milliseconds(5000), 2.0, false}};  // task thread only
  PeriodicTask task_;  // last: stops before the rest goes
};

}  // namespace op::registry
