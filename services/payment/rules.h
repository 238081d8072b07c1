#pragma once
// payment-service's business rules, free of HTTP, SQL and Kafka.
#include <cstdint>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

namespace op::payment {

struct ChargeDecision {
  bool approved;
  std::string reason;  // INSUFFICIENT_FUNDS or UNKNOWN_CUSTOMER when declined
};
// `balance` is nullopt when the customer has no account.
ChargeDecision DecideCharge(std::optional<int64_t> balance, int64_t amount_cents);

// {"balanceCents": n} with 0 <= n <= 10^12; throws http::HttpError (400) naming the field.
int64_t ParseBalance(const nlohmann::json& body);
// {"amountCents": n} with 0 < n <= 10^12.
int64_t ParseDeposit(const nlohmann::json& body);

}  // namespace op::payment
