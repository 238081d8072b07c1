#pragma once
// MySQL/MariaDB access over mysql-connector-c++ (JDBC-style API): a connection
// pool, transactions with deadlock retry, prepared statements only (cached per
// connection), and typed rows. Errors are classified so callers can tell a
// transient outage (retry later, never skip) from a bug or a constraint.
//
// Threads: any thread may call; each Acquire() blocks up to acquire_timeout
// for a connection. Connections are opened lazily and validated when reused
// after sitting idle.
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <typeindex>
#include <unordered_map>
#include <variant>
#include <vector>

#include "runtime/config/config.h"
#include "runtime/metrics/metrics.h"

namespace sql {
class Connection;
class PreparedStatement;
class ResultSet;
}  // namespace sql

namespace op::db {

struct DbOptions {
  std::string host = "127.0.0.1";
  int port = 3306;
  std::string user = "app";
  std::string password;
  std::string database;
  int pool_size = 8;
  std::chrono::milliseconds acquire_timeout{5000};
  std::chrono::milliseconds connect_timeout{3000};
  std::chrono::milliseconds validate_after_idle{30000};
  bool create_database = false;  // CREATE DATABASE IF NOT EXISTS at start (dev/test)
  // Transactions end with COMMIT AND CHAIN: the connection goes back to the
  // pool already inside a new, empty transaction, and the next Transact() on
  // it needs no START TRANSACTION (one round trip less). A statement outside
  // a transaction on such a connection first ends the empty one (COMMIT).
  // Turn off where the server kills idle open transactions
  // (idle_transaction_timeout) sooner than validate_after_idle.
  bool chain_transactions = true;
  // Prepared statements kept per connection, least recently used closed
  // first: the server holds each one until closed (max_prepared_stmt_count,
  // 16,382 by default, for all connections together).
  int statement_cache_size = 64;

  static void DeclareSchema(config::Schema& schema);
  static DbOptions FromConfig(const config::Config& cfg);
};

class DbError : public std::runtime_error {
 public:
  DbError(const std::string& what, int code = 0, std::string sql_state = "")
      : std::runtime_error(what), code_(code), sql_state_(std::move(sql_state)) {}
  int code() const { return code_; }
  const std::string& sql_state() const { return sql_state_; }

 private:
  int code_;
  std::string sql_state_;
};
// The database cannot be reached or the connection broke: retry later.
class DbUnavailable : public DbError {
 public:
  using DbError::DbError;
};
// A unique or primary key was violated (MySQL error 1062).
class DuplicateKey : public DbError {
 public:
  using DbError::DbError;
};

using Param = std::variant<std::nullptr_t, int64_t, uint64_t, double, bool, std::string>;

// "?, ?, ?": the placeholders of an IN list of n values (n > 0).
std::string InList(size_t n);
// Placeholders for `x IN (...)` over `values`, which it pads (repeating the
// last value) to a power of two: lists of 1 to n values then share
// log2(n) + 1 statement texts, and their prepared statements stay cached
// instead of one per length. Only where a repeated value changes nothing
// (the IN of a SELECT, UPDATE or DELETE); never for multi-row VALUES.
std::string PaddedInList(std::vector<Param>& values);

inline Param ToParam(Param p) { return p; }
inline Param ToParam(std::nullptr_t) { return nullptr; }
inline Param ToParam(int v) { return int64_t(v); }
inline Param ToParam(long v) { return int64_t(v); }
inline Param ToParam(long long v) { return int64_t(v); }
inline Param ToParam(unsigned v) { return uint64_t(v); }
inline Param ToParam(unsigned long v) { return uint64_t(v); }
inline Param ToParam(unsigned long long v) { return uint64_t(v); }
inline Param ToParam(double v) { return v; }
inline Param ToParam(bool v) { return v; }
inline Param ToParam(std::string v) { return v; }
inline Param ToParam(std::string_view v) { return std::string(v); }
inline Param ToParam(const char* v) { return std::string(v); }
template <class T>
Param ToParam(const std::optional<T>& v) { return v ? ToParam(*v) : Param(nullptr); }

// Rows of a query, read by column name or 1-based index.
class Rows {
 public:
  explicit Rows(std::unique_ptr<sql::ResultSet> rs);
  // Also keeps `owner` (the statement the rows come from, the pool lease of
  // its connection) until the rows are gone.
  void Keep(std::shared_ptr<void> owner) { keep_.push_back(std::move(owner)); }
  ~Rows();
  Rows(Rows&&) noexcept;
  Rows& operator=(Rows&&) noexcept;
  bool Next();
  size_t Count() const;
  int64_t Int(const std::string& col) const;
  uint64_t UInt(const std::string& col) const;
  double Double(const std::string& col) const;
  bool Bool(const std::string& col) const;
  std::string String(const std::string& col) const;  // binary-safe
  bool IsNull(const std::string& col) const;
  std::optional<std::string> OptString(const std::string& col) const;
  std::optional<int64_t> OptInt(const std::string& col) const;

