#pragma once
// Idempotent Kafka producer (enable.idempotence=true, acks=all): per-partition
// order is kept and broker-side retries never duplicate. Delivery reports
// come back through a callback or a future. One internal thread (owned here,
// named "kafka-producer") serves librdkafka's callbacks.
#include <atomic>
#include <chrono>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "runtime/config/config.h"
#include "runtime/metrics/metrics.h"

namespace RdKafka {
class Producer;
}

namespace op::kafka {

using KafkaHeaders = std::vector<std::pair<std::string, std::string>>;

struct OutRecord {
  std::string topic;
  std::string key;    // partitioned by key (murmur2, like the Java client)
  std::string value;
  KafkaHeaders headers;
};

struct DeliveryReport {
  bool ok = false;
  std::string error;  // librdkafka's text, with topic
  int32_t partition = -1;
  int64_t offset = -1;
};

struct ProducerOptions {
  std::string bootstrap_servers;
  std::string client_id = "orderplatform";
  int linger_ms = 5;
  std::chrono::milliseconds delivery_timeout{30000};
  std::map<std::string, std::string> extra;  // any librdkafka property

  static void DeclareSchema(config::Schema& schema);
  static ProducerOptions FromConfig(const config::Config& cfg);
};

class Producer {
 public:
  // Throws std::runtime_error naming the property when the config is invalid.
  Producer(ProducerOptions options, metrics::MetricsRegistry* metrics = nullptr);
  ~Producer();  // flushes (up to 10 s), then stops the callback thread

  using Callback = std::function<void(const DeliveryReport&)>;
  // Enqueues; `cb` runs on the producer thread when the broker acknowledged
  // (or the delivery timed out). A full local queue is reported through `cb`.
  void Send(OutRecord record, Callback cb);
  std::future<DeliveryReport> Send(OutRecord record);
  DeliveryReport SendSync(OutRecord record);
  bool Flush(std::chrono::milliseconds timeout);
  int64_t InFlight() const { return in_flight_.load(); }
  // Asks a broker for cluster metadata: false (with `error`) when none answers in time.
  bool CheckConnectivity(std::chrono::milliseconds timeout, std::string* error);
  // The brokers refused the SASL credentials (librdkafka reported an
  // authentication error): waiting longer will not help.
  bool AuthenticationFailed() const { return auth_failed_.load(); }

 private:
  ProducerOptions options_;
  std::unique_ptr<RdKafka::Producer> producer_;
  struct DeliveryHandler;
  std::unique_ptr<DeliveryHandler> delivery_;
  struct ErrorHandler;
  std::unique_ptr<ErrorHandler> errors_;
  std::atomic<bool> auth_failed_{false};
  std::atomic<bool> flush_failed_{false};  // a flush timed out: the destructor does not wait again
  std::atomic<bool> stop_{false};
  std::atomic<int64_t> in_flight_{0};
  std::thread poller_;
  prometheus::Family<prometheus::Counter>* sent_ = nullptr;
};

}  // namespace op::kafka
