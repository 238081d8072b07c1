// runtime/db's statements against a real MariaDB server: deferred and
// multi-row inserts, rows updated and locked by key, LockedRows, the
// prepared-statement cache, padded IN lists.
#include <gtest/gtest.h>

#include <atomic>
#include <barrier>
#include <thread>

#include "runtime/db/db_test_fixture.h"

namespace op::db {
namespace {

using namespace std::chrono_literals;

TEST_F(DbTest, RowsLockedInKeyOrderUpFrontCannotDeadlock) {
  // Pairs of transactions updating the same two rows in opposite orders, as
  // two batches of events do: with both rows locked first in key order, the
  // second waits for the first and none deadlocks (none is re-run).
  ConnectionPool pool(Options("db_lockorder", 4));
  pool.Exec("CREATE TABLE stock (sku VARCHAR(32) PRIMARY KEY, n INT) ENGINE=InnoDB");
  pool.Exec("INSERT INTO stock VALUES ('sku-a', 0), ('sku-b', 0)");
  EXPECT_EQ(InList(3), "?, ?, ?");
  std::atomic<int> attempts{0}, locked{0};
  auto worker = [&](std::vector<std::string> order) {
    for (int i = 0; i < 100; ++i)
      pool.Transact([&](Session& s) {
        ++attempts;
        auto rows = s.LockRows("stock", "sku", "n", {order.begin(), order.end()});
        while (rows.Next()) ++locked;
        for (const auto& sku : order) s.Exec("UPDATE stock SET n = n + 1 WHERE sku = ?", sku);
      });
  };
  std::thread a(worker, std::vector<std::string>{"sku-a", "sku-b"}), b(worker, std::vector<std::string>{"sku-b", "sku-a"});
  a.join();
  b.join();
  EXPECT_EQ(attempts.load(), 200) << "a transaction deadlocked and was re-run";
  EXPECT_EQ(locked.load(), 400);
  auto rows = pool.Query("SELECT SUM(n) AS s FROM stock");
  rows.Next();
  EXPECT_EQ(rows.Int("s"), 400);
}

// Deferred rows are written at commit, one multi-row insert per table, in the
// order deferred; nothing on rollback; at once outside a transaction.
TEST_F(DbTest, DeferredInsertsGoInOneStatementAtCommit) {
  ConnectionPool pool(Options("db_defer", 1));
  pool.Exec("CREATE TABLE ev (id INT AUTO_INCREMENT PRIMARY KEY, name VARCHAR(20) NOT NULL UNIQUE)");
  pool.Exec("CREATE TABLE other (v INT)");
  auto inserts = [&] { return std::stoll(server_->Sql("SHOW GLOBAL STATUS LIKE 'Com_stmt_execute'").substr(17)); };
  const auto before = inserts();
  pool.Transact([&](Session& s) {
    for (std::string n : {"a", "b", "c"}) s.DeferInsert("INSERT INTO ev (name) VALUES", {n});
    s.DeferInsert("INSERT INTO other (v) VALUES", {int64_t(7)});
    auto seen = s.Query("SELECT COUNT(*) AS n FROM ev");
    seen.Next();
    EXPECT_EQ(seen.Int("n"), 0) << "not written before the commit";
  });
  EXPECT_EQ(inserts() - before, 3) << "the SELECT, then one insert per table";
  EXPECT_EQ(server_->Sql("SELECT GROUP_CONCAT(name ORDER BY id) FROM db_defer.ev"), "a,b,c\n");
  EXPECT_EQ(server_->Sql("SELECT v FROM db_defer.other"), "7\n");

  EXPECT_THROW(pool.Transact([&](Session& s) {
    s.DeferInsert("INSERT INTO ev (name) VALUES", {std::string("lost")});
    throw std::runtime_error("rolled back");
  }), std::runtime_error);
  EXPECT_THROW(pool.Transact([&](Session& s) {  // the flush fails: nothing of the transaction stays
    s.Exec("INSERT INTO other (v) VALUES (8)");
    s.DeferInsert("INSERT INTO ev (name) VALUES", {std::string("a")});
  }), DuplicateKey);
  EXPECT_EQ(server_->Sql("SELECT COUNT(*) FROM db_defer.ev"), "3\n");
  EXPECT_EQ(server_->Sql("SELECT COUNT(*) FROM db_defer.other"), "1\n");

  pool.Acquire().session().DeferInsert("INSERT INTO ev (name) VALUES", {std::string("now")});
  EXPECT_EQ(server_->Sql("SELECT COUNT(*) FROM db_defer.ev WHERE name = 'now'"), "1\n") << "autocommit: at once";

  // A suffix settles duplicates; rows with another suffix go in a statement of their own.
  const auto before_suffix = inserts();
  pool.Transact([&](Session& s) {
    for (std::string n : {"a", "d"}) s.DeferInsert("INSERT INTO ev (name) VALUES", {n}, " ON DUPLICATE KEY UPDATE id = id");
    s.DeferInsert("INSERT INTO ev (name) VALUES", {std::string("e")});
  });
  EXPECT_EQ(inserts() - before_suffix, 2);
  EXPECT_EQ(server_->Sql("SELECT GROUP_CONCAT(name ORDER BY id) FROM db_defer.ev"), "a,b,c,now,d,e\n");
}

// The server holds every prepared statement until it is closed, and refuses
// new ones past max_prepared_stmt_count: a connection keeps only its most
// recently used ones open.
TEST_F(DbTest, RowsUpdatedByKeyInOneStatement) {
  ConnectionPool pool(Options("db_update_rows", 1));
  pool.Exec("CREATE TABLE u (id VARCHAR(8) PRIMARY KEY, a VARCHAR(20) NOT NULL, n BIGINT NULL)");
  pool.Exec("INSERT INTO u VALUES ('x', 'x0', 1), ('y', 'y0', 2), ('z', 'z0', 3)");
  auto executes = [&] { return std::stoll(server_->Sql("SHOW GLOBAL STATUS LIKE 'Com_stmt_execute'").substr(17)); };
  const std::string_view columns[] = {"a", "n"};
  const auto before = executes();
  std::vector<std::vector<Param>> rows = {{std::string("z"), std::string("z1"), nullptr},
                                          {std::string("x"), std::string("x1"), int64_t(10)}};
  EXPECT_EQ(pool.Acquire().session().UpdateRows("u", "id", columns, rows), 2u);
  EXPECT_EQ(executes() - before, 1);
  EXPECT_EQ(server_->Sql("SELECT GROUP_CONCAT(CONCAT(id, ':', a, ':', COALESCE(n, '-')) ORDER BY id) FROM db_update_rows.u"),
            "x:x1:10,y:y0:2,z:z1:-\n") << "only the rows named, each with its own values";
  std::vector<std::vector<Param>> short_row = {{std::string("x"), std::string("x2")}};
  EXPECT_THROW(pool.Acquire().session().UpdateRows("u", "id", columns, short_row), std::invalid_argument);
}

TEST_F(DbTest, UpdatingRowsByKeyLocksOnlyThoseRowsEvenInASmallTable) {
  // On a table this small the optimizer would rather scan the whole primary
  // key, locking every row: two batches updating different rows would then
  // wait for (and deadlock with) each other.
  ConnectionPool pool(Options("db_update_locks", 1)), other(Options("db_update_locks", 1));
  pool.Exec("CREATE TABLE p (sku VARCHAR(64) PRIMARY KEY, a BIGINT NOT NULL)");
  for (int i = 0; i < 20; ++i) pool.Exec("INSERT INTO p VALUES (?, 10)", "SKU-" + std::to_string(i));
  pool.Query("ANALYZE TABLE p").Count();
  auto lease = other.Acquire();
  auto blocked = lease.session();
  blocked.Exec("SET SESSION innodb_lock_wait_timeout = 1");
  std::vector<std::vector<Param>> rows;
  for (int i : {1, 4, 7, 8, 9, 10, 11}) rows.push_back({"SKU-" + std::to_string(i), int64_t(100 + i)});
  const std::string_view columns[] = {"a"};
  pool.Transact([&](Session& s) {
    EXPECT_EQ(s.Query("SELECT sku FROM p WHERE sku = 'SKU-19' FOR UPDATE").Count(), 1u);  // held by another transaction
    EXPECT_EQ(blocked.UpdateRows("p", "sku", columns, rows), 7u);
  });
  EXPECT_EQ(server_->Sql("SELECT SUM(a) FROM db_update_locks.p"), std::to_string(13 * 10 + 7 * 100 + 1 + 4 + 7 + 8 + 9 + 10 + 11) + "\n");
}

TEST_F(DbTest, LockedRowsAreReadInKeyOrderAndOnlyThoseAreLocked) {
  ConnectionPool pool(Options("db_lock_rows", 1)), other(Options("db_lock_rows", 1));
  pool.Exec("CREATE TABLE p (sku VARCHAR(64) PRIMARY KEY, a BIGINT NOT NULL, b VARCHAR(8) NOT NULL)");
  for (int i = 0; i < 20; ++i) pool.Exec("INSERT INTO p VALUES (?, ?, 'x')", "SKU-" + std::to_string(i), int64_t(i));
  pool.Query("ANALYZE TABLE p").Count();
  auto lease = other.Acquire();
  auto blocked = lease.session();
  blocked.Exec("SET SESSION innodb_lock_wait_timeout = 1");
  pool.Transact([&](Session& s) {
    EXPECT_EQ(s.Query("SELECT sku FROM p WHERE sku = 'SKU-19' FOR UPDATE").Count(), 1u);  // held by another transaction
    blocked.Exec("START TRANSACTION");
    auto rows = blocked.LockRows("p", "sku", "a, b", {std::string("SKU-7"), std::string("SKU-1"), std::string("NONE"),
                                                      std::string("SKU-10")});
    std::vector<std::string> got;
    while (rows.Next()) got.push_back(rows.String("sku") + "=" + std::to_string(rows.Int("a")) + rows.String("b"));
    EXPECT_EQ(got, (std::vector<std::string>{"SKU-1=1x", "SKU-10=10x", "SKU-7=7x"})) << "in key order, missing keys absent";
    blocked.Exec("ROLLBACK");
  });
}

TEST_F(DbTest, LockedRowsReadEachKeyOnceKnowWhichAreMissingAndWriteBackOnlyTheChanged) {
  ConnectionPool pool(Options("db_locked_rows", 1));
  pool.Exec("CREATE TABLE p (sku VARCHAR(64) PRIMARY KEY, a BIGINT NOT NULL)");
  pool.Exec("INSERT INTO p VALUES ('SKU-1', 1), ('SKU-2', 2)");
  int made = 0;
  auto from = [&](const Rows& r) {
    ++made;
    return r.Int("a");
  };
  pool.Transact([&](Session& s) {
    LockedRows<int64_t> p;
    p.Load(s, "p", "sku", "a", {"SKU-1", "NONE"}, from);
    p.Change("SKU-1") = 10;  // changed in memory: a second Load must not read it again
    p.Load(s, "p", "sku", "a", {"SKU-1", "SKU-2", "NONE"}, from);
    EXPECT_EQ(made, 2) << "SKU-1 once, SKU-2 once, NONE read once and found missing";
    EXPECT_EQ(p.rows.at("SKU-1"), 10);
    EXPECT_EQ(p.rows.at("SKU-2"), 2);
    EXPECT_EQ(p.rows.at("NONE"), std::nullopt);
    EXPECT_THROW(p.Change("NONE"), std::bad_optional_access) << "no row to change";
    static constexpr std::string_view kColumns[] = {"a"};
    auto values = [](int64_t a) { return std::vector<Param>{a}; };
    EXPECT_EQ(p.WriteBack(s, "p", "sku", kColumns, values), 1u) << "only the changed row is written";
    p.Change("SKU-2") += 5;
    p.Change("SKU-1") += 1;
    EXPECT_EQ(p.WriteBack(s, "p", "sku", kColumns, values), 2u);
  });
  EXPECT_EQ(server_->Sql("SELECT GROUP_CONCAT(sku, '=', a ORDER BY sku) FROM db_locked_rows.p"), "SKU-1=11,SKU-2=7\n");
}

TEST_F(DbTest, PreparedStatementsStayBoundedPerConnectionAndRowsKeepTheirs) {
  auto open_statements = [&] { return std::stoll(server_->Sql("SHOW GLOBAL STATUS LIKE 'Prepared_stmt_count'").substr(20)); };
  DbOptions o = Options("db_stmts", 1);
  o.statement_cache_size = 4;
  ConnectionPool pool(o);
  pool.Exec("CREATE TABLE t (id INT PRIMARY KEY)");
  pool.Exec("INSERT INTO t VALUES (1), (2), (3)");
  const auto before = open_statements();
  auto held = pool.Acquire();
  auto s = held.session();
  auto first = s.Query("SELECT id FROM t WHERE id >= ? ORDER BY id", int64_t(1));
  for (int i = 0; i < 50; ++i) s.Query("SELECT " + std::to_string(i) + " AS n");  // a text per statement
  EXPECT_LE(open_statements() - before, 5) << "four cached, and the one `first` still reads from";
  // The evicted statement's rows are still there to read.
  std::vector<int64_t> ids;
  while (first.Next()) ids.push_back(first.Int("id"));
  EXPECT_EQ(ids, (std::vector<int64_t>{1, 2, 3}));
  first = s.Query("SELECT 1 AS n");
  EXPECT_LE(open_statements() - before, 4);
}

TEST(PaddedInList, PadsToAPowerOfTwoWithTheLastValue) {
  std::vector<size_t> lengths;
  for (size_t n = 0; n <= 9; ++n) {
    std::vector<Param> values;
    for (size_t i = 0; i < n; ++i) values.push_back(int64_t(i));
    auto in = PaddedInList(values);
    lengths.push_back(values.size());
    EXPECT_EQ(in, n ? InList(values.size()) : "");
    for (size_t i = n; i < values.size(); ++i) EXPECT_EQ(values[i], Param(int64_t(n - 1)));
  }
  EXPECT_EQ(lengths, (std::vector<size_t>{0, 1, 2, 4, 4, 8, 8, 8, 8, 16}));
}

}  // namespace
}  // namespace op::db
