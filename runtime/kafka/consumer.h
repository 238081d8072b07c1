#pragma once
// Kafka consumer loop with at-least-once delivery and effectively-once effects
// (the handler's database transaction is guarded by processed_events):
//
// - the offset of a record is committed only after its handler returned, i.e.
//   after the handler's database transaction committed;
// - a handler that throws PoisonRecord (undecodable, unknown schema, invalid)
//   sends the record to <topic>.DLT with Spring Kafka's kafka_dlt-* headers,
//   then the offset is committed and the partition moves on;
// - any other exception is transient (database down, breaker open): the
//   partition is sought back to the record and paused for an exponential
//   backoff, then retried. Never skipped. Other partitions keep flowing;
// - Pause()/Resume() stop and restart fetching for every assigned partition
//   (e.g. while a downstream breaker is open), surviving rebalances.
//
// Threads: Start() spawns one thread ("kafka-consumer") that owns the
// librdkafka consumer and hands records to `concurrency` workers
// ("kafka-worker", at least one), each owning a fixed share of the partitions
// (by hash), so records of one partition (one order, as the key is the order
// id) stay in order while partitions run in parallel. A worker hands what is
// queued for it (any of its partitions, each in order) to the batch handler
// at once, when there is one. Only
// the consumer thread calls librdkafka: workers report outcomes back to it,
// and it commits the highest contiguous processed offset per partition
// (asynchronously, synchronously on revoke and stop) and does the seek-back
// for a transient failure; a worker drops the records of a partition queued
// behind one that failed. Stop() finishes the records being handled, commits,
// then leaves the group.
#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>

#include "runtime/kafka/dead_letter.h"
#include <thread>
#include <vector>

#include "runtime/kafka/producer.h"

namespace RdKafka {
class KafkaConsumer;
class Message;
}

namespace op::kafka {

struct InRecord {
  std::string topic;
  int32_t partition = 0;
  int64_t offset = 0;
  std::string key;
  std::string value;
  KafkaHeaders headers;
  int64_t timestamp_ms = 0;
  std::optional<std::string> Header(const std::string& name) const;
};

// Thrown by a handler for a record that can never be processed.
class PoisonRecord : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct ConsumerOptions {
  std::string bootstrap_servers;
  std::string group_id;
  std::string client_id = "orderplatform";
  std::vector<std::string> topics;
  std::string auto_offset_reset = "earliest";
  std::chrono::milliseconds session_timeout{10000};
  std::chrono::milliseconds retry_backoff_initial{200};
  std::chrono::milliseconds retry_backoff_max{10000};
  int concurrency = 1;        // worker threads (partitions handled in parallel)
  int max_queued = 500;       // records fetched but not yet handled, across workers
  int max_batch = 64;         // queued records per batch handler call
  std::map<std::string, std::string> extra;

  static void DeclareSchema(config::Schema& schema);
  // group and topics come from the service; the rest from kafka.consumer.*
  static ConsumerOptions FromConfig(const config::Config& cfg);
};

struct PartitionLag {
  std::string topic;
  int32_t partition;
  int64_t position, high_watermark, lag;
};

class Consumer {
 public:
  using Handler = std::function<void(const InRecord&)>;
  // Optional, for throughput: handles several queued records at once, all or
  // nothing (one database transaction for all). They may come from several
  // partitions; those of one partition are consecutive offsets in order.
  // When it throws, nothing of the batch may have taken effect: the records
  // then go through Handler one by one, with the usual retry and dead-letter
  // rules (so a poison record in a batch still ends in the dead-letter topic
  // and its neighbours are handled; a record to retry holds back only the
  // rest of its own partition). Only for records already queued (it never
  // waits to fill a batch).
  using BatchHandler = std::function<void(const std::vector<const InRecord*>&)>;

  // `dead_letters` publishes poison records; it must outlive the consumer.
  Consumer(ConsumerOptions options, Handler handler, Producer* dead_letters,
           metrics::MetricsRegistry* metrics = nullptr);
  ~Consumer();

  // Before Start().
  void SetBatchHandler(BatchHandler h) { batch_handler_ = std::move(h); }
  void Start();
  void Stop();
  void Pause();
  void Resume();
  // Pauses now and resumes by itself after `d` (e.g. a breaker's open wait).
  void PauseFor(std::chrono::milliseconds d);
  bool Paused() const { return paused_.load(); }
  bool Running() const { return running_.load(); }
  // Has joined its group (received a first assignment, possibly empty).
  bool Joined() const { return joined_.load(); }

  std::vector<PartitionLag> Lag() const;
  uint64_t Processed() const { return processed_.load(); }
  uint64_t DeadLettered() const { return dead_lettered_.load(); }
  uint64_t Retried() const { return retried_.load(); }
  uint64_t Batches() const { return batches_.load(); }  // batch handler calls that succeeded
  uint64_t BatchesSplit() const { return batches_split_.load(); }  // ... that threw: went one by one
  const ConsumerOptions& options() const { return options_; }


 private:
  struct Impl;
  struct Worker;
  enum class Outcome { kDone, kDeadLettered, kRetry, kDropped };
  void Loop();
  InRecord ToRecord(RdKafka::Message& m);
  Outcome Handle(const InRecord& r);           // any thread: handler, dead letter
  // A worker's queued records (each partition's in order): through the batch
  // handler when there are several, else (or when it throws) one by one.
  std::vector<Outcome> HandleRun(const std::vector<const InRecord*>& run);
  void Dispatch(RdKafka::Message& m);          // consumer thread: queue for the partition's worker
  void WorkerLoop(Worker& w);
  void DrainOutcomes(bool commit_sync);        // consumer thread: commit, seek back
  void RetryLater(const std::string& topic, int32_t partition, int64_t offset);
  void Quiesce(const std::vector<std::pair<std::string, int32_t>>& partitions);  // wait for their workers
  bool DeadLetter(const InRecord& r, const std::string& error, const std::string& kind);
  void UpdateLag();

  ConsumerOptions options_;
  Handler handler_;
  BatchHandler batch_handler_;
  Producer* dead_letters_;
  std::unique_ptr<Impl> impl_;
  std::thread thread_;
  std::vector<std::unique_ptr<Worker>> workers_;
  std::atomic<bool> stop_{false}, running_{false}, paused_{false}, joined_{false};
  // What the consumer thread has applied (paused_ is what was asked): the
  // kafka_consumer_paused gauge reports this, so 1 means nothing new is fetched.
  std::atomic<bool> pause_applied_{false};
  std::atomic<int64_t> resume_at_ns_{0};  // steady-clock time for PauseFor; 0: none
  std::atomic<uint64_t> processed_{0}, dead_lettered_{0}, retried_{0}, batches_{0}, batches_split_{0};
  mutable std::mutex lag_mu_;
  std::vector<PartitionLag> lag_;
  size_t assigned_count_ = 0;  // partitions assigned at the last UpdateLag
  metrics::LatencyStats handler_stats_, commit_stats_;
  metrics::MetricsRegistry* metrics_;
  int collector_id_ = -1;
};

}  // namespace op::kafka
