#pragma once
// The consumer's private state, shared by consumer.cc (the consumer thread:
// fetch, pause, seek, commit) and consumer_workers.cc (the workers and the
// outcomes they report); not part of the module's interface.
#include <librdkafka/rdkafkacpp.h>

#include <chrono>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <thread>

#include "runtime/kafka/consumer.h"
#include "runtime/logging/log.h"

namespace op::kafka {

namespace consumer_internal {
using Clock = std::chrono::steady_clock;
using TpKey = std::pair<std::string, int32_t>;

struct RetryState {
  int attempts = 0;
  Clock::time_point resume_at;
};
}  // namespace consumer_internal
using namespace consumer_internal;  // this header is private to the consumer's .cc files

struct Consumer::Impl : public RdKafka::RebalanceCb {
  Consumer* self = nullptr;
  std::unique_ptr<RdKafka::KafkaConsumer> consumer;
  std::set<TpKey> assigned;
  std::map<TpKey, RetryState> retrying;  // partitions paused for a backoff
  bool applied_pause = false;
  std::mt19937_64 rng{std::random_device{}()};

  // `epoch` is a partition's generation: bumped (under
  // epoch_mu) when a record of it fails or it is revoked, so queued records of
  // the old generation are dropped instead of handled out of order.
  std::mutex epoch_mu;
  std::map<TpKey, uint64_t> epoch;
  std::set<TpKey> blocked;  // a record failed; records fetched until the seek-back are dropped
  struct Outcome {
    TpKey tp;
    int64_t offset;
    Consumer::Outcome outcome;
  };
  std::mutex outcomes_mu;
  std::condition_variable outcomes_cv;
  std::deque<Outcome> outcomes;
  std::map<TpKey, int64_t> inflight;      // consumer thread: dispatched, outcome not yet drained
  int64_t inflight_total = 0;
  std::map<TpKey, int64_t> to_commit;     // consumer thread: next offset to commit

  void rebalance_cb(RdKafka::KafkaConsumer* c, RdKafka::ErrorCode err,
                    std::vector<RdKafka::TopicPartition*>& parts) override {
    if (err == RdKafka::ERR__ASSIGN_PARTITIONS) {
      c->assign(parts);
      for (auto* p : parts) assigned.insert({p->topic(), p->partition()});
      if (self->paused_.load()) c->pause(parts);
      self->joined_ = true;
      log::Info("kafka partitions assigned", {{"group", self->options_.group_id}, {"count", parts.size()}});
    } else {
      std::vector<TpKey> revoked;
      for (auto* p : parts) revoked.emplace_back(p->topic(), p->partition());
      self->Quiesce(revoked);  // finish and commit what the workers hold of them
      for (auto* p : parts) {
        assigned.erase({p->topic(), p->partition()});
        retrying.erase({p->topic(), p->partition()});
      }
      c->unassign();
      log::Info("kafka partitions revoked", {{"group", self->options_.group_id}, {"count", parts.size()}});
    }
  }

  std::vector<RdKafka::TopicPartition*> Parts(const std::vector<TpKey>& keys) {
    std::vector<RdKafka::TopicPartition*> v;
    for (auto& [t, p] : keys) v.push_back(RdKafka::TopicPartition::create(t, p));
    return v;
  }
  static void Free(std::vector<RdKafka::TopicPartition*>& v) { RdKafka::TopicPartition::destroy(v); }
};


struct Consumer::Worker {
  std::thread thread;
  std::mutex mu;
  std::condition_variable cv;
  std::deque<std::pair<InRecord, uint64_t>> queue;  // record, its partition's epoch
  bool stop = false;
};

}  // namespace op::kafka