 private:
  std::vector<std::shared_ptr<void>> keep_;  // declared first: outlives rs_
  std::unique_ptr<sql::ResultSet> rs_;
};

struct PooledConnection;

// One connection inside a transaction (or autocommit when outside one).
class Session {
 public:
  explicit Session(PooledConnection& c) : c_(c) {}
  template <class... A>
  uint64_t Exec(std::string_view sql, const A&... args) { return ExecV(sql, {ToParam(args)...}); }
  template <class... A>
  Rows Query(std::string_view sql, const A&... args) { return QueryV(sql, {ToParam(args)...}); }
  uint64_t ExecV(std::string_view sql, const std::vector<Param>& params);
  Rows QueryV(std::string_view sql, const std::vector<Param>& params);
  uint64_t LastInsertId();
  // Reads and locks the rows whose primary key `key` is one of `keys` (not
  // empty), in key order: SELECT key, `columns` FROM table ... ORDER BY key
  // FOR UPDATE, through the primary key only (on a small table the optimizer
  // would rather scan, locking every row it passes). Two transactions that
  // lock shared rows this way up front wait for each other instead of
  // deadlocking: a batch of events reads its rows once, works on them in
  // memory and writes them back (LockedRows, UpdateRows). Names and
  // `columns` come from code, never from input.
  Rows LockRows(std::string_view table, std::string_view key, std::string_view columns, std::vector<Param> keys);
  // Rows for `insert` ("INSERT INTO t (a, b) VALUES") in one statement: all
  // or none of them (a duplicate key fails the whole statement, unless
  // `suffix` says otherwise: " ON DUPLICATE KEY UPDATE ..."). Rows are
  // parameters, one per column; at most 65,535 parameters in all.
  uint64_t InsertRows(std::string_view insert, std::span<const std::vector<Param>> rows, std::string_view suffix = {});
  // A row for `insert` ("INSERT INTO t (a, b) VALUES"): inside a transaction
  // it is written just before COMMIT, with the other rows deferred for the
  // same `insert` and `suffix` in one multi-row statement (in the order
  // deferred); outside one, at once. For rows nothing in the transaction
  // reads back (outbox, notifications). A failure at COMMIT fails the
  // transaction (Transact throws), so a row that may meet a duplicate key
  // needs a `suffix` that settles it.
  void DeferInsert(std::string_view insert, std::vector<Param> row, std::string_view suffix = {});
  // Rows of `table` found by `key`, its primary key, each {key value, then
  // one value per column}, in one statement: UPDATE table SET c = CASE key
  // WHEN ? THEN ? ... END, ... WHERE key IN (...), through the primary key
  // (only those rows are locked). Names come from code, never from input;
  // keys are distinct. Returns the rows changed.
  uint64_t UpdateRows(std::string_view table, std::string_view key, std::span<const std::string_view> columns,
                      std::span<const std::vector<Param>> rows);
  // Runs `fn` after the enclosing Transact() commits (never on rollback or for
  // an attempt that is retried): metrics, wake-ups, caches.
  void AfterCommit(std::function<void()> fn);
  // State for the enclosing Transact() attempt, one `T` (default-constructed
  // on first use) per type, dropped when the attempt ends (commit, rollback,
  // retry): for the runtime's own bookkeeping (the outbox counts what a
  // transaction enqueued). A service's batch state lives in its EventBatch.
  // Throws std::logic_error outside a transaction.
  bool InTransaction() const;
  template <class T>
  T& Local() {
    auto& slot = LocalSlot(typeid(T));
    if (!slot) slot = std::make_shared<T>();
    return *static_cast<T*>(slot.get());
  }

 private:
  std::shared_ptr<void>& LocalSlot(std::type_index type);
  const std::shared_ptr<sql::PreparedStatement>& Prepare(std::string_view sql, const std::vector<Param>& params);
  PooledConnection& c_;
};

// One table's rows by primary key as a transaction works on them: read and
// locked once (Session::LockRows), then changed in memory by every event of
// a batch (Change), and the changed ones written back in one statement
// at the end of the batch (WriteBack, from an EventBatch's Flush).
// `rows[k]` is nullopt where the table has no row k.
template <class T>
struct LockedRows {
  std::map<std::string, std::optional<T>> rows;
  std::set<std::string> changed;  // keys Change()d: what WriteBack writes

  // Reads and locks, in key order, the `keys` not known yet; `from` makes a
  // T of a result row (its `key` column, then `columns`).
  template <class From>
  void Load(Session& s, std::string_view table, std::string_view key, std::string_view columns,
            const std::set<std::string>& keys, From from) {
    std::vector<Param> missing;
    for (const auto& k : keys)
      if (!rows.count(k)) missing.push_back(k);
    if (missing.empty()) return;
    auto found = s.LockRows(table, key, columns, missing);
    for (const auto& k : missing) rows[std::get<std::string>(k)] = std::nullopt;
    const std::string key_column(key);
    while (found.Next()) rows[found.String(key_column)] = from(found);
  }

