// The outbox and the event guard against a real MariaDB and each broker the
// platform runs on (TEST_BROKER: the dev broker or Apache Kafka).
#include <gtest/gtest.h>

#include <atomic>
#include <mutex>

#include "events/envelope.h"
#include "runtime/db/migrations.h"
#include "runtime/kafka/consumer.h"
#include "runtime/idempotency/event_guard.h"
#include "runtime/outbox/outbox.h"
#include "runtime/idempotency/schema.h"
#include "runtime/outbox/schema.h"
#include "testing/fixtures/broker.h"
#include "testing/fixtures/mariadb.h"

namespace op::outbox {
namespace {

using namespace std::chrono_literals;
using op::testing::WaitUntil;
using idempotency::EventGuard;

class OutboxTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    db_ = new testing::MariaDbServer();
    db_->Start();
    kafka_ = new testing::Broker(testing::Broker::FromEnv(), {"t.accounts"});
    kafka_->Start();
  }
  static void TearDownTestSuite() {
    delete kafka_;
    delete db_;
  }
  std::unique_ptr<db::ConnectionPool> Pool(const std::string& name) {
    db::DbOptions o;
    o.port = db_->Port();
    o.user = db_->User();
    o.password = db_->Password();
    o.database = name;
    o.create_database = true;
    auto pool = std::make_unique<db::ConnectionPool>(o);
    auto migrations = Migrations();
    for (auto& m : idempotency::Migrations()) migrations.push_back(std::move(m));
    db::Migrate(*pool, migrations);
    return pool;
  }
  kafka::ProducerOptions POpts() {
    kafka::ProducerOptions p;
    p.bootstrap_servers = kafka_->Bootstrap();
    return p;
  }
  kafka::ConsumerOptions COpts(std::string topic, std::string group) {
    kafka::ConsumerOptions c;
    c.bootstrap_servers = kafka_->Bootstrap();
    c.group_id = std::move(group);
    c.topics = {std::move(topic)};
    c.retry_backoff_initial = 20ms;
    c.retry_backoff_max = 100ms;
    return c;
  }
  static events::Envelope Created(const std::string& order, int64_t total) {
    auto e = events::NewEnvelope(order, "order-service");
    e.mutable_order_created()->set_customer_id("alice");
    e.mutable_order_created()->mutable_total()->set_cents(total);
    e.mutable_order_created()->mutable_total()->set_currency("EUR");
    auto* item = e.mutable_order_created()->add_items();  // a complete event: EnqueueEvent validates
    item->set_sku("SKU-1");
    item->set_quantity(1);
    events::SealEventType(e);
    return e;
  }
  static int64_t Count(db::ConnectionPool& pool, const std::string& sql) {
    auto rows = pool.Query(sql);
    rows.Next();
    return rows.Int("n");
  }
  static testing::MariaDbServer* db_;
  static testing::Broker* kafka_;
};
testing::MariaDbServer* OutboxTest::db_ = nullptr;
testing::Broker* OutboxTest::kafka_ = nullptr;

TEST_F(OutboxTest, EventsExistOnlyWithTheirStateChangeAndArePublishedInOrder) {
  auto pool = Pool("outbox_order");
  pool->Exec("CREATE TABLE orders (id VARCHAR(36) PRIMARY KEY, total BIGINT)");
  EXPECT_THROW(pool->Transact([&](db::Session& s) {
    s.Exec("INSERT INTO orders VALUES (?, ?)", "rolled-back", 1);
    EnqueueEvent(s, Created("rolled-back", 1));
    throw std::runtime_error("validation failed after the insert");
  }), std::runtime_error);
  EXPECT_EQ(Count(*pool, "SELECT COUNT(*) AS n FROM outbox"), 0) << "no event without its state change";

  std::vector<std::string> sent;
  for (int i = 0; i < 20; ++i) {
    auto e = Created("order-" + std::to_string(i % 2), i);
    sent.push_back(e.event_id());
    pool->Transact([&](db::Session& s) {
      s.Exec("INSERT INTO orders VALUES (?, ?)", e.event_id(), i);
      EnqueueEvent(s, e);
    });
  }
  kafka::Producer producer(POpts());
  OutboxRelay relay(*pool, producer);
  size_t published = 0;
  while (size_t n = relay.RelayOnce()) published += n;
  EXPECT_EQ(published, 20u);
  EXPECT_TRUE(relay.IsLeader());
  EXPECT_EQ(Count(*pool, "SELECT COUNT(*) AS n FROM outbox WHERE published_at IS NULL"), 0);

  std::mutex mu;
  std::map<std::string, std::vector<std::string>> per_key;
  kafka::Consumer consumer(COpts("order.events", "g-outbox-order"), [&](const kafka::InRecord& r) {
    auto e = events::Decode(r.value);
    ASSERT_TRUE(e);
    EXPECT_EQ(r.Header("event_type"), "OrderCreated");
    EXPECT_EQ(r.Header("event_id"), e->event_id());
    EXPECT_EQ(r.key, e->order_id());
    std::lock_guard lock(mu);
    per_key[r.key].push_back(e->event_id());
  }, nullptr);
  consumer.Start();
  ASSERT_TRUE(WaitUntil([&] { return consumer.Processed() == 20; }, 30s));
  std::lock_guard lock(mu);
  std::vector<std::string> expect0, expect1;
  for (size_t i = 0; i < sent.size(); ++i) (i % 2 ? expect1 : expect0).push_back(sent[i]);
  EXPECT_EQ(per_key["order-0"], expect0) << "per-key order follows commit order";
  EXPECT_EQ(per_key["order-1"], expect1);
}

