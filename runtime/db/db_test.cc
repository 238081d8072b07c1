// runtime/db against a real MariaDB server: the pool, transactions, errors,
// migrations (statements and locked rows: session_test.cc).
#include "runtime/db/db.h"

#include <gtest/gtest.h>

#include <atomic>
#include <barrier>
#include <thread>

#include "runtime/db/migrations.h"
#include "runtime/db/db_test_fixture.h"

namespace op::db {
namespace {

using namespace std::chrono_literals;


TEST_F(DbTest, TypedParamsNullsAndBinarySafeStrings) {
  ConnectionPool pool(Options("db_types"));
  pool.Exec("CREATE TABLE t (id BIGINT PRIMARY KEY, name VARCHAR(50) NULL, amount BIGINT, ok BOOL, data BLOB)");
  const std::string binary("a\0b\xff\x01", 5);
  pool.Exec("INSERT INTO t VALUES (?, ?, ?, ?, ?)", 1, "alice", int64_t(-4498), true, binary);
  pool.Exec("INSERT INTO t VALUES (?, ?, ?, ?, ?)", 2, std::optional<std::string>{}, int64_t(9'000'000'000), false, "");
  auto rows = pool.Query("SELECT * FROM t ORDER BY id");
  ASSERT_TRUE(rows.Next());
  EXPECT_EQ(rows.String("name"), "alice");
  EXPECT_EQ(rows.Int("amount"), -4498);
  EXPECT_TRUE(rows.Bool("ok"));
  EXPECT_EQ(rows.String("data"), binary);
  ASSERT_TRUE(rows.Next());
  EXPECT_TRUE(rows.IsNull("name"));
  EXPECT_EQ(rows.OptString("name"), std::nullopt);
  EXPECT_EQ(rows.Int("amount"), 9'000'000'000);
  EXPECT_FALSE(rows.Next());
}

TEST_F(DbTest, TransactionCommitsOrLeavesNoEffect) {
  ConnectionPool pool(Options("db_tx"));
  pool.Exec("CREATE TABLE acct (id INT PRIMARY KEY, balance BIGINT NOT NULL)");
  pool.Exec("INSERT INTO acct VALUES (1, 100), (2, 0)");
  pool.Transact([](Session& s) {
    s.Exec("UPDATE acct SET balance = balance - 30 WHERE id = 1");
    s.Exec("UPDATE acct SET balance = balance + 30 WHERE id = 2");
  });
  EXPECT_THROW(pool.Transact([](Session& s) {
    s.Exec("UPDATE acct SET balance = balance - 50 WHERE id = 1");
    throw std::runtime_error("handler failed mid-transaction");
  }),
               std::runtime_error);
  {
    auto rows = pool.Query("SELECT balance FROM acct ORDER BY id");
    rows.Next();
    EXPECT_EQ(rows.Int("balance"), 70) << "the failed transaction must leave no effect";
    rows.Next();
    EXPECT_EQ(rows.Int("balance"), 30);
  }
  EXPECT_EQ(pool.GetStats().active, 0);
}

TEST_F(DbTest, CallersOwnExceptionsPassThroughTransactionsUnchanged) {
  ConnectionPool pool(Options("db_passthrough"));
  struct DomainError : std::runtime_error {
    using std::runtime_error::runtime_error;
  };
  try {
    pool.Transact([](Session&) { throw DomainError("out of stock"); });
    FAIL();
  } catch (const DomainError& e) {
    EXPECT_STREQ(e.what(), "out of stock");
  }
  EXPECT_EQ(pool.GetStats().total, pool.GetStats().idle) << "the connection went back to the pool";
}

TEST_F(DbTest, AfterCommitHooksRunOnlyForTheCommittedAttempt) {
  ConnectionPool pool(Options("db_hooks"));
  pool.Exec("CREATE TABLE h (id INT PRIMARY KEY)");
  int committed = 0;
  pool.Transact([&](Session& s) {
    s.Exec("INSERT INTO h VALUES (1)");
    s.AfterCommit([&] { ++committed; });
  });
  EXPECT_EQ(committed, 1);
  EXPECT_THROW(pool.Transact([&](Session& s) {
    s.AfterCommit([&] { ++committed; });
    throw std::runtime_error("rolled back");
  }), std::runtime_error);
  EXPECT_EQ(committed, 1) << "no hook for a rolled-back transaction";
  pool.Transact([&](Session&) {});  // the same pooled connection: no stale hook fires
  EXPECT_EQ(committed, 1);
}

TEST_F(DbTest, TransactionLocalStateLastsOneAttempt) {
  ConnectionPool pool(Options("db_locals", 1));
  struct Seen {
    std::vector<int> ids;
  };
  // One connection: every attempt below gets the same one back.
  std::vector<size_t> sizes;
  pool.Transact([&](Session& s) {
    s.Local<Seen>().ids.push_back(1);
    s.Local<Seen>().ids.push_back(2);
    s.Local<std::string>() = "another type, another slot";
    sizes.push_back(s.Local<Seen>().ids.size());
  });
  EXPECT_THROW(pool.Transact([&](Session& s) {
    sizes.push_back(s.Local<Seen>().ids.size());
    s.Local<Seen>().ids.push_back(3);
    throw std::runtime_error("rolled back");
  }), std::runtime_error);
  pool.Transact([&](Session& s) {
    sizes.push_back(s.Local<Seen>().ids.size());
    EXPECT_EQ(s.Local<std::string>(), "");
  });
  EXPECT_EQ(sizes, (std::vector<size_t>{2, 0, 0})) << "nothing carries over from a committed or rolled-back attempt";
  auto lease = pool.Acquire();
  auto session = lease.session();
  EXPECT_THROW(session.Local<Seen>(), std::logic_error) << "autocommit has no transaction to scope it";
}

TEST_F(DbTest, DuplicateKeyIsClassified) {
  ConnectionPool pool(Options("db_dup"));
  pool.Exec("CREATE TABLE k (id VARCHAR(36) PRIMARY KEY)");
  pool.Exec("INSERT INTO k VALUES (?)", "x");
  try {
    pool.Exec("INSERT INTO k VALUES (?)", "x");
    FAIL();
  } catch (const DuplicateKey& e) {
    EXPECT_EQ(e.code(), 1062);
    EXPECT_NE(std::string(e.what()).find("db_dup"), std::string::npos) << "error names the database";
  }
  EXPECT_THROW(pool.Exec("SELEC nonsense"), DbError);
}

TEST_F(DbTest, DataTheDatabaseRefusesIsClassifiedAsSuch) {
  ConnectionPool pool(Options("db_data_errors"));
  pool.Exec("CREATE TABLE d (id BIGINT PRIMARY KEY, code VARCHAR(3) NOT NULL, n INT NOT NULL, CONSTRAINT positive CHECK (n > 0))");
  auto refused = [&](const std::string& sql) {
    try {
      pool.Exec(sql);
    } catch (const DbError& e) {
      return ConnectionPool::IsDataError(e);
    }
    ADD_FAILURE() << sql << " was accepted";
    return false;
  };
  EXPECT_TRUE(refused("INSERT INTO d VALUES (1, 'toolong', 1)"));
  EXPECT_TRUE(refused("INSERT INTO d VALUES (1, 'abc', 99999999999)"));
  EXPECT_TRUE(refused("INSERT INTO d VALUES (1, 'abc', 0)"));
  EXPECT_TRUE(refused("INSERT INTO d VALUES (1, NULL, 1)"));
  pool.Exec("INSERT INTO d VALUES (1, 'abc', 1)");
  try {
    pool.Exec("INSERT INTO d VALUES (1, 'abc', 1)");
    ADD_FAILURE() << "duplicate accepted";
  } catch (const DuplicateKey& e) {
    EXPECT_FALSE(ConnectionPool::IsDataError(e)) << "a duplicate depends on what is there, not on the data alone";
  }
}

TEST_F(DbTest, DeadlockedTransactionIsRetriedAndBothSucceed) {
  ConnectionPool pool(Options("db_deadlock"));
  pool.Exec("CREATE TABLE r (id INT PRIMARY KEY, v INT) ENGINE=InnoDB");
  pool.Exec("INSERT INTO r VALUES (1, 0), (2, 0)");
  std::barrier both_locked_first(2);
  std::atomic<int> attempts{0};
  auto worker = [&](int first, int second) {
    bool synced = false;
    pool.Transact([&](Session& s) {
      ++attempts;
      s.Exec("UPDATE r SET v = v + 1 WHERE id = ?", first);
      if (!synced) {  // only the first attempt waits, so the retry can finish
        synced = true;
        both_locked_first.arrive_and_wait();
      }
      s.Exec("UPDATE r SET v = v + 1 WHERE id = ?", second);
    });
  };
  std::thread a(worker, 1, 2), b(worker, 2, 1);
  a.join();
  b.join();
  EXPECT_EQ(attempts.load(), 3) << "exactly one side deadlocked and was re-run";
  auto rows = pool.Query("SELECT SUM(v) AS s FROM r");
  rows.Next();
  EXPECT_EQ(rows.Int("s"), 4);
}

// Transactions end with COMMIT AND CHAIN: the next one on the connection
// sends no START TRANSACTION, and an autocommit statement on it still commits.
TEST_F(DbTest, ChainedCommitsSaveTheStartAndAutocommitStillCommits) {
  ConnectionPool pool(Options("db_chain", 1));  // one connection: every call below reuses it
  pool.Exec("CREATE TABLE c (id INT PRIMARY KEY)");
  auto begins = [&] { return std::stoll(server_->Sql("SHOW GLOBAL STATUS LIKE 'Com_begin'").substr(10)); };
  auto visible = [&] { return server_->Sql("SELECT COUNT(*) FROM db_chain.c"); };
  const auto before = begins();
  for (int i = 0; i < 10; ++i) pool.Transact([&](Session& s) { s.Exec("INSERT INTO c VALUES (?)", i); });
  EXPECT_EQ(begins() - before, 1) << "only the first transaction started with START TRANSACTION";
  EXPECT_EQ(visible(), "10\n") << "every chained transaction committed";

  pool.Exec("INSERT INTO c VALUES (100)");  // outside a transaction, on the chained connection
  EXPECT_EQ(visible(), "11\n") << "an autocommit statement after a chained commit is committed at once";

  EXPECT_THROW(pool.Transact([&](Session& s) {
    s.Exec("INSERT INTO c VALUES (200)");
    throw std::runtime_error("rolled back");
  }), std::runtime_error);
  pool.Transact([&](Session& s) { s.Exec("INSERT INTO c VALUES (201)"); });
  EXPECT_EQ(server_->Sql("SELECT GROUP_CONCAT(id ORDER BY id) FROM db_chain.c WHERE id >= 100"), "100,201\n")
      << "a rollback ends the chain: the next transaction starts clean";

  auto off = Options("db_chain", 1);
  off.chain_transactions = false;
  ConnectionPool unchained(off);
  const auto before_off = begins();
  for (int i = 0; i < 3; ++i) unchained.Transact([&](Session& s) { s.Exec("INSERT INTO c VALUES (?)", 300 + i); });
  EXPECT_EQ(begins() - before_off, 3) << "mysql.chain-transactions off: a START per transaction";
}

// Rows from the pool keep their connection: nobody else can run a statement
// over them before they are read.
TEST_F(DbTest, RowsFromThePoolHoldTheirConnectionUntilGone) {
  ConnectionPool pool(Options("db_rows", 1));
  pool.Exec("CREATE TABLE t (id INT PRIMARY KEY)");
  pool.Exec("INSERT INTO t VALUES (1), (2)");
  {
    auto rows = pool.Query("SELECT id FROM t ORDER BY id");
    EXPECT_EQ(pool.GetStats().active, 1);
    EXPECT_THROW(pool.Acquire(), DbUnavailable) << "the only connection is the rows'";
    ASSERT_TRUE(rows.Next());
    EXPECT_EQ(rows.Int("id"), 1);
  }
  EXPECT_EQ(pool.GetStats().active, 0);
  EXPECT_EQ(pool.Query("SELECT COUNT(*) AS n FROM t").Count(), 1u);
}

TEST_F(DbTest, PoolTimesOutWhenExhausted) {
  ConnectionPool pool(Options("db_pool", 1));
  auto held = pool.Acquire();
  try {
    pool.Acquire();
    FAIL();
  } catch (const DbUnavailable& e) {
    EXPECT_NE(std::string(e.what()).find("no database connection free within 500 ms"), std::string::npos);
  }
  EXPECT_EQ(pool.GetStats().timeouts, 1u);
}

TEST_F(DbTest, UnreachableDatabaseIsUnavailableNamingTheAddress) {
  DbOptions o = Options("db_none");
  o.port = testing::FreePort();
  o.create_database = false;
  ConnectionPool pool(o);
  std::string err;
  EXPECT_FALSE(pool.Ping(&err));
  EXPECT_NE(err.find("127.0.0.1:" + std::to_string(o.port)), std::string::npos) << err;
  EXPECT_THROW(pool.Exec("SELECT 1"), DbUnavailable);
  EXPECT_EQ(pool.GetStats().total, 0) << "failed opens give their slot back";
}

TEST_F(DbTest, MigrationsApplyOnceInOrderAndDetectEdits) {
  ConnectionPool pool(Options("db_migrate"));
  std::vector<Migration> v = {
      {2, "add email", "ALTER TABLE customer ADD COLUMN email VARCHAR(100) NULL"},
      {1, "create customer", "CREATE TABLE customer (id INT PRIMARY KEY); -- comment; with semicolon\n"
                             "INSERT INTO customer VALUES (1); INSERT INTO customer VALUES (2)"},
  };
  auto first = Migrate(pool, v);
  EXPECT_EQ(first.applied, (std::vector<int>{1, 2}));
  EXPECT_EQ(first.current_version, 2);
  EXPECT_TRUE(Migrate(pool, v).applied.empty());
  auto rows = pool.Query("SELECT COUNT(*) AS n FROM customer WHERE email IS NULL");
  rows.Next();
  EXPECT_EQ(rows.Int("n"), 2);

  auto edited = v;
  edited[1].sql += "; INSERT INTO customer VALUES (3)";
  try {
    Migrate(pool, edited);
    FAIL();
  } catch (const DbError& e) {
    EXPECT_NE(std::string(e.what()).find("V1 (create customer) was changed"), std::string::npos) << e.what();
  }
  v.push_back({3, "broken", "CREATE TABLE broken (id INT PRIMARY KEY"});
  try {
    Migrate(pool, v);
    FAIL();
  } catch (const DbError& e) {
    EXPECT_NE(std::string(e.what()).find("migration V3 (broken) failed"), std::string::npos) << e.what();
  }
}

TEST(SplitStatements, RespectsQuotesAndComments) {
  auto parts = SplitStatements("INSERT INTO t VALUES ('a;b'); /* x; y */ SELECT \"c;\"; -- z;\n SELECT 1;");
  ASSERT_EQ(parts.size(), 3u);
  EXPECT_NE(parts[0].find("'a;b'"), std::string::npos);
}

// Last: restarts the shared server.
TEST_F(DbTest, ZZPoolRecoversAfterTheDatabaseRestarts) {
  ConnectionPool pool(Options("db_restart"));
  ASSERT_TRUE(pool.Ping());
  server_->Kill();
  EXPECT_THROW(pool.Exec("SELECT 1"), DbUnavailable);
  server_->Start();
  EXPECT_TRUE(op::testing::WaitUntil([&] { return pool.Ping(); }, 10s)) << "broken connections are dropped";
}

}  // namespace
}  // namespace op::db
