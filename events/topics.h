#pragma once
#include <string>
#include <string_view>

#include "runtime/kafka/dead_letter.h"

namespace op::events {

inline constexpr std::string_view kOrderEvents = "order.events";
inline constexpr std::string_view kPaymentEvents = "payment.events";
inline constexpr std::string_view kInventoryEvents = "inventory.events";
// Each has a dead-letter topic, named by the runtime's convention ("<topic>.DLT").
using kafka::DeadLetterTopic;

// Every saga topic, for brokers and fixtures that create them.
inline constexpr std::string_view kAllTopics[] = {kOrderEvents, kPaymentEvents,
                                                  kInventoryEvents};

// Kafka header names that repeat envelope fields (DESIGN.md section 4).
inline constexpr std::string_view kHeaderEventType = "event_type";
inline constexpr std::string_view kHeaderEventId = "event_id";
inline constexpr std::string_view kHeaderTraceparent = "traceparent";
inline constexpr std::string_view kHeaderContentType = "content-type";
inline constexpr std::string_view kContentTypeProtobuf =
    "application/x-protobuf; messageType=orderplatform.events.Envelope";

}  // namespace op::events
