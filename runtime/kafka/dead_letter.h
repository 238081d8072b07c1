#pragma once
// Everything about dead letters, Spring Kafka's conventions: a record its
// consumer cannot handle goes to "<topic>.DLT" with kafka_dlt-* headers naming
// its origin and the error (DeadLetterPublishingRecoverer's names). Header-only
// and free of librdkafka so event contracts, fixtures, the dashboard and
// tools can use it too.
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace op::kafka {

inline constexpr std::string_view kDeadLetterSuffix = ".DLT";

inline std::string DeadLetterTopic(std::string_view topic) {
  return std::string(topic) + std::string(kDeadLetterSuffix);
}

inline bool IsDeadLetterTopic(std::string_view topic) {
  return topic.size() > kDeadLetterSuffix.size() &&
         topic.substr(topic.size() - kDeadLetterSuffix.size()) == kDeadLetterSuffix;
}

// "order.events.DLT" -> "order.events"; any other name unchanged.
inline std::string_view TopicOfDeadLetters(std::string_view topic) {
  return IsDeadLetterTopic(topic) ? topic.substr(0, topic.size() - kDeadLetterSuffix.size()) : topic;
}

inline constexpr const char* kDltOriginalTopic = "kafka_dlt-original-topic";
inline constexpr const char* kDltOriginalPartition = "kafka_dlt-original-partition";
inline constexpr const char* kDltOriginalOffset = "kafka_dlt-original-offset";
inline constexpr const char* kDltOriginalTimestamp = "kafka_dlt-original-timestamp";
inline constexpr const char* kDltOriginalGroup = "kafka_dlt-original-consumer-group";
inline constexpr const char* kDltExceptionMessage = "kafka_dlt-exception-message";
inline constexpr const char* kDltExceptionClass = "kafka_dlt-exception-fqcn";

// Where a dead letter came from.
struct DeadLetterOrigin {
  std::string topic;
  int32_t partition;
  int64_t offset;
  int64_t timestamp_ms;
  std::string group;
};

// Appends the kafka_dlt-* headers to a dead letter's (its record's own
// headers stay: they carry the event's type, id and traceparent).
inline void AddDeadLetterHeaders(std::vector<std::pair<std::string, std::string>>& headers, const DeadLetterOrigin& o,
                                 const std::string& error, const std::string& kind) {
  headers.emplace_back(kDltOriginalTopic, o.topic);
  headers.emplace_back(kDltOriginalPartition, std::to_string(o.partition));
  headers.emplace_back(kDltOriginalOffset, std::to_string(o.offset));
  headers.emplace_back(kDltOriginalTimestamp, std::to_string(o.timestamp_ms));
  headers.emplace_back(kDltOriginalGroup, o.group);
  headers.emplace_back(kDltExceptionMessage, error);
  headers.emplace_back(kDltExceptionClass, kind);
}

}  // namespace op::kafka
