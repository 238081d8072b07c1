#include "services/notification/rules.h"

#include <fmt/format.h>

#include "runtime/core/backoff.h"

namespace op::notification {

namespace {
std::string Money(const events::Money& m) {
  const int64_t cents = m.cents() < 0 ? -m.cents() : m.cents();
  return fmt::format("{}{}.{:02} {}", m.cents() < 0 ? "-" : "", cents / 100, cents % 100, m.currency());
}
}  // namespace

std::optional<Text> TextFor(const events::Envelope& e) {
  const std::string& id = e.order_id();
  switch (e.payload_case()) {
    case events::Envelope::kOrderConfirmed:
      return Text{"Order " + id + " confirmed", "Your order " + id + " is confirmed. Total: " + Money(e.order_confirmed().total()) + "."};
    case events::Envelope::kOrderCancelled:
      return Text{"Order " + id + " cancelled", "Your order " + id + " was cancelled (" + e.order_cancelled().reason() + ")."};
    case events::Envelope::kPaymentCompleted:
      return Text{"Payment received for order " + id, "We charged " + Money(e.payment_completed().amount()) + " for order " + id + "."};
    case events::Envelope::kPaymentRefunded:
      return Text{"Refund for order " + id, "We refunded " + Money(e.payment_refunded().amount()) + " for order " + id + "."};
    default:
      return std::nullopt;
  }
}

Contact ContactOf(const events::Envelope& order_created) {
  const auto& oc = order_created.order_created();
  const auto& c = oc.contact();
  return {oc.customer_id(), c.email().empty() ? std::nullopt : std::optional(c.email()),
          c.phone().empty() ? std::nullopt : std::optional(c.phone())};
}

std::string_view ChannelName(Channel c) {
  switch (c) {
    case Channel::kEmail: return "email";
    case Channel::kSms: return "sms";
    case Channel::kLog: return "log";
  }
  return "log";
}

std::optional<Channel> ParseChannel(std::string_view name) {
  for (Channel c : {Channel::kEmail, Channel::kSms, Channel::kLog})
    if (ChannelName(c) == name) return c;
  return std::nullopt;
}

std::vector<Target> TargetsFor(const Contact& c, bool email_enabled, bool sms_enabled) {
  std::vector<Target> out;
  if (c.email && email_enabled) out.push_back({Channel::kEmail, *c.email});
  if (c.phone && sms_enabled) out.push_back({Channel::kSms, *c.phone});
  if (out.empty()) out.push_back({Channel::kLog, c.customer});
  return out;
}

std::chrono::milliseconds RetryDelay(int64_t failed_attempts, std::chrono::milliseconds max) {
  return BackoffPolicy{std::chrono::seconds(1), max, 2.0, false}.Cap(failed_attempts);
}

}  // namespace op::notification