TEST_F(OutboxTest, OnlyOneRelayPerDatabaseIsActive) {
  auto pool = Pool("outbox_leader");
  kafka::Producer producer(POpts());
  OutboxRelay a(*pool, producer), b(*pool, producer);
  a.RelayOnce();
  b.RelayOnce();
  EXPECT_TRUE(a.IsLeader());
  EXPECT_FALSE(b.IsLeader());
  a.Start();
  a.Stop();  // releases the lock
  b.RelayOnce();
  EXPECT_TRUE(b.IsLeader());
}

// The leader's poll is conditional on still holding the lock: once its lock
// connection is gone and another relay took over, the old one publishes
// nothing, even with rows waiting.
TEST_F(OutboxTest, ARelayThatLostItsLockPublishesNothing) {
  auto pool = Pool("outbox_lost");
  kafka::Producer producer(POpts());
  OutboxRelay a(*pool, producer), b(*pool, producer);
  a.RelayOnce();
  ASSERT_TRUE(a.IsLeader());
  db_->Sql("KILL CONNECTION " + std::to_string(std::stoll(db_->Sql("SELECT IS_USED_LOCK('outbox_lost.outbox-relay')"))));
  ASSERT_TRUE(WaitUntil([&] { b.RelayOnce(); return b.IsLeader(); }, 10s));
  for (int i = 0; i < 3; ++i) pool->Transact([&](db::Session& s) { EnqueueEvent(s, Created("o-lost", i)); });
  EXPECT_EQ(a.RelayOnce(), 0u);
  EXPECT_FALSE(a.IsLeader());
  EXPECT_EQ(b.RelayOnce(), 3u);
  EXPECT_EQ(a.RelayOnce(), 0u);
  EXPECT_EQ(Count(*pool, "SELECT COUNT(*) AS n FROM outbox WHERE published_at IS NULL"), 0);
}

// Each batch's "published" mark is the same statement text whatever the ids:
// the server does not get a new prepared statement per batch (it refuses new
// ones past max_prepared_stmt_count).
TEST_F(OutboxTest, MarkingBatchesPublishedPreparesNothingNew) {
  auto pool = Pool("outbox_prepares");
  kafka::Producer producer(POpts());
  OutboxRelay relay(*pool, producer);
  auto prepares = [&] { return std::stoll(db_->Sql("SHOW GLOBAL STATUS LIKE 'Com_stmt_prepare'").substr(17)); };
  auto batch = [&](int i) {
    pool->Transact([&](db::Session& s) { EnqueueEvent(s, Created("o-prep", i)); });
    return relay.RelayOnce();
  };
  for (int i = 0; i < 3; ++i) ASSERT_EQ(batch(i), 1u);  // every statement prepared once
  const auto before = prepares();
  for (int i = 3; i < 23; ++i) ASSERT_EQ(batch(i), 1u);
  EXPECT_EQ(prepares() - before, 0) << "20 batches of one, 20 different ids";
}

TEST_F(OutboxTest, ATransactionKnowsHowManyRecordsItEnqueued) {
  auto pool = Pool("outbox_enqueued");
  std::vector<size_t> seen;
  pool->Transact([&](db::Session& s) {
    seen.push_back(EnqueuedIn(s));
    EnqueueEvent(s, Created("o-count", 1));
    EnqueueEvent(s, Created("o-count", 2));
    seen.push_back(EnqueuedIn(s));
  });
  pool->Transact([&](db::Session& s) { seen.push_back(EnqueuedIn(s)); });
  EXPECT_EQ(seen, (std::vector<size_t>{0, 2, 0})) << "counted per transaction";
  auto lease = pool->Acquire();
  auto autocommit = lease.session();
  EXPECT_EQ(EnqueuedIn(autocommit), 0u);
}

