// order-service's SQL against a real MariaDB.
#include "services/order/store.h"

#include <gtest/gtest.h>

#include "runtime/core/time_format.h"
#include "services/order/schema.h"
#include "testing/fixtures/database.h"

namespace op::order {
namespace {

using namespace std::chrono_literals;

class OrderStoreTest : public testing::DatabaseTest {
 protected:
  std::unique_ptr<db::ConnectionPool> Pool(const std::string& name) {
    return testing::FreshDatabase(*server_, name, Migrations());
  }
  static NewOrderRows Order(const std::string& id, const std::string& customer, std::chrono::seconds deadline_in) {
    auto now = std::chrono::system_clock::now();
    return {id, customer, "EUR", FormatSqlTimestamp(now), FormatSqlTimestamp(now + deadline_in), 2 * 899 + 3999,
            "x@example.com", std::nullopt, std::nullopt, {{"SKU-MUG", 2}, {"SKU-BOOK", 1}}, {899, 3999}};
  }
};

TEST_F(OrderStoreTest, AStoredOrderReadsBackWithItsLinesAndHistoryInOrder) {
  auto db = Pool("o_read");
  db->Transact([](db::Session& s) {
    InsertOrder(s, Order("o-1", "alice", 30s));
    AddHistory(s, "o-1", {{"OrderCreated", "order-service", "2026-12-07T10:00:00.000Z", ""}}, true);
  });
  db->Transact([](db::Session& s) {
    AddHistory(s, "o-1", {{"PaymentFailed", "payment-service", "2026-12-07T10:00:01.000Z", "INSUFFICIENT_FUNDS"},
                          {"OrderCancelled", "order-service", "2026-12-07T10:00:01.001Z", "INSUFFICIENT_FUNDS"}}, false);
  });
  auto lease = db->Acquire();
  auto s = lease.session();
  auto o = OrderJson(s, "o-1");
  ASSERT_TRUE(o);
  EXPECT_EQ((*o)["status"], "PENDING");
  EXPECT_EQ((*o)["totalCents"], 5797);
  ASSERT_EQ((*o)["items"].size(), 2u);
  EXPECT_EQ((*o)["items"][0], (nlohmann::json{{"sku", "SKU-MUG"}, {"quantity", 2}, {"unitPriceCents", 899}}));
  ASSERT_EQ((*o)["history"].size(), 3u);
  EXPECT_EQ((*o)["history"][0]["event"], "OrderCreated");
  EXPECT_FALSE((*o)["history"][0].contains("detail")) << "no detail rather than a null one";
  EXPECT_EQ((*o)["history"][2]["detail"], "INSUFFICIENT_FUNDS");
  EXPECT_EQ((*o)["history"][1]["at"], "2026-12-07T10:00:01.000Z");
  EXPECT_FALSE(OrderJson(s, "o-none"));
}

TEST_F(OrderStoreTest, SagaStepsLockReadAndWriteBackOrders) {
  auto db = Pool("o_saga");
  db->Transact([](db::Session& s) {
    InsertOrder(s, Order("o-1", "bob", 30s));
    InsertOrder(s, Order("o-2", "bob", -1s));
  });
  db->Transact([](db::Session& s) {
    LockedOrders orders;
    LockOrders(s, orders, {"o-1", "o-2", "o-none"});
    EXPECT_FALSE(orders.rows.at("o-none"));
    auto& o1 = orders.Change("o-1");
    EXPECT_EQ(o1.state.status, "PENDING");
    EXPECT_EQ(o1.customer_id, "bob");
    o1.state = {"CONFIRMED", "COMPLETED", "RESERVED"};
    WriteOrders(s, orders);
  });
  EXPECT_EQ(OrdersPastDeadline(*db, 100), std::vector<std::string>{"o-2"}) << "confirmed ones are not due";
  db->Transact([](db::Session& s) {
    auto o2 = LockOrder(s, "o-2");
    ASSERT_TRUE(o2);
    auto step = ApplyTimeout(o2->state);
    ASSERT_TRUE(step);
    WriteState(s, "o-2", *step);
  });
  EXPECT_TRUE(OrdersPastDeadline(*db, 100).empty());
  auto lease = db->Acquire();
  auto s = lease.session();
  EXPECT_EQ((*OrderJson(s, "o-1"))["status"], "CONFIRMED");
  EXPECT_EQ((*OrderJson(s, "o-2"))["reason"], "TIMEOUT");
}

TEST_F(OrderStoreTest, IdempotencyKeysAndListPages) {
  auto db = Pool("o_list");
  db->Transact([](db::Session& s) {
    for (int i = 0; i < 5; ++i) {
      auto o = Order("o-" + std::to_string(i), i < 3 ? "carol" : "dave", 30s);
      if (i == 0) o.idempotency_key = "key-1";
      InsertOrder(s, o);
    }
  });
  auto lease = db->Acquire();
  auto s = lease.session();
  EXPECT_EQ(OrderIdForKey(s, "carol", "key-1"), "o-0");
  EXPECT_EQ(OrderIdForKey(s, "dave", "key-1"), std::nullopt) << "keys are the customer's own";
  ListQuery q;
  q.customer_id = "carol";
  q.limit = 2;
  auto page = ListOrderIds(s, q);
  ASSERT_EQ(page.size(), 3u) << "one more than the limit: a next page exists";
  EXPECT_EQ(page[0].first, "o-2") << "newest first";
  q.after_seq = page[1].second;
  auto rest = ListOrderIds(s, q);
  ASSERT_EQ(rest.size(), 1u);
  EXPECT_EQ(rest[0].first, "o-0");
}

}  // namespace
}  // namespace op::order
