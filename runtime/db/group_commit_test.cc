// runtime/db GroupCommit against a real MariaDB server.
#include "runtime/db/group_commit.h"

#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <mutex>
#include <set>
#include <stdexcept>
#include <thread>

#include "testing/fixtures/mariadb.h"

namespace op::db {
namespace {

using namespace std::chrono_literals;

class GroupCommitTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    server_ = new testing::MariaDbServer();
    server_->Start();
  }
  static void TearDownTestSuite() { delete server_; }

  std::unique_ptr<ConnectionPool> Pool(const std::string& db) {
    DbOptions o;
    o.port = server_->Port();
    o.user = server_->User();
    o.password = server_->Password();
    o.database = db;
    o.pool_size = 4;
    o.acquire_timeout = 2s;
    o.create_database = true;
    auto pool = std::make_unique<ConnectionPool>(o);
    pool->Exec("CREATE TABLE t (id INT PRIMARY KEY, who VARCHAR(20) NOT NULL)");
    return pool;
  }
  int64_t Status(const std::string& name) {
    return std::stoll(server_->Sql("SHOW GLOBAL STATUS LIKE '" + name + "'").substr(name.size() + 1));
  }
  // Until `group` has `n` callers waiting (polled: the callers' threads get there on their own).
  static void AwaitWaiting(const GroupCommit& group, size_t n) {
    for (auto until = std::chrono::steady_clock::now() + 10s; group.waiting() < n;) {
      ASSERT_LT(std::chrono::steady_clock::now(), until) << "callers never arrived";
      std::this_thread::sleep_for(1ms);
    }
  }

  static testing::MariaDbServer* server_;
};
testing::MariaDbServer* GroupCommitTest::server_ = nullptr;

constexpr const char* kInsert = "INSERT INTO t (id, who) VALUES";

TEST_F(GroupCommitTest, CallersArrivingDuringACommitShareTheNextOne) {
  auto pool = Pool("group_share");
  metrics::MetricsRegistry metrics;
  GroupCommit group(*pool, 64, &metrics, "orders");
  std::atomic<bool> inside{false}, release{false};
  std::atomic<int> committed{0};
  // The first caller's writes hold the committer inside its transaction until four more
  // callers wait: they must then go together, in one transaction.
  std::thread first([&] {
    group.Run([&](Session& s) {
      s.DeferInsert(kInsert, {int64_t(0), std::string("first")});
      inside = true;
      while (!release) std::this_thread::sleep_for(1ms);
      s.AfterCommit([&] { ++committed; });
    });
  });
  while (!inside) std::this_thread::sleep_for(1ms);
  const auto commits = Status("Com_commit"), inserts = Status("Com_insert");
  std::vector<std::thread> others;
  for (int i = 1; i <= 4; ++i)
    others.emplace_back([&, i] {
      group.Run([&, i](Session& s) {
        s.DeferInsert(kInsert, {int64_t(i), std::string("other")});
        s.AfterCommit([&] { ++committed; });
      });
    });
  AwaitWaiting(group, 4);
  release = true;
  first.join();
  for (auto& t : others) t.join();
  EXPECT_EQ(committed, 5) << "every caller's after-commit hook ran";
  EXPECT_EQ(server_->Sql("SELECT COUNT(*) FROM group_share.t"), "5\n");
  EXPECT_EQ(Status("Com_commit") - commits, 2) << "the first caller's commit, then one for the four";
  EXPECT_EQ(Status("Com_insert") - inserts, 2) << "one multi-row insert per group";
  auto scrape = metrics.Scrape();
  EXPECT_NE(scrape.find("db_group_commit_size_count{group=\"orders\"} 2"), std::string::npos) << scrape;
  EXPECT_NE(scrape.find("db_group_commit_size_sum{group=\"orders\"} 5"), std::string::npos) << scrape;
}

