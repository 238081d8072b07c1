#pragma once
// Dead-letter records for the dashboard: consumes every `<topic>.DLT` from the
// beginning with a group of its own, keeps the newest records in memory with
// the error and origin the consumer put in the headers, and replays one to its
// original topic on request (the processed-events guard makes a replay of an
// already-applied event harmless).
//
// Threads: the kafka::Consumer's thread appends; HTTP threads read and replay.
#include <deque>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "runtime/kafka/consumer.h"
#include "runtime/kafka/producer.h"

namespace op::dashboard {

class DeadLetters {
 public:
  DeadLetters(kafka::ConsumerOptions options, kafka::Producer& producer, size_t keep = 200);
  ~DeadLetters();
  void Start() { consumer_->Start(); }
  void Stop() { consumer_->Stop(); }
  nlohmann::json Json() const;  // newest first
  // Produces the record back to its original topic; nullopt when it is not
  // (or no longer) held. Throws std::runtime_error when the broker refuses.
  std::optional<nlohmann::json> Replay(const std::string& topic, int32_t partition, int64_t offset);

 private:
  void Add(const kafka::InRecord& r);
  kafka::Producer& producer_;
  size_t keep_;
  mutable std::mutex mu_;
  std::deque<kafka::InRecord> records_;
  uint64_t total_ = 0;
  std::unique_ptr<kafka::Consumer> consumer_;
};

}  // namespace op::dashboard
