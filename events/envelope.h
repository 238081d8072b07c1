#pragma once
// Building, validating, encoding and rendering saga events.
#include <optional>
#include <string>
#include <string_view>

#include "events/events.pb.h"

namespace op::events {

// The generated messages live in the proto package orderplatform.events.
using ::orderplatform::events::Contact;
using ::orderplatform::events::Envelope;
using ::orderplatform::events::InventoryRejected;
using ::orderplatform::events::InventoryReleased;
using ::orderplatform::events::InventoryReserved;
using ::orderplatform::events::Money;
using ::orderplatform::events::OrderCancelled;
using ::orderplatform::events::OrderConfirmed;
using ::orderplatform::events::OrderCreated;
using ::orderplatform::events::OrderItem;
using ::orderplatform::events::PaymentCompleted;
using ::orderplatform::events::PaymentFailed;
using ::orderplatform::events::PaymentRefunded;

inline constexpr int kSchemaVersion = 1;

// The event_type string of a payload case ("OrderCreated", ...); empty when unset.
std::string_view EventTypeOf(const Envelope& e);
// The topic an event type is published on ("order.events", ...); empty if unknown.
std::string_view TopicOf(std::string_view event_type);

// A new envelope with a fresh event_id and occurred_at = now. `cause` (optional)
// supplies correlation_id (inherited), causation_id (its event_id) and traceparent.
Envelope NewEnvelope(std::string_view order_id, std::string_view source,
                     const Envelope* cause = nullptr);
// Sets event_type from the payload already set on `e`.
void SealEventType(Envelope& e);

// Describes the first thing wrong with an envelope (for dead-lettering), or nullopt.
std::optional<std::string> Validate(const Envelope& e);

std::string Encode(const Envelope& e);
// nullopt with `error` filled when the bytes are not a valid Envelope.
std::optional<Envelope> Decode(std::string_view bytes, std::string* error = nullptr);

// JSON rendering (protobuf's canonical JSON mapping, camelCase fields).
std::string ToJson(const Envelope& e);

}  // namespace op::events
