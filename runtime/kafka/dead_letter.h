#pragma once
// Dead-letter topic naming, Spring Kafka's convention: a record its consumer
// cannot handle goes to "<topic>.DLT". Header-only and free of librdkafka so
// event contracts, fixtures and tools can name the topics too.
#include <string>
#include <string_view>

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

}  // namespace op::kafka
