#pragma once
// The connection pool and its transactions.
//
// Threads: any thread may call; each Acquire() blocks up to acquire_timeout
// for a connection. Connections are opened lazily and validated when reused
// after sitting idle.
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <type_traits>
#include <vector>

#include "runtime/config/config.h"
#include "runtime/db/errors.h"
#include "runtime/db/session.h"
#include "runtime/metrics/metrics.h"

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
  // TLS to the server, MySQL's --ssl-mode: DISABLED, PREFERRED (TLS when the
  // server offers it), REQUIRED, VERIFY_CA (the server's certificate must
  // chain to ssl_ca), VERIFY_IDENTITY (and name the host).
  std::string ssl_mode = "PREFERRED";
  std::string ssl_ca;  // PEM file of the CAs to trust (VERIFY_CA, VERIFY_IDENTITY)

  static void DeclareSchema(config::Schema& schema);
  static DbOptions FromConfig(const config::Config& cfg);
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
  // The data itself was refused (too long, out of range, a check constraint,
  // a NULL or malformed value): the same statement fails the same way every
  // time, so retrying it is pointless.
  static bool IsDataError(const DbError& e);

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