TEST_F(GroupCommitTest, AFailureReachesOnlyItsOwnCaller) {
  auto pool = Pool("group_failure");
  pool->Exec("INSERT INTO t VALUES (100, 'already there')");
  metrics::MetricsRegistry metrics;
  GroupCommit group(*pool, 64, &metrics, "orders");
  std::atomic<bool> inside{false}, release{false};
  std::thread first([&] {
    group.Run([&](Session& s) {
      s.DeferInsert(kInsert, {int64_t(0), std::string("first")});
      inside = true;
      while (!release) std::this_thread::sleep_for(1ms);
    });
  });
  while (!inside) std::this_thread::sleep_for(1ms);
  std::atomic<int> ok{0}, duplicate{0}, own{0};
  std::vector<std::thread> others;
  for (int i = 1; i <= 6; ++i)
    others.emplace_back([&, i] {
      try {
        group.Run([&, i](Session& s) {
          if (i == 2) throw std::invalid_argument("the caller's own error");
          s.DeferInsert(kInsert, {int64_t(i == 4 ? 100 : i), std::string("other")});
        });
        ++ok;
      } catch (const DuplicateKey&) {
        ++duplicate;
      } catch (const std::invalid_argument&) {
        ++own;
      }
    });
  AwaitWaiting(group, 6);
  release = true;
  first.join();
  for (auto& t : others) t.join();
  EXPECT_EQ(ok, 4);
  EXPECT_EQ(duplicate, 1) << "the caller that inserted a taken key";
  EXPECT_EQ(own, 1) << "the caller whose writes threw";
  EXPECT_EQ(server_->Sql("SELECT GROUP_CONCAT(id ORDER BY id) FROM group_failure.t"), "0,1,3,5,6,100\n");
  auto scrape = metrics.Scrape();
  EXPECT_NE(scrape.find("db_group_commit_split_total{group=\"orders\"} 1"), std::string::npos) << scrape;
}

TEST_F(GroupCommitTest, AnUnavailableDatabaseFailsTheWholeGroupAtOnce) {
  DbOptions o;
  o.port = server_->Port();
  o.user = server_->User();
  o.password = server_->Password();
  o.database = "group_unavailable";
  o.pool_size = 1;
  o.acquire_timeout = 3s;  // ample for the three callers below to queue behind the first
  o.create_database = true;
  ConnectionPool pool(o);
  GroupCommit group(pool);
  auto held = pool.Acquire();  // the only connection: every group's acquire times out
  std::atomic<int> unavailable{0};
  std::vector<std::thread> callers;
  auto call = [&] {
    try {
      group.Run([](Session&) {});
    } catch (const DbUnavailable&) {
      ++unavailable;
    }
  };
  callers.emplace_back(call);  // the committer takes it alone and waits for a connection
  while (pool.GetStats().pending != 1) std::this_thread::sleep_for(1ms);
  for (int i = 0; i < 3; ++i) callers.emplace_back(call);  // the next group, together
  AwaitWaiting(group, 3);
  for (auto& t : callers) t.join();
  EXPECT_EQ(unavailable, 4);
  EXPECT_EQ(pool.GetStats().timeouts, 2u) << "one wait for the first group, one for the other three, not one each";
}

