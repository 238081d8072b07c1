#include "services/order/rules.h"

#include <gtest/gtest.h>

#include "runtime/http/types.h"

namespace op::order {
namespace {

std::vector<std::string> Fields(const nlohmann::json& body) {
  try {
    ParseOrderRequest(body);
  } catch (const http::HttpError& e) {
    std::vector<std::string> f;
    for (auto& [field, msg] : e.problem().errors) f.push_back(field);
    return f;
  }
  return {};
}

TEST(ParseOrderRequest, AcceptsTheContractShape) {
  auto r = ParseOrderRequest(nlohmann::json::parse(R"({"customerId":"alice","items":[{"sku":"SKU-1","quantity":2}],
      "contact":{"email":"alice@example.com","phone":"+4915112345678"}})"));
  EXPECT_EQ(r.customer_id, "alice");
  ASSERT_EQ(r.items.size(), 1u);
  EXPECT_EQ(r.items[0].quantity, 2);
  EXPECT_EQ(r.email, "alice@example.com");
  EXPECT_TRUE(Fields(nlohmann::json::parse(R"({"customerId":"a","items":[{"sku":"S","quantity":1}]})")).empty());
}

TEST(ParseOrderRequest, ARepeatedSkuAloneIs422WithAMalformedFieldA400) {
  auto status = [](const char* body) {
    try {
      ParseOrderRequest(nlohmann::json::parse(body));
    } catch (const http::HttpError& e) {
      return e.problem().status;
    }
    return 0;
  };
  EXPECT_EQ(status(R"({"customerId":"a","items":[{"sku":"S","quantity":1},{"sku":"S","quantity":2}]})"), 422);
  EXPECT_EQ(status(R"({"customerId":"a","items":[{"sku":"S","quantity":1},{"sku":"S","quantity":0}]})"), 400);
  EXPECT_EQ(Fields(nlohmann::json::parse(R"({"customerId":"a","items":[{"sku":"S","quantity":1},{"sku":"S","quantity":1}]})")),
            (std::vector<std::string>{"items[1].sku"}));
}

TEST(ParseOrderRequest, NamesEveryBadField) {
  EXPECT_EQ(Fields(nlohmann::json::object()), (std::vector<std::string>{"customerId", "items"}));
  EXPECT_EQ(Fields(nlohmann::json::parse(R"({"customerId":"a","items":[]})")), (std::vector<std::string>{"items"}));
  EXPECT_EQ(Fields(nlohmann::json::parse(
                R"({"customerId":7,"items":[{"sku":"A","quantity":0},{"sku":"","quantity":1.5},{"sku":"A","quantity":1},3],
                    "contact":{"email":"nope","phone":"x"}})")),
            (std::vector<std::string>{"customerId", "items[0].quantity", "items[1].sku", "items[1].quantity",
                                      "items[2].sku", "items[3]", "contact.email", "contact.phone"}));
}

TEST(Saga, ConfirmsOnlyWhenBothSucceed) {
  SagaState s;
  auto a = ApplyEvent(s, "PaymentCompleted", "");
  EXPECT_EQ(a.emit, SagaStep::Emit::kNothing);
  auto b = ApplyEvent(a.next, "InventoryReserved", "");
  EXPECT_EQ(b.emit, SagaStep::Emit::kConfirm);
  EXPECT_EQ(b.next.status, "CONFIRMED");
  // the other order of arrival
  auto c = ApplyEvent(ApplyEvent(s, "InventoryReserved", "").next, "PaymentCompleted", "");
  EXPECT_EQ(c.emit, SagaStep::Emit::kConfirm);
}

TEST(Saga, FirstFailureCancelsWithItsReasonAndLaterEventsOnlyRecord) {
  SagaState s;
  auto a = ApplyEvent(s, "InventoryRejected", "OUT_OF_STOCK");
  EXPECT_EQ(a.emit, SagaStep::Emit::kCancel);
  EXPECT_EQ(a.reason, "OUT_OF_STOCK");
  auto b = ApplyEvent(a.next, "PaymentFailed", "INSUFFICIENT_FUNDS");
  EXPECT_EQ(b.emit, SagaStep::Emit::kNothing) << "cancelled once";
  EXPECT_EQ(b.next.payment, "FAILED");
  auto late_success = ApplyEvent(ApplyEvent(s, "PaymentFailed", "UNKNOWN_CUSTOMER").next, "InventoryReserved", "");
  EXPECT_EQ(late_success.emit, SagaStep::Emit::kNothing);
  EXPECT_EQ(late_success.next.status, "CANCELLED");
  EXPECT_EQ(late_success.next.inventory, "RESERVED") << "inventory releases it on OrderCancelled";
}

TEST(Saga, CustomerCancelAndTimeout) {
  SagaState confirmed{"CONFIRMED", "COMPLETED", "RESERVED"};
  auto c = ApplyCustomerCancel(confirmed);
  ASSERT_TRUE(c);
  EXPECT_EQ(c->reason, "CUSTOMER_CANCELLED");
  EXPECT_FALSE(ApplyCustomerCancel(c->next)) << "cancelled orders are not cancellable: 409";
  EXPECT_FALSE(ApplyTimeout(confirmed));
  EXPECT_EQ(ApplyTimeout(SagaState{})->reason, "TIMEOUT");
}

TEST(ListQuery, ParsesAndRejectsNamingTheParameter) {
  auto q = ParseListQuery({{"customerId", "alice"}, {"status", "CONFIRMED"}, {"limit", "5"}, {"cursor", EncodeCursor(42)}});
  EXPECT_EQ(q.limit, 5);
  EXPECT_EQ(q.after_seq, 42);
  EXPECT_EQ(ParseListQuery({{"cursor", "o999999999999999999"}}).after_seq, 999999999999999999) << "18 digits";
  for (auto [k, v] : std::vector<std::pair<std::string, std::string>>{
           {"status", "DONE"}, {"limit", "0"}, {"limit", "101"}, {"limit", "x"}, {"limit", "99999999999"},
           {"limit", "5 "}, {"cursor", "42"}, {"cursor", "o9999999999999999999"}, {"cursor", "o-5"}, {"cursor", "o042"},
           {"cursor", "o9846941619119300036"} /* 19 digits, fits int64: found by Schemathesis */, {"sort", "x"}}) {
    try {
      ParseListQuery({{k, v}});
      ADD_FAILURE() << k << "=" << v;
    } catch (const http::HttpError& e) {
      EXPECT_EQ(e.problem().errors.at(0).first, k);
    }
  }
}

}  // namespace
}  // namespace op::order
