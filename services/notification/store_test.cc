// notification-service's SQL against a real MariaDB: contacts and events that
// wait for them (also across two concurrent transactions), claims with a
// lease, marks.
#include "services/notification/store.h"

#include <gtest/gtest.h>

#include <future>
#include <thread>

#include "services/notification/schema.h"
#include "testing/fixtures/database.h"

namespace op::notification {
namespace {

using namespace std::chrono_literals;

class StoreTest : public testing::DatabaseTest {
 protected:
  std::unique_ptr<db::ConnectionPool> Pool(const std::string& name) {
    return testing::FreshDatabase(*server_, name, Migrations());
  }
  static EventText Paid(const std::string& event_id, const std::string& order_id) {
    return {event_id, order_id, "PaymentCompleted", {"Payment received for order " + order_id, "We charged 1.00 EUR."}};
  }
};

TEST_F(StoreTest, AnEventAwaitingItsContactBecomesNotificationsOnceTheContactIsStored) {
  auto db = Pool("n_await");
  auto log_only = [](const Contact& c) { return TargetsFor(c, false, false); };
  db->Transact([&](db::Session& s) {
    EXPECT_FALSE(FindContact(s, "o-1"));
    AwaitContact(s, Paid("e-1", "o-1"));
    AwaitContact(s, Paid("e-1", "o-1"));  // a redelivery changes nothing
    AwaitContact(s, Paid("e-2", "o-2"));
  });
  EXPECT_EQ(Scalar(*db, "SELECT COUNT(*) AS n FROM awaiting_contact"), 2);
  EXPECT_EQ(ResolveAwaiting(*db, 100, log_only), 0u) << "no contact yet";

  Contact c{"alice", "alice@example.com", std::nullopt};
  db->Transact([&](db::Session& s) { SaveContact(s, "o-1", c); });
  EXPECT_EQ(ResolveAwaiting(*db, 100, [](const Contact& c) { return TargetsFor(c, true, false); }), 1u);
  EXPECT_EQ(ResolveAwaiting(*db, 100, log_only), 0u) << "resolved once";
  EXPECT_EQ(Scalar(*db, "SELECT COUNT(*) AS n FROM awaiting_contact"), 1) << "o-2 still waits";
  auto list = ListNotifications(*db, {"o-1", std::nullopt});
  ASSERT_EQ(list["items"].size(), 1u);
  EXPECT_EQ(list["items"][0]["channel"], "email");
  EXPECT_EQ(list["items"][0]["customerId"], "alice");
  EXPECT_EQ(list["items"][0]["eventType"], "PaymentCompleted");
  EXPECT_EQ(list["items"][0]["status"], "PENDING");
  db->Transact([&](db::Session& s) { EXPECT_EQ(FindContact(s, "o-1")->email, "alice@example.com"); });
}

// The race ResolveAwaiting settles: an order's contact and one of its
// events stored at the same time, each transaction missing the other. After
// both commit, resolving leaves nothing stranded.
TEST_F(StoreTest, ConcurrentContactAndEventNeverStrandTheEvent) {
  auto db = Pool("n_race");
  Contact c{"bob", std::nullopt, std::nullopt};
  for (int round = 0; round < 20; ++round) {
    const std::string order = "o-" + std::to_string(round);
    auto contact = std::async(std::launch::async, [&] { db->Transact([&](db::Session& s) { SaveContact(s, order, c); }); });
    auto event = std::async(std::launch::async, [&] {
      db->Transact([&](db::Session& s) {
        auto e = Paid("e-" + order, order);
        if (auto found = FindContact(s, order)) AddNotifications(s, e, *found, TargetsFor(*found, false, false));
        else AwaitContact(s, e);
      });
    });
    contact.get();
    event.get();
  }
  ResolveAwaiting(*db, 100, [](const Contact& c) { return TargetsFor(c, false, false); });
  EXPECT_EQ(Scalar(*db, "SELECT COUNT(*) AS n FROM awaiting_contact"), 0);
  EXPECT_EQ(Scalar(*db, "SELECT COUNT(*) AS n FROM notifications WHERE channel = 'log'"), 20);
}

TEST_F(StoreTest, ClaimedRowsAreLeasedUntilMarkedOrTheLeaseEnds) {
  auto db = Pool("n_claim");
  Contact c{"carol", "carol@example.com", "+4915112345678"};
  db->Transact([&](db::Session& s) { AddNotifications(s, Paid("e-1", "o-1"), c, TargetsFor(c, true, true)); });
  auto first = MarkSentAndClaimDue(*db, {}, 20, 60s, "n-1#run-1");
  ASSERT_EQ(first.size(), 2u);
  EXPECT_EQ(first[0].attempts, 0);
  EXPECT_TRUE(MarkSentAndClaimDue(*db, {}, 20, 60s, "n-1#run-1").empty()) << "claimed rows are not due for another dispatcher";

  MarkFailed(*db, first[1].id, "connection refused", 0ms);  // due again at once
  auto again = MarkSentAndClaimDue(*db, {first[0].id}, 20, 60s, "n-1#run-1");
  ASSERT_EQ(again.size(), 1u);
  EXPECT_EQ(again[0].id, first[1].id);
  EXPECT_EQ(again[0].attempts, 1);
  EXPECT_EQ(CountPending(*db), 1);

  // A dispatcher that crashed holding a claim: once the lease ends, another takes it.
  db->Exec("UPDATE notifications SET next_attempt_at = CURRENT_TIMESTAMP(3) - INTERVAL 1 SECOND WHERE id = ?", again[0].id);
  EXPECT_EQ(MarkSentAndClaimDue(*db, {}, 20, 60s, "n-1#run-1").size(), 1u);

  MarkSentAndClaimDue(*db, {again[0].id}, 0, 60s, "n-1#run-1");
  MarkSentAndClaimDue(*db, {again[0].id}, 0, 60s, "n-1#run-1");  // a second mark changes nothing
  EXPECT_EQ(CountPending(*db), 0);
  auto list = ListNotifications(*db, {std::nullopt, "carol"});
  ASSERT_EQ(list["items"].size(), 2u);
  for (const auto& n : list["items"]) {
    EXPECT_EQ(n["status"], "SENT");
    EXPECT_FALSE(n["sentAt"].is_null());
  }
  EXPECT_EQ(Scalar(*db, "SELECT MAX(attempts) AS n FROM notifications"), 2);
}

// kill -9 of a dispatcher holding claims: its restart takes them back at
// once; another instance's claims stay theirs until their lease ends.
TEST_F(StoreTest, ARestartedInstanceTakesBackItsDeadRunsClaims) {
  auto db = Pool("n_restart");
  Contact c{"dave", "dave@example.com", "+4915112345678"};
  db->Transact([&](db::Session& s) { AddNotifications(s, Paid("e-1", "o-1"), c, TargetsFor(c, true, true)); });
  auto mine = MarkSentAndClaimDue(*db, {}, 1, 300s, "n-1:8083#run-1");
  auto theirs = MarkSentAndClaimDue(*db, {}, 1, 300s, "n-2:8083#run-1");
  ASSERT_EQ(mine.size() + theirs.size(), 2u);
  EXPECT_TRUE(MarkSentAndClaimDue(*db, {}, 20, 300s, "n-1:8083#run-2").empty()) << "leased";
  EXPECT_EQ(ReleaseEarlierRunsClaims(*db, "n-1:8083", "n-1:8083#run-2"), 1u);
  auto again = MarkSentAndClaimDue(*db, {}, 20, 300s, "n-1:8083#run-2");
  ASSERT_EQ(again.size(), 1u);
  EXPECT_EQ(again[0].id, mine[0].id);
  EXPECT_EQ(ReleaseEarlierRunsClaims(*db, "n-1:8083", "n-1:8083#run-2"), 0u) << "its own run's claims are kept";
}

}  // namespace
}  // namespace op::notification
