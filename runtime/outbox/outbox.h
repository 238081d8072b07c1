#pragma once
// Transactional outbox. A service writes its events into the `outbox` table in
// the same transaction as the state change (Enqueue); the OutboxRelay
// publishes unpublished rows to Kafka in id order and marks them published
// only after the broker acknowledged them. Guarantees:
//   - an event exists iff its state change committed (no dual write);
//   - at-least-once publication (a crash after the ack and before the mark
//     republishes; consumers dedup by event_id with idempotency::EventGuard);
//   - per-key order: one relay per database is active at a time (it holds the
//     named lock "<db>.outbox-relay"), it sends a batch in id order through the
//     idempotent producer, and stops at the first failure.
// Threads: Start() spawns "outbox-relay"; Wake() cuts the poll delay after a
// commit; Stop() joins.
#include <atomic>
#include <chrono>
#include <mutex>
#include <string>
#include <vector>

#include "events/envelope.h"
#include "runtime/core/periodic_task.h"
#include "runtime/db/db.h"
#include "runtime/kafka/producer.h"

namespace op::outbox {

// Inside the caller's transaction.
void Enqueue(db::Session& s, const kafka::OutRecord& record, const std::string& event_id,
             const std::string& event_type);
// An event envelope: topic from its type, key = order id, headers repeat
// event_type, event_id, traceparent and content-type (DESIGN.md section 4).
void EnqueueEvent(db::Session& s, const events::Envelope& e);
// Records enqueued so far in the session's transaction (0 outside one): the
// caller wakes the relay after the commit only when there is something to
// send, rather than have it poll an outbox it knows nothing new about.
size_t EnqueuedIn(db::Session& s);

struct RelayOptions {
  int batch_size = 200;
  std::chrono::milliseconds poll_interval{50};
  std::chrono::milliseconds retain_published{std::chrono::hours(1)};
  std::chrono::milliseconds error_backoff{1000};
};

class OutboxRelay {
 public:
  OutboxRelay(db::ConnectionPool& pool, kafka::Producer& producer, RelayOptions options = {},
              metrics::MetricsRegistry* metrics = nullptr);
  ~OutboxRelay();

  void Start();
  // Stops the loop. From now on a batch waits for its acknowledgements only
  // until `ack_grace` has passed: with the brokers gone a stop must not sit
  // out the producer's whole delivery timeout. What is not acknowledged by
  // then stays unpublished and is sent again after the restart (consumers
  // drop the duplicate by its event id).
  void Stop(std::chrono::milliseconds ack_grace = std::chrono::seconds(5));
  void Wake();
  // One batch (tests, and the loop): returns the rows published. Throws on
  // database errors; returns 0 when another relay holds the lock.
  size_t RelayOnce();
  int64_t Backlog() const { return backlog_.load(); }
  uint64_t Published() const { return published_.load(); }
  bool IsLeader() const { return leader_.load(); }

 private:
  struct Row {
    int64_t id;
    kafka::OutRecord record;
  };
  enum class Leadership { kNone, kKept, kTaken };
  std::chrono::milliseconds Step();  // the "outbox-relay" task's: relay a batch, then wait this long
  Leadership EnsureLeadership();
  void DropLeadership();
  std::vector<Row> PollAsLeader();
  void RefreshBacklog();
  void Cleanup();

  db::ConnectionPool& pool_;
  kafka::Producer& producer_;
  const RelayOptions options_;
  std::optional<db::ConnectionPool::Lease> lock_lease_;  // holds the named lock
  std::chrono::steady_clock::time_point last_leader_check_{};  // relay thread (or RelayOnce's caller)
  std::chrono::steady_clock::time_point last_stats_{}, last_cleanup_{std::chrono::steady_clock::now()};  // relay thread
  std::atomic<bool> leader_{false};
  std::atomic<bool> stopping_{false};
  std::atomic<std::chrono::steady_clock::rep> give_up_at_{0};  // with stopping_: the ack wait's deadline
  std::atomic<int64_t> backlog_{0};
  std::atomic<double> oldest_age_{0};
  std::atomic<uint64_t> published_{0}, failures_{0};
  metrics::MetricsRegistry* metrics_;
  int collector_id_ = -1;
  PeriodicTask task_{"outbox-relay", [this] { return Step(); }, options_.error_backoff};  // last: stops first
};

}  // namespace op::outbox
