#pragma once
// Everything about dead letters, in Spring Kafka's conventions: a record its
// consumer cannot handle goes to "<topic>.DLT" with kafka_dlt-* headers naming
// its origin and the error, encoded as DeadLetterPublishingRecoverer writes
// them (partition a 4-byte big-endian int, offset and timestamp 8-byte
// big-endian longs, the rest UTF-8), so a Spring consumer reads them through
// KafkaHeaders.DLT_*. Free of librdkafka so event contracts, fixtures, the
// dashboard and tools can use it too.
#include <cstdint>
#include <optional>
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

// KafkaHeaders.DLT_* in Spring Kafka.
inline constexpr const char* kDltOriginalTopic = "kafka_dlt-original-topic";
inline constexpr const char* kDltOriginalPartition = "kafka_dlt-original-partition";
inline constexpr const char* kDltOriginalOffset = "kafka_dlt-original-offset";
inline constexpr const char* kDltOriginalTimestamp = "kafka_dlt-original-timestamp";
inline constexpr const char* kDltOriginalTimestampType = "kafka_dlt-original-timestamp-type";
inline constexpr const char* kDltOriginalGroup = "kafka_dlt-original-consumer-group";
inline constexpr const char* kDltExceptionClass = "kafka_dlt-exception-fqcn";
inline constexpr const char* kDltExceptionMessage = "kafka_dlt-exception-message";
inline constexpr const char* kDltExceptionStacktrace = "kafka_dlt-exception-stacktrace";

using KafkaHeaders = std::vector<std::pair<std::string, std::string>>;

// Where a dead letter came from.
struct DeadLetterOrigin {
  std::string topic;
  int32_t partition;
  int64_t offset;
  int64_t timestamp_ms;
  std::string group;
};

// Appends the kafka_dlt-* headers to a dead letter's (its record's own
// headers stay: they carry the event's type, id and traceparent). `kind` is
// the error's class name, Spring's exception FQCN.
void AddDeadLetterHeaders(KafkaHeaders& headers, const DeadLetterOrigin& o, const std::string& error,
                          const std::string& kind);

// The kafka_dlt-* headers read back. A header that is missing, or whose
// binary value has the wrong length, is empty: a dead letter written by
// another tool is shown as far as it can be, never guessed at. Decimal text
// (this platform's own encoding before Spring's) is still read.
struct DeadLetterHeaders {
  std::optional<std::string> topic;
  std::optional<int32_t> partition;
  std::optional<int64_t> offset;
  std::optional<int64_t> timestamp_ms;
  std::optional<std::string> group;
  std::optional<std::string> exception_class;
  std::optional<std::string> exception_message;
};
DeadLetterHeaders ReadDeadLetterHeaders(const KafkaHeaders& headers);

// True for the kafka_dlt-* headers, which a replay leaves behind.
bool IsDeadLetterHeader(std::string_view name);

}  // namespace op::kafka