// Sixteen threads, 25 callers each, groups of at most 8: every row once.
TEST_F(GroupCommitTest, ManyCallersAllCommitOnce) {
  auto pool = Pool("group_many");
  GroupCommit group(*pool, 8);
  std::vector<std::thread> threads;
  for (int t = 0; t < 16; ++t)
    threads.emplace_back([&, t] {
      for (int i = 0; i < 25; ++i)
        group.Run([&, t, i](Session& s) { s.DeferInsert(kInsert, {int64_t(t * 100 + i), std::string("many")}); });
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(server_->Sql("SELECT COUNT(*), COUNT(DISTINCT id) FROM group_many.t"), "400\t400\n");
  EXPECT_EQ(group.waiting(), 0u);
}

// With committer threads: Submit() returns at once, everything queued while a
// group commits goes in the next one, and each caller hears of its own
// outcome on a committer thread.
TEST_F(GroupCommitTest, SubmittedWritesQueueIntoTheNextGroupAndEachHearsItsOwnOutcome) {
  auto pool = Pool("group_submit");
  pool->Exec("INSERT INTO t VALUES (100, 'already there')");
  metrics::MetricsRegistry metrics;
  GroupCommit group(*pool, 64, &metrics, "orders", /*committers=*/1);
  std::atomic<bool> inside{false}, release{false};
  std::mutex mu;
  std::map<int, std::string> outcome;  // caller -> "ok", or the error's type
  std::set<std::thread::id> done_threads;
  auto done = [&](int i) {
    return [&, i](std::exception_ptr e) {
      std::string what = "ok";
      try {
        if (e) std::rethrow_exception(e);
      } catch (const DuplicateKey&) {
        what = "duplicate";
      } catch (const std::invalid_argument&) {
        what = "own error";
      }
      std::lock_guard lock(mu);
      outcome[i] = what;
      done_threads.insert(std::this_thread::get_id());
    };
  };
  group.Submit([&](Session& s) {
    s.DeferInsert(kInsert, {int64_t(0), std::string("first")});
    inside = true;
    while (!release) std::this_thread::sleep_for(1ms);
  }, done(0));
  while (!inside) std::this_thread::sleep_for(1ms);
  const auto commits = Status("Com_commit");
  for (int i = 1; i <= 6; ++i)  // from this one thread: nobody blocks
    group.Submit([i](Session& s) {
      if (i == 2) throw std::invalid_argument("the caller's own error");
      s.DeferInsert(kInsert, {int64_t(i == 4 ? 100 : i), std::string("other")});
    }, done(i));
  EXPECT_EQ(group.waiting(), 6u);
  release = true;
  for (auto until = std::chrono::steady_clock::now() + 10s;;) {
    {
      std::lock_guard lock(mu);
      if (outcome.size() == 7) break;
    }
    ASSERT_LT(std::chrono::steady_clock::now(), until) << "not every caller heard back";
    std::this_thread::sleep_for(1ms);
  }
  EXPECT_EQ(outcome, (std::map<int, std::string>{{0, "ok"}, {1, "ok"}, {2, "own error"}, {3, "ok"},
                                                 {4, "duplicate"}, {5, "ok"}, {6, "ok"}}));
  EXPECT_EQ(done_threads.size(), 1u);
  EXPECT_FALSE(done_threads.count(std::this_thread::get_id())) << "outcomes arrive on the committer thread";
  EXPECT_EQ(server_->Sql("SELECT GROUP_CONCAT(id ORDER BY id) FROM group_submit.t"), "0,1,3,5,6,100\n");
  // The first group; the group of six fails, and is retried one by one: four commit, two fail.
  EXPECT_EQ(Status("Com_commit") - commits, 1 + 4) << "the first group and the four successful retries";
  auto scrape = metrics.Scrape();
  EXPECT_NE(scrape.find("db_group_commit_split_total{group=\"orders\"} 1"), std::string::npos) << scrape;
}

TEST_F(GroupCommitTest, NeedsACommitterThread) {
  auto pool = Pool("group_no_committers");
  EXPECT_THROW(GroupCommit(*pool, 8, nullptr, "none", 0), std::invalid_argument);
}

// Destroying the group commit commits what is queued and tells its callers.
TEST_F(GroupCommitTest, DestructionCommitsWhatIsQueued) {
  auto pool = Pool("group_drain");
  std::atomic<int> committed{0};
  {
    GroupCommit group(*pool, 4, nullptr, "drain", /*committers=*/2);
    for (int i = 0; i < 40; ++i)
      group.Submit([i](Session& s) { s.DeferInsert(kInsert, {int64_t(i), std::string("drain")}); },
                   [&](std::exception_ptr e) { committed += e ? 0 : 1; });
  }
  EXPECT_EQ(committed, 40);
  EXPECT_EQ(server_->Sql("SELECT COUNT(*) FROM group_drain.t"), "40\n");
}

// Blocking callers on a group commit with committer threads: every row once.
TEST_F(GroupCommitTest, RunWithCommitterThreadsBlocksUntilCommitted) {
  auto pool = Pool("group_run_committers");
  GroupCommit group(*pool, 8, nullptr, "run", /*committers=*/2);
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t)
    threads.emplace_back([&, t] {
      for (int i = 0; i < 10; ++i) {
        group.Run([&, t, i](Session& s) { s.DeferInsert(kInsert, {int64_t(t * 100 + i), std::string("run")}); });
        // Committed when Run returns: visible to a new transaction at once.
        ASSERT_EQ(pool->Query("SELECT who FROM t WHERE id = ?", int64_t(t * 100 + i)).Next(), true);
      }
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(server_->Sql("SELECT COUNT(*), COUNT(DISTINCT id) FROM group_run_committers.t"), "80\t80\n");
}

}  // namespace
}  // namespace op::db
