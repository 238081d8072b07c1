#include "runtime/db/pool.h"

#include <cppconn/connection.h>
#include <cppconn/exception.h>
#include <cppconn/prepared_statement.h>
#include <cppconn/resultset.h>
#include <cppconn/statement.h>
#include <mysql_driver.h>

#include <fmt/format.h>

#include <filesystem>
#include <map>
#include <set>

#include "runtime/db/connection.h"
#include "runtime/logging/log.h"

namespace op::db {

void DbOptions::DeclareSchema(config::Schema& s) {
  using config::Type;
  s.Add("mysql.host", Type::kString, "127.0.0.1", "MySQL/MariaDB host");
  s.Add(config::KeySpec{"mysql.port", Type::kInt, "3306", "MySQL/MariaDB port", 1, 65535});
  s.Add("mysql.user", Type::kString, "app", "database user");
  s.Add("mysql.password", Type::kString, "", "database password");
  s.Add("mysql.database", Type::kString, std::nullopt, "database (schema) name");
  s.Add(config::KeySpec{"mysql.pool.max-size", Type::kInt, "8", "connections in the pool at most", 1, 1000});
  s.Add("mysql.pool.acquire-timeout", Type::kDuration, "5s", "wait for a free connection at most");
  s.Add("mysql.connect-timeout", Type::kDuration, "3s", "TCP connect timeout");
  s.Add("mysql.create-database", Type::kBool, "false", "CREATE DATABASE IF NOT EXISTS at start");
  s.Add(config::KeySpec{"mysql.statement-cache-size", Type::kInt, "64",
                        "prepared statements kept open per connection (least recently used closed first)", 1, 10000});
  s.Add("mysql.ssl-mode", Type::kString, "PREFERRED",
        "TLS to the server: DISABLED, PREFERRED, REQUIRED, VERIFY_CA or VERIFY_IDENTITY (MySQL's --ssl-mode)");
  s.Add("mysql.ssl-ca", Type::kString, "", "PEM file of the CAs that sign the server's certificate (VERIFY_CA, VERIFY_IDENTITY)");
  s.Add("mysql.chain-transactions", Type::kBool, "true",
        "end transactions with COMMIT AND CHAIN so the next one needs no START TRANSACTION; turn off if the "
        "server's idle_transaction_timeout is shorter than 30s");
}

DbOptions DbOptions::FromConfig(const config::Config& c) {
  DbOptions o;
  o.host = c.GetString("mysql.host");
  o.port = int(c.GetInt("mysql.port"));
  o.user = c.GetString("mysql.user");
  o.password = c.GetString("mysql.password");
  o.database = c.GetString("mysql.database");
  o.pool_size = int(c.GetInt("mysql.pool.max-size"));
  o.acquire_timeout = c.GetDuration("mysql.pool.acquire-timeout");
  o.connect_timeout = c.GetDuration("mysql.connect-timeout");
  o.create_database = c.GetBool("mysql.create-database");
  o.chain_transactions = c.GetBool("mysql.chain-transactions");
  o.statement_cache_size = int(c.GetInt("mysql.statement-cache-size"));
  o.ssl_mode = c.GetString("mysql.ssl-mode");
  o.ssl_ca = c.GetString("mysql.ssl-ca");
  static const std::set<std::string> modes = {"DISABLED", "PREFERRED", "REQUIRED", "VERIFY_CA", "VERIFY_IDENTITY"};
  if (!modes.count(o.ssl_mode))
    throw config::ConfigError("key 'mysql.ssl-mode' must be DISABLED, PREFERRED, REQUIRED, VERIFY_CA or VERIFY_IDENTITY: got '" +
                              o.ssl_mode + "'");
  if ((o.ssl_mode == "VERIFY_CA" || o.ssl_mode == "VERIFY_IDENTITY") && o.ssl_ca.empty())
    throw config::ConfigError("key 'mysql.ssl-ca' must name the CA file with mysql.ssl-mode " + o.ssl_mode);
  if (!o.ssl_ca.empty() && !std::filesystem::is_regular_file(o.ssl_ca))
    throw config::ConfigError("key 'mysql.ssl-ca' names no readable file: '" + o.ssl_ca + "'");
  return o;
}

// ---- errors

namespace {
bool IsConnectionError(int code) {
  // CR_CONNECTION_ERROR, CR_CONN_HOST_ERROR, CR_SERVER_GONE_ERROR, CR_SERVER_LOST,
  // CR_SERVER_LOST_EXTENDED, ER_CON_COUNT_ERROR, ER_SERVER_SHUTDOWN, ER_CONNECTION_KILLED
  return code == 2002 || code == 2003 || code == 2006 || code == 2013 || code == 2055 ||
         code == 1040 || code == 1053 || code == 1927 || code == 2026;
}
}  // namespace

void ConnectionPool::Rethrow(const std::exception& e, const std::string& context) {
  if (auto* se = dynamic_cast<const sql::SQLException*>(&e)) {
    int code = se->getErrorCode();
    std::string msg = fmt::format("{} (MySQL error {}, SQLSTATE {}) [{}]", se->what(), code,
                                  se->getSQLStateCStr(), context);
    if (IsConnectionError(code) || code == 0) throw DbUnavailable(msg, code, se->getSQLState());
    if (code == 1062) throw DuplicateKey(msg, code, se->getSQLState());
    throw DbError(msg, code, se->getSQLState());
  }
  throw DbError(std::string(e.what()) + " [" + context + "]");
}

bool ConnectionPool::IsRetryable(const DbError& e) { return e.code() == 1213 || e.code() == 1205; }

bool ConnectionPool::IsDataError(const DbError& e) {
  switch (e.code()) {
    case 1048:  // ER_BAD_NULL_ERROR
    case 1264:  // ER_WARN_DATA_OUT_OF_RANGE
    case 1292:  // ER_TRUNCATED_WRONG_VALUE
    case 1366:  // ER_TRUNCATED_WRONG_VALUE_FOR_FIELD
    case 1406:  // ER_DATA_TOO_LONG
    case 3819:  // ER_CHECK_CONSTRAINT_VIOLATED (MySQL)
    case 4025:  // ER_CONSTRAINT_FAILED (MariaDB)
      return true;
    default:
      return false;
  }
}

ConnectionPool::ConnectionPool(DbOptions options, metrics::MetricsRegistry* metrics, std::string name)
    : options_(std::move(options)), name_(std::move(name)), metrics_(metrics) {
  if (metrics_) {
    acquire_seconds_ = &prometheus::BuildHistogram()
                            .Name("hikaricp_connections_acquire_seconds")
                            .Help("Time to acquire a database connection")
                            .Register(metrics_->Registry())
                            .Add({{"pool", name_}}, metrics::MetricsRegistry::LatencyBuckets());
    collector_id_ = metrics_->AddCollector([this](metrics::Families& out) {
      auto s = GetStats();
      auto g = [&](const char* n, const char* help, double v, prometheus::MetricType t = prometheus::MetricType::Gauge) {
        auto f = metrics::Family(n, help, t);
        metrics::AddSample(f, {{"pool", name_}}, v);
        out.push_back(std::move(f));
      };
      g("hikaricp_connections", "Total connections", s.total);
      g("hikaricp_connections_active", "Connections in use", s.active);
      g("hikaricp_connections_idle", "Idle connections", s.idle);
      g("hikaricp_connections_pending", "Threads waiting for a connection", s.pending);
      g("hikaricp_connections_max", "Maximum connections", options_.pool_size);
      g("hikaricp_connections_timeout_total", "Acquire timeouts", double(s.timeouts),
        prometheus::MetricType::Counter);
    });
  }
  if (options_.create_database) {
    DbOptions no_db = options_;
    no_db.database.clear();
    no_db.create_database = false;
    ConnectionPool bootstrap(no_db);
    auto l = bootstrap.Acquire();
    std::unique_ptr<sql::Statement> st(l.connection().conn->createStatement());
    try {
      st->execute("CREATE DATABASE IF NOT EXISTS `" + options_.database + "` CHARACTER SET utf8mb4");
    } catch (const std::exception& e) {
      Rethrow(e, bootstrap.Describe());
    }
  }
}

ConnectionPool::~ConnectionPool() {
  if (metrics_ && collector_id_ >= 0) metrics_->RemoveCollector(collector_id_);
}

std::string ConnectionPool::Describe() const {
  return fmt::format("{}@{}:{}/{}", options_.user, options_.host, options_.port, options_.database);
}

std::unique_ptr<PooledConnection> ConnectionPool::Open() {
  sql::mysql::MySQL_Driver* driver = sql::mysql::get_mysql_driver_instance();
  sql::ConnectOptionsMap opts;
  opts["hostName"] = sql::SQLString(fmt::format("tcp://{}:{}", options_.host, options_.port));
  opts["userName"] = sql::SQLString(options_.user);
  opts["password"] = sql::SQLString(options_.password);
  if (!options_.database.empty()) opts["schema"] = sql::SQLString(options_.database);
  int timeout_s = std::max(1, int(std::chrono::duration_cast<std::chrono::seconds>(options_.connect_timeout).count()));
  opts["OPT_CONNECT_TIMEOUT"] = timeout_s;
  opts["OPT_RECONNECT"] = false;  // a silent reconnect would drop a transaction
  opts["OPT_CHARSET_NAME"] = sql::SQLString("utf8mb4");
  static const std::map<std::string, int> kSslModes = {
      {"DISABLED", sql::SSL_MODE_DISABLED}, {"PREFERRED", sql::SSL_MODE_PREFERRED}, {"REQUIRED", sql::SSL_MODE_REQUIRED},
      {"VERIFY_CA", sql::SSL_MODE_VERIFY_CA}, {"VERIFY_IDENTITY", sql::SSL_MODE_VERIFY_IDENTITY}};
  if (auto m = kSslModes.find(options_.ssl_mode); m != kSslModes.end()) opts["OPT_SSL_MODE"] = m->second;
  if (!options_.ssl_ca.empty()) opts["sslCA"] = sql::SQLString(options_.ssl_ca);
  auto pc = std::make_unique<PooledConnection>();
  pc->describe = Describe();
  pc->statement_cache_size = size_t(std::max(1, options_.statement_cache_size));
  try {
    pc->conn.reset(driver->connect(opts));
    // TIMESTAMP values in and out are UTC whatever the server's zone is.
    std::unique_ptr<sql::Statement> st(pc->conn->createStatement());
    st->execute("SET time_zone = '+00:00'");
  } catch (const std::exception& e) {
    Rethrow(e, "connecting to " + Describe());
  }
  return pc;
}

ConnectionPool::Lease ConnectionPool::Acquire() {
  auto start = std::chrono::steady_clock::now();
  std::unique_ptr<PooledConnection> c;
  bool open_new = false;
  {
    std::unique_lock lock(mu_);
    ++pending_;
    bool ok = cv_.wait_for(lock, options_.acquire_timeout, [&] { return !idle_.empty() || total_ < options_.pool_size; });
    --pending_;
    if (!ok) {
      ++timeouts_;
      throw DbUnavailable(fmt::format("no database connection free within {} ms (pool of {}) [{}]",
                                      options_.acquire_timeout.count(), options_.pool_size, Describe()));
    }
    if (!idle_.empty()) {
      c = std::move(idle_.back());
      idle_.pop_back();
    } else {
      ++total_;
      open_new = true;
    }
  }
  if (open_new) {
    try {
      c = Open();
    } catch (...) {
      std::lock_guard lock(mu_);
      --total_;
      cv_.notify_one();
      throw;
    }
  } else if (std::chrono::steady_clock::now() - c->last_used > options_.validate_after_idle) {
    bool valid = false;
    try {
      valid = c->conn->isValid();
    } catch (...) {
    }
    if (!valid) {
      try {
        c = Open();
      } catch (...) {
        std::lock_guard lock(mu_);
        --total_;
        cv_.notify_one();
        throw;
      }
    }
  }
  if (acquire_seconds_)
    acquire_seconds_->Observe(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  return Lease(this, std::move(c));
}

void ConnectionPool::Release(std::unique_ptr<PooledConnection> c, bool broken) {
  std::lock_guard lock(mu_);
  if (broken || !c) {
    --total_;
  } else {
    c->last_used = std::chrono::steady_clock::now();
    idle_.push_back(std::move(c));
  }
  cv_.notify_one();
}

ConnectionPool::Stats ConnectionPool::GetStats() const {
  std::lock_guard lock(mu_);
  int idle = int(idle_.size());
  return Stats{total_, idle, total_ - idle, pending_, timeouts_};
}

bool ConnectionPool::Ping(std::string* error) {
  try {
    auto rows = Query("SELECT 1 AS one");
    return rows.Next() && rows.Int("one") == 1;
  } catch (const std::exception& e) {
    if (error) *error = e.what();
    return false;
  }
}

void ConnectionPool::BeginTx(Lease& l) {
  Guard(l, [&] {
    try {
      // START TRANSACTION rather than the connector's setAutoCommit(false):
      // that sends SET autocommit=0 now and SET autocommit=1 after the
      // commit, a round trip more per transaction; autocommit stays on.
      // None at all when the last commit chained a new transaction.
      if (!l.connection().chained) ExecText(l.connection(), "START TRANSACTION");
      l.connection().chained = false;
      l.connection().deferred.clear();
    } catch (const sql::SQLException& e) {
      Rethrow(e, Describe());
    }
    l.connection().in_tx = true;
    l.connection().after_commit.clear();
    l.connection().locals.clear();
  });
}

void ConnectionPool::CommitTx(Lease& l) {
  Guard(l, [&] {
    Session s = l.session();
    // Any exception: Transact rolls back (and retries a deadlock).
    if (!l.connection().deferred.empty()) FlushDeferred(s, l.connection());
    try {
      ExecText(l.connection(), options_.chain_transactions ? "COMMIT AND CHAIN" : "COMMIT");
    } catch (const sql::SQLException& e) {
      Rethrow(e, Describe());
    }
    l.connection().in_tx = false;
    l.connection().chained = options_.chain_transactions;
  });
  l.connection().locals.clear();
  auto hooks = std::move(l.connection().after_commit);
  l.connection().after_commit.clear();
  for (auto& fn : hooks) {
    try {
      fn();
    } catch (const std::exception& e) {
      log::Error("after-commit hook failed", {{"error", e.what()}});
    }
  }
}

void ConnectionPool::RollbackTx(Lease& l) noexcept {
  if (!l.valid()) return;  // already dropped as broken
  try {
    l.connection().after_commit.clear();
    l.connection().deferred.clear();
    l.connection().locals.clear();
    ExecText(l.connection(), "ROLLBACK");
    l.connection().in_tx = false;
    l.connection().chained = false;
  } catch (...) {
    l.MarkBroken();  // unknown state: never hand this connection out again
  }
}

ConnectionPool::Lease::Lease(ConnectionPool* pool, std::unique_ptr<PooledConnection> c)
    : pool_(pool), c_(std::move(c)) {}
ConnectionPool::Lease::Lease(Lease&& o) noexcept : pool_(o.pool_), c_(std::move(o.c_)) { o.pool_ = nullptr; }
ConnectionPool::Lease::~Lease() {
  if (!pool_) return;
  bool broken = !c_ || c_->in_tx;
  pool_->Release(std::move(c_), broken);
}
Session ConnectionPool::Lease::session() { return Session(*c_); }
void ConnectionPool::Lease::MarkBroken() {
  if (!pool_) return;
  pool_->Release(nullptr, true);
  c_.reset();
  pool_ = nullptr;
}

}  // namespace op::db
