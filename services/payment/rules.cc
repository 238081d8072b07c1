#include "services/payment/rules.h"
#include "runtime/core/json.h"

#include <algorithm>

#include "runtime/http/types.h"

namespace op::payment {

ChargeDecision DecideCharge(std::optional<int64_t> balance, int64_t amount) {
  if (!balance) return {false, "UNKNOWN_CUSTOMER"};
  if (*balance < amount) return {false, "INSUFFICIENT_FUNDS"};
  return {true, ""};
}

namespace {
int64_t ParseCents(const nlohmann::json& b, const char* field, int64_t min) {
  constexpr int64_t kMax = 1'000'000'000'000;
  auto cents = b.contains(field) ? JsonInteger(b[field]) : std::nullopt;
  if (!cents || *cents < min || *cents > kMax) {
    http::Problem p = http::MakeProblem(400, "invalid amount");
    p.Field(field, "must be an integer number of cents from " + std::to_string(min) + " to " + std::to_string(kMax));
    throw http::HttpError(p);
  }
  return *cents;
}
}  // namespace

int64_t ParseBalance(const nlohmann::json& b) { return ParseCents(b, "balanceCents", 0); }
int64_t ParseDeposit(const nlohmann::json& b) { return ParseCents(b, "amountCents", 1); }

}  // namespace op::payment
