#include "services/payment/rules.h"

#include <gtest/gtest.h>

#include "events/identifiers.h"
#include "runtime/http/types.h"

namespace op::payment {
namespace {

TEST(DecideCharge, CoversUnknownAndInsufficient) {
  EXPECT_TRUE(DecideCharge(100, 100).approved);
  EXPECT_EQ(DecideCharge(99, 100).reason, "INSUFFICIENT_FUNDS");
  EXPECT_EQ(DecideCharge(std::nullopt, 1).reason, "UNKNOWN_CUSTOMER");
  EXPECT_TRUE(DecideCharge(0, 0).approved);
}

TEST(Amounts, RejectFloatsNegativesAndMissingNamingTheField) {
  EXPECT_EQ(ParseBalance({{"balanceCents", 0}}), 0);
  EXPECT_EQ(ParseDeposit({{"amountCents", 5}}), 5);
  EXPECT_EQ(ParseDeposit({{"amountCents", 5.0}}), 5) << "an integral number, whichever way JSON wrote it";
  for (auto bad : {nlohmann::json{{"balanceCents", -1}}, nlohmann::json{{"balanceCents", 1.5}},
                   nlohmann::json{{"balanceCents", "10"}}, nlohmann::json::object()}) {
    try {
      ParseBalance(bad);
      ADD_FAILURE() << bad;
    } catch (const http::HttpError& e) {
      EXPECT_EQ(e.problem().errors.at(0).first, "balanceCents");
    }
  }
  EXPECT_THROW(ParseDeposit({{"amountCents", 0}}), http::HttpError);
  EXPECT_TRUE(events::ValidCustomerId("alice@example.com"));
  EXPECT_FALSE(events::ValidCustomerId(""));
  EXPECT_FALSE(events::ValidCustomerId("a/b"));
}

}  // namespace
}  // namespace op::payment