  // Row `k`, loaded and present (std::bad_optional_access if the table has
  // none), to change in memory; WriteBack will write it.
  T& Change(const std::string& k) {
    T& row = rows.at(k).value();
    changed.insert(k);
    return row;
  }

  // The changed rows in one UpdateRows; `values` gives a row's `columns`, in
  // their order. Returns the rows changed.
  template <class Values>
  uint64_t WriteBack(Session& s, std::string_view table, std::string_view key, std::span<const std::string_view> columns,
                     Values values) const {
    std::vector<std::vector<Param>> out;
    out.reserve(changed.size());
    for (const auto& k : changed) {
      std::vector<Param> row{k};
      for (auto& v : values(*rows.at(k))) row.push_back(std::move(v));
      out.push_back(std::move(row));
    }
    return s.UpdateRows(table, key, columns, out);
  }
};

class ConnectionPool {
 public:
  ConnectionPool(DbOptions options, metrics::MetricsRegistry* metrics = nullptr,
                 std::string pool_name = "default");
  ~ConnectionPool();

  // A connection for the caller's exclusive use until the lease ends.
  class Lease {
   public:
    Lease(ConnectionPool* pool, std::unique_ptr<PooledConnection> c);
    Lease(Lease&&) noexcept;
    ~Lease();
    Session session();
    PooledConnection& connection() { return *c_; }
    bool valid() const { return c_ != nullptr; }
    void MarkBroken();

   private:
    ConnectionPool* pool_;
    std::unique_ptr<PooledConnection> c_;
  };
  Lease Acquire();

  // Runs f(Session&) in one transaction: commits when f returns, rolls back
  // when it throws. Deadlocks and lock-wait timeouts are retried (up to
  // `attempts`) with the whole function re-run, so f must not have effects
  // outside the database.
  template <class F>
  auto Transact(F&& f, int attempts = 3) -> decltype(f(std::declval<Session&>()));

  // Autocommit statement outside a transaction.
  template <class... A>
  uint64_t Exec(std::string_view sql, const A&... args) {
    auto l = Acquire();
    return Guard(l, [&] { return l.session().Exec(sql, args...); });
  }
  // The rows hold the connection until they are gone (another thread taking
  // it could otherwise run the same statement over them).
  template <class... A>
  Rows Query(std::string_view sql, const A&... args) {
    auto l = Acquire();
    Rows rows = Guard(l, [&] { return l.session().Query(sql, args...); });
    rows.Keep(std::make_shared<Lease>(std::move(l)));
    return rows;
  }

  // SELECT 1 within the acquire timeout: for readiness checks.
  bool Ping(std::string* error = nullptr);
  const DbOptions& options() const { return options_; }
  std::string Describe() const;  // "app@127.0.0.1:3306/orders_db" (no password)

  struct Stats { int total, idle, active, pending; uint64_t timeouts; };
  Stats GetStats() const;

  // Translates connector exceptions into DbError / DbUnavailable / DuplicateKey.
  [[noreturn]] static void Rethrow(const std::exception& e, const std::string& context);
  static bool IsRetryable(const DbError& e);  // deadlock, lock wait timeout

 private:
  friend class Lease;
  template <class F>
  auto Guard(Lease& l, F&& f) -> decltype(f());
  std::unique_ptr<PooledConnection> Open();
  void Release(std::unique_ptr<PooledConnection> c, bool broken);
  void BeginTx(Lease& l);
  void CommitTx(Lease& l);
  void RollbackTx(Lease& l) noexcept;

  const DbOptions options_;
  const std::string name_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::unique_ptr<PooledConnection>> idle_;
  int total_ = 0, pending_ = 0;
  uint64_t timeouts_ = 0;
  prometheus::Histogram* acquire_seconds_ = nullptr;
  metrics::MetricsRegistry* metrics_;
  int collector_id_ = -1;
};

// Session and the Tx helpers translate connector exceptions into DbError;
// everything else (the caller's own exceptions) passes through unchanged. A
// broken connection is dropped from the pool.
template <class F>
auto ConnectionPool::Guard(Lease& l, F&& f) -> decltype(f()) {
  try {
    return f();
  } catch (const DbUnavailable&) {
    l.MarkBroken();
    throw;
  }
}

template <class F>
auto ConnectionPool::Transact(F&& f, int attempts) -> decltype(f(std::declval<Session&>())) {
  for (int attempt = 1;; ++attempt) {
    auto lease = Acquire();
    BeginTx(lease);  // also clears after-commit hooks of an earlier attempt
    try {
      Session s = lease.session();
      if constexpr (std::is_void_v<decltype(f(s))>) {
        Guard(lease, [&] { f(s); });
        CommitTx(lease);
        return;
      } else {
        auto result = Guard(lease, [&] { return f(s); });
        CommitTx(lease);
        return result;
      }
    } catch (const DbError& e) {
      RollbackTx(lease);
      if (attempt < attempts && IsRetryable(e)) continue;
      throw;
    } catch (...) {
      RollbackTx(lease);
      throw;
    }
  }
}

}  // namespace op::db
