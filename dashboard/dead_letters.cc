#include "dashboard/dead_letters.h"

#include <stdexcept>

#include "events/envelope.h"
#include "runtime/core/time_format.h"
#include "runtime/kafka/dead_letter.h"
#include "runtime/logging/log.h"

namespace op::dashboard {

DeadLetters::DeadLetters(kafka::ConsumerOptions options, kafka::Producer& producer, size_t keep)
    : producer_(producer), keep_(keep) {
  consumer_ = std::make_unique<kafka::Consumer>(std::move(options), [this](const kafka::InRecord& r) { Add(r); },
                                                &producer_);
}

DeadLetters::~DeadLetters() { consumer_->Stop(); }

void DeadLetters::Add(const kafka::InRecord& r) {
  std::lock_guard lock(mu_);
  records_.push_front(r);
  if (records_.size() > keep_) records_.pop_back();
  ++total_;
}

namespace {
// The record's payload as JSON when it is an event Envelope (protobuf's JSON
// mapping), else why it is not: a dead letter is often exactly such a record.
nlohmann::json Payload(const std::string& value) {
  std::string error;
  if (auto e = events::Decode(value, &error)) {
    auto parsed = nlohmann::json::parse(events::ToJson(*e), nullptr, false);
    if (!parsed.is_discarded()) return {{"json", parsed}};
  }
  return {{"json", nullptr}, {"undecodable", error.empty() ? "not JSON-renderable" : error}};
}
}  // namespace

nlohmann::json DeadLetters::Json() const {
  std::lock_guard lock(mu_);
  nlohmann::json items = nlohmann::json::array();
  for (const auto& r : records_) {
    auto dlt = kafka::ReadDeadLetterHeaders(r.headers);
    auto or_null = [](const auto& v) { return v ? nlohmann::json(*v) : nlohmann::json(nullptr); };
    items.push_back({{"topic", r.topic}, {"partition", r.partition}, {"offset", r.offset}, {"key", r.key},
                     {"at", FormatRfc3339(std::chrono::system_clock::time_point(std::chrono::milliseconds(r.timestamp_ms)))},
                     {"eventType", r.Header("event_type").value_or("")},
                     {"error", dlt.exception_message.value_or("")},
                     {"errorKind", dlt.exception_class.value_or("")},
                     {"originalTopic", dlt.topic.value_or("")},
                     {"originalPartition", or_null(dlt.partition)},
                     {"originalOffset", or_null(dlt.offset)},
                     {"originalTimestamp", or_null(dlt.timestamp_ms)},
                     {"group", dlt.group.value_or("")},
                     {"bytes", r.value.size()},
                     {"payload", Payload(r.value)}});
  }
  return {{"total", total_}, {"items", items}};
}

std::optional<nlohmann::json> DeadLetters::Replay(const std::string& topic, int32_t partition, int64_t offset) {
  std::optional<kafka::InRecord> found;
  {
    std::lock_guard lock(mu_);
    for (const auto& r : records_)
      if (r.topic == topic && r.partition == partition && r.offset == offset) found = r;
  }
  if (!found) return std::nullopt;
  auto original = found->Header(kafka::kDltOriginalTopic);
  std::string target = original ? *original : std::string(kafka::TopicOfDeadLetters(topic));
  kafka::OutRecord out{target, found->key, found->value, {}};
  for (const auto& [k, v] : found->headers)
    if (!kafka::IsDeadLetterHeader(k)) out.headers.emplace_back(k, v);
  out.headers.emplace_back("x-replayed-from", topic + "/" + std::to_string(partition) + "/" + std::to_string(offset));
  auto rep = producer_.SendSync(std::move(out));
  if (!rep.ok) throw std::runtime_error("replay to " + target + " failed: " + rep.error);
  log::Info("dead letter replayed", {{"from", topic}, {"partition", partition}, {"offset", offset}, {"to", target}});
  return nlohmann::json{{"replayedTo", target}, {"partition", rep.partition}, {"offset", rep.offset}};
}

}  // namespace op::dashboard
