// Validate(): what every consumer can rely on in an event before its effect
// runs. Bounds match the columns events end up in (VARCHAR(64) ids, CHAR(3)
// currencies), so an event a hostile producer made too long is a poison
// record for the dead-letter topic, not a database error retried forever.
#include <algorithm>
#include <cctype>

#include "events/envelope.h"
#include "events/identifiers.h"
#include "runtime/core/time_format.h"
#include "runtime/core/uuid.h"

namespace op::events {

namespace {

constexpr int64_t kMaxCents = 1'000'000'000'000'000;  // 10^13 units of currency: beyond any order here
constexpr int kMaxItems = 100;

bool Bounded(const std::string& s, size_t max, bool allow_empty = false) {
  return (allow_empty || !s.empty()) && s.size() <= max &&
         std::all_of(s.begin(), s.end(), [](unsigned char c) { return c >= 0x20 && c != 0x7f; });
}

bool Id(const std::string& s) {  // order ids: UUIDs in practice; bounded and plain in any case
  return !s.empty() && s.size() <= 64 &&
         std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isalnum(c) || c == '-' || c == '_' || c == '.'; });
}

bool Reason(const std::string& s) {
  return !s.empty() && s.size() <= 40 && std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isupper(c) || c == '_'; });
}

std::optional<std::string> CheckMoney(const Money& m, const char* what) {
  const auto& c = m.currency();
  if (c.size() != 3 || !std::all_of(c.begin(), c.end(), [](unsigned char x) { return std::isupper(x); }))
    return std::string(what) + ".currency is not an ISO 4217 code";
  if (m.cents() < 0 || m.cents() > kMaxCents) return std::string(what) + ".cents is out of range";
  return std::nullopt;
}

std::optional<std::string> CheckCustomer(const std::string& id) {
  if (!ValidCustomerId(id)) return "customer_id is not a customer id";
  return std::nullopt;
}

std::optional<std::string> CheckItems(const google::protobuf::RepeatedPtrField<OrderItem>& items, bool required) {
  if (required && items.empty()) return "items is empty";
  if (items.size() > kMaxItems) return "more than " + std::to_string(kMaxItems) + " items";
  for (const auto& i : items) {
    if (!ValidSku(i.sku())) return "items[].sku is not a sku";
    if (i.quantity() < 1 || i.quantity() > 1'000'000) return "items[].quantity is out of range";
    if (i.unit_price_cents() < 0 || i.unit_price_cents() > kMaxCents) return "items[].unit_price_cents is out of range";
  }
  return std::nullopt;
}

std::optional<std::string> CheckPayload(const Envelope& e) {
  switch (e.payload_case()) {
    case Envelope::kOrderCreated: {
      const auto& p = e.order_created();
      if (auto bad = CheckCustomer(p.customer_id())) return bad;
      if (auto bad = CheckItems(p.items(), true)) return bad;
      if (auto bad = CheckMoney(p.total(), "total")) return bad;
      if (!Bounded(p.contact().email(), 254, true) || !Bounded(p.contact().phone(), 32, true)) return "contact is too long";
      return std::nullopt;
    }
    case Envelope::kOrderConfirmed:
      if (auto bad = CheckCustomer(e.order_confirmed().customer_id())) return bad;
      return CheckMoney(e.order_confirmed().total(), "total");
    case Envelope::kOrderCancelled:
      if (auto bad = CheckCustomer(e.order_cancelled().customer_id())) return bad;
      if (!Reason(e.order_cancelled().reason())) return "reason is not a reason code";
      return std::nullopt;
    case Envelope::kPaymentCompleted:
      if (auto bad = CheckCustomer(e.payment_completed().customer_id())) return bad;
      if (!Bounded(e.payment_completed().payment_id(), 36)) return "payment_id is empty or too long";
      return CheckMoney(e.payment_completed().amount(), "amount");
    case Envelope::kPaymentFailed:
      if (auto bad = CheckCustomer(e.payment_failed().customer_id())) return bad;
      if (!Reason(e.payment_failed().reason())) return "reason is not a reason code";
      return std::nullopt;
    case Envelope::kPaymentRefunded:
      if (auto bad = CheckCustomer(e.payment_refunded().customer_id())) return bad;
      if (!Bounded(e.payment_refunded().payment_id(), 36)) return "payment_id is empty or too long";
      return CheckMoney(e.payment_refunded().amount(), "amount");
    case Envelope::kInventoryReserved: return CheckItems(e.inventory_reserved().items(), true);
    case Envelope::kInventoryRejected: {
      const auto& p = e.inventory_rejected();
      if (!Reason(p.reason())) return "reason is not a reason code";
      if (p.skus_size() > kMaxItems) return "more than " + std::to_string(kMaxItems) + " skus";
      for (const auto& s : p.skus())
        if (!Bounded(s, 64)) return "skus[] is empty or too long";
      return std::nullopt;
    }
    case Envelope::kInventoryReleased: return CheckItems(e.inventory_released().items(), false);
    default: return std::nullopt;
  }
}

}  // namespace

std::optional<std::string> Validate(const Envelope& e) {
  if (!IsUuid(e.event_id())) return "event_id is not a UUID: '" + e.event_id().substr(0, 64) + "'";
  if (e.payload_case() == Envelope::PAYLOAD_NOT_SET)
    return "payload is not set (unknown event type '" + e.event_type().substr(0, 64) + "'?)";
  if (e.event_type() != EventTypeOf(e))
    return "event_type '" + e.event_type().substr(0, 64) + "' does not match payload " + std::string(EventTypeOf(e));
  if (e.order_id().empty()) return "order_id is empty";
  if (!Id(e.order_id())) return "order_id is longer than 64 characters or has characters ids do not";
  if (!Bounded(e.source(), 64)) return "source is empty or too long";
  if (!Bounded(e.correlation_id(), 64, true) || !Bounded(e.causation_id(), 64, true)) return "correlation_id or causation_id is too long";
  if (!Bounded(e.traceparent(), 55, true)) return "traceparent is too long";
  if (e.schema_version() < 1 || e.schema_version() > kSchemaVersion)
    return "unsupported schema_version " + std::to_string(e.schema_version());
  if (!ParseRfc3339(e.occurred_at())) return "occurred_at is not RFC 3339: '" + e.occurred_at().substr(0, 40) + "'";
  if (auto bad = CheckPayload(e)) return e.event_type() + ": " + *bad;
  return std::nullopt;
}

}  // namespace op::events