TEST_F(OutboxTest, RelayLoopPublishesAfterWakeAndReportsBacklog) {
  auto pool = Pool("outbox_loop");
  kafka::Producer producer(POpts());
  metrics::MetricsRegistry metrics;
  OutboxRelay relay(*pool, producer, RelayOptions{}, &metrics);
  relay.Start();
  pool->Transact([&](db::Session& s) { EnqueueEvent(s, Created("o-loop", 5)); });
  relay.Wake();
  ASSERT_TRUE(WaitUntil([&] { return relay.Published() == 1; }, 10s));
  ASSERT_TRUE(WaitUntil([&] { return metrics.Scrape().find("outbox_backlog 0") != std::string::npos; }, 10s));
  EXPECT_NE(metrics.Scrape().find("outbox_records_published_total 1"), std::string::npos);
}

// The acceptance case: a handler failing mid-transaction leaves no
// effect, no processed_events row and an uncommitted offset; the redelivered
// record is then applied exactly once, and a duplicate delivery is skipped.
TEST_F(OutboxTest, GuardedHandlerAppliesEachEventExactlyOnceAcrossFailureAndDuplicates) {
  auto pool = Pool("guard_db");
  pool->Exec("CREATE TABLE account (id VARCHAR(20) PRIMARY KEY, balance BIGINT NOT NULL)");
  pool->Exec("INSERT INTO account VALUES ('alice', 10000)");
  EventGuard guard("payment-service");
  std::atomic<int> attempts{0};
  std::atomic<bool> checked_after_failure{false};
  kafka::Producer producer(POpts());
  kafka::Consumer consumer(COpts("t.accounts", "g-guard"), [&](const kafka::InRecord& r) {
    auto e = events::Decode(r.value);
    if (!e || events::Validate(*e)) throw kafka::PoisonRecord("invalid event");
    int attempt = ++attempts;
    if (attempt == 2) {  // the redelivery after the failure: nothing was left behind
      EXPECT_EQ(Count(*pool, "SELECT balance AS n FROM account"), 10000);
      EXPECT_EQ(Count(*pool, "SELECT COUNT(*) AS n FROM processed_events"), 0);
      checked_after_failure = true;
    }
    pool->Transact([&](db::Session& s) {
      if (!guard.MarkFirstDelivery(s, e->event_id(), &r)) return;
      s.Exec("UPDATE account SET balance = balance - ? WHERE id = 'alice'", e->order_created().total().cents());
      if (attempt == 1) throw std::runtime_error("crash after the effect, before commit");
    });
  }, &producer);
  consumer.Start();
  auto e = Created("order-guard", 4498);
  kafka::OutRecord rec{"t.accounts", e.order_id(), events::Encode(e), {}};
  ASSERT_TRUE(producer.SendSync(rec).ok);
  ASSERT_TRUE(WaitUntil([&] { return consumer.Processed() == 1; }, 30s));
  EXPECT_TRUE(checked_after_failure);
  ASSERT_TRUE(producer.SendSync(rec).ok);  // duplicate delivery of the same event
  ASSERT_TRUE(WaitUntil([&] { return consumer.Processed() == 2; }, 30s));
  EXPECT_EQ(Count(*pool, "SELECT balance AS n FROM account"), 10000 - 4498);
  EXPECT_EQ(Count(*pool, "SELECT COUNT(*) AS n FROM processed_events WHERE consumer_group = 'payment-service'"), 1);
  EXPECT_EQ(attempts.load(), 3);
}

TEST_F(OutboxTest, ABatchOfDeliveriesIsMarkedInOneInsertAndDuplicatesAreSortedOut) {
  auto pool = Pool("guard_batch");
  EventGuard guard("inventory-service");
  using D = EventGuard::Delivery;
  auto mark = [&](std::vector<D> batch) {
    return pool->Transact([&](db::Session& s) { return guard.MarkFirstDeliveries(s, batch); });
  };
  EXPECT_EQ(mark({{"e1"}, {"e2"}, {"e3"}}), (std::vector<bool>{true, true, true}));
  EXPECT_EQ(Count(*pool, "SELECT COUNT(*) AS n FROM processed_events"), 3);
  // e2 seen before, e4 twice in the same batch: the first of each is new
  EXPECT_EQ(mark({{"e4"}, {"e2"}, {"e5"}, {"e4"}}), (std::vector<bool>{true, false, true, false}));
  EXPECT_EQ(mark({{"e5"}}), (std::vector<bool>{false}));
  EXPECT_EQ(Count(*pool, "SELECT COUNT(*) AS n FROM processed_events"), 5);
  // rolled back with its transaction like a single mark
  EXPECT_THROW(pool->Transact([&](db::Session& s) {
    guard.MarkFirstDeliveries(s, {{"e6"}, {"e7"}});
    throw std::runtime_error("effect failed");
  }), std::runtime_error);
  EXPECT_EQ(mark({{"e6"}, {"e7"}}), (std::vector<bool>{true, true}));
}

}  // namespace
}  // namespace op::outbox
