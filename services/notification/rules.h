#pragma once
// notification-service's rules, plain functions with no I/O: which events a
// customer hears about and what they say, which channels an order's contact
// reaches, and how long a failed delivery waits before its next attempt.
#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "events/envelope.h"

namespace op::notification {

struct Text {
  std::string subject, body;
};

// What the customer is told about `e`; nullopt for events they are not told
// about (OrderCreated, inventory events, PaymentFailed: its cancellation is).
std::optional<Text> TextFor(const events::Envelope& e);

// Where an order's notifications go, from its OrderCreated.
struct Contact {
  std::string customer;
  std::optional<std::string> email, phone;
};
Contact ContactOf(const events::Envelope& order_created);

enum class Channel { kEmail, kSms, kLog };
std::string_view ChannelName(Channel c);  // "email", "sms", "log": stored and shown
std::optional<Channel> ParseChannel(std::string_view name);

struct Target {
  Channel channel;
  std::string recipient;
};
// Email and SMS where the contact has them and the channel is configured;
// the log channel (recipient: the customer) when neither applies, so every
// customer-facing event leaves exactly one notification per channel used.
std::vector<Target> TargetsFor(const Contact& c, bool email_enabled, bool sms_enabled);

// Wait before the next attempt after `failed_attempts` failures (>= 1):
// 1 s, 2 s, 4 s ... up to `max`. Never given up.
std::chrono::milliseconds RetryDelay(int64_t failed_attempts, std::chrono::milliseconds max);

}  // namespace op::notification
