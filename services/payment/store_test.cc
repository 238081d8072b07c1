// payment-service's SQL against a real MariaDB.
#include "services/payment/store.h"

#include <gtest/gtest.h>

#include "services/payment/schema.h"
#include "testing/fixtures/database.h"

namespace op::payment {
namespace {

using namespace std::chrono_literals;

class PaymentStoreTest : public testing::DatabaseTest {
 protected:
  std::unique_ptr<db::ConnectionPool> Pool(const std::string& name) {
    return testing::FreshDatabase(*server_, name, Migrations());
  }
};

TEST_F(PaymentStoreTest, SetAndDepositKeepTheLedgerInStepWithTheBalance) {
  auto db = Pool("p_accounts");
  auto [created, was_new] = db->Transact([](db::Session& s) { return SetBalance(s, "alice", 1000); });
  EXPECT_TRUE(was_new);
  EXPECT_EQ(created.balance_cents, 1000);
  auto [set, again_new] = db->Transact([](db::Session& s) { return SetBalance(s, "alice", 700); });
  EXPECT_FALSE(again_new);
  EXPECT_EQ(set.balance_cents, 700);
  auto deposited = db->Transact([](db::Session& s) { return Deposit(s, "alice", 50); });
  ASSERT_TRUE(deposited);
  EXPECT_EQ(deposited->balance_cents, 750);
  EXPECT_FALSE(db->Transact([](db::Session& s) { return Deposit(s, "nobody", 50); }));
  EXPECT_EQ(Scalar(*db, "SELECT SUM(delta_cents) AS n FROM ledger WHERE customer_id = 'alice'"), 750);
  EXPECT_EQ(AccountJson(*deposited), (nlohmann::json{{"customerId", "alice"}, {"balanceCents", 750}}));
}

TEST_F(PaymentStoreTest, ABatchLocksItsAccountsOnceAndWritesBackOnlyTheChanged) {
  auto db = Pool("p_batch");
  SeedDemoAccounts(*db);
  SeedDemoAccounts(*db);  // existing rows are kept
  db->Transact([](db::Session& s) {
    Balances b;
    LockAccounts(s, b, {"alice", "bob", "nobody"});
    EXPECT_EQ(b.rows.at("alice"), 500000);
    EXPECT_EQ(b.rows.at("nobody"), std::nullopt);
    b.Change("alice") -= 1999;
    WriteBalances(s, b);
    InsertPayment(s, {"o-1", "p-1", "alice", "EUR", "CAPTURED", 1999, std::nullopt, std::nullopt});
    InsertLedgerLine(s, "alice", "o-1", "CHARGE", -1999);
  });
  EXPECT_EQ(Scalar(*db, "SELECT balance_cents AS n FROM accounts WHERE customer_id = 'alice'"), 498001);
  EXPECT_EQ(Scalar(*db, "SELECT balance_cents AS n FROM accounts WHERE customer_id = 'bob'"), 20000);

  db->Transact([](db::Session& s) {
    EXPECT_EQ(CustomersOfCaptures(s, {std::string("o-1"), std::string("o-unknown")}), std::set<std::string>{"alice"});
    auto capture = FindCapture(s, "o-1");
    ASSERT_TRUE(capture);
    EXPECT_EQ(capture->amount_cents, 1999);
    EXPECT_EQ(capture->payment_id, "p-1");
    MarkRefunded(s, "o-1");
    EXPECT_FALSE(FindCapture(s, "o-1")) << "refunded once";
  });
  EXPECT_EQ(Scalar(*db, "SELECT COUNT(*) AS n FROM payments WHERE status = 'REFUNDED' AND refunded_at IS NOT NULL"), 1);
}

}  // namespace
}  // namespace op::payment
