#include "events/envelope.h"

#include <google/protobuf/util/json_util.h>

#include "events/topics.h"
#include "runtime/core/clock.h"
#include "runtime/core/time_format.h"
#include "runtime/core/uuid.h"

namespace op::events {

std::string_view EventTypeOf(const Envelope& e) {
  switch (e.payload_case()) {
    case Envelope::kOrderCreated: return "OrderCreated";
    case Envelope::kOrderConfirmed: return "OrderConfirmed";
    case Envelope::kOrderCancelled: return "OrderCancelled";
    case Envelope::kPaymentCompleted: return "PaymentCompleted";
    case Envelope::kPaymentFailed: return "PaymentFailed";
    case Envelope::kPaymentRefunded: return "PaymentRefunded";
    case Envelope::kInventoryReserved: return "InventoryReserved";
    case Envelope::kInventoryRejected: return "InventoryRejected";
    case Envelope::kInventoryReleased: return "InventoryReleased";
    case Envelope::PAYLOAD_NOT_SET: break;
  }
  return {};
}

std::string_view TopicOf(std::string_view t) {
  if (t == "OrderCreated" || t == "OrderConfirmed" || t == "OrderCancelled") return kOrderEvents;
  if (t == "PaymentCompleted" || t == "PaymentFailed" || t == "PaymentRefunded")
    return kPaymentEvents;
  if (t == "InventoryReserved" || t == "InventoryRejected" || t == "InventoryReleased")
    return kInventoryEvents;
  return {};
}

Envelope NewEnvelope(std::string_view order_id, std::string_view source, const Envelope* cause) {
  Envelope e;
  e.set_event_id(NewUuid());
  e.set_order_id(std::string(order_id));
  e.set_source(std::string(source));
  e.set_schema_version(kSchemaVersion);
  e.set_occurred_at(FormatRfc3339(SystemClock::Instance().WallNow()));
  if (cause) {
    e.set_correlation_id(cause->correlation_id().empty() ? cause->event_id()
                                                         : cause->correlation_id());
    e.set_causation_id(cause->event_id());
    e.set_traceparent(cause->traceparent());
  } else {
    e.set_correlation_id(e.event_id());
  }
  return e;
}

void SealEventType(Envelope& e) { e.set_event_type(std::string(EventTypeOf(e))); }

std::string Encode(const Envelope& e) { return e.SerializeAsString(); }

std::optional<Envelope> Decode(std::string_view bytes, std::string* error) {
  Envelope e;
  if (!e.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    if (error) *error = "bytes are not a protobuf Envelope (" + std::to_string(bytes.size()) + " bytes)";
    return std::nullopt;
  }
  return e;
}

std::string ToJson(const Envelope& e) {
  std::string out;
  google::protobuf::util::JsonPrintOptions opts;
  opts.preserve_proto_field_names = false;
  auto status = google::protobuf::util::MessageToJsonString(e, &out, opts);
  if (!status.ok()) return "{}";
  return out;
}

}  // namespace op::events
