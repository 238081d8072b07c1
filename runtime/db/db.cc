#include "runtime/db/db.h"

#include <cppconn/connection.h>
#include <cppconn/exception.h>
#include <cppconn/prepared_statement.h>
#include <cppconn/resultset.h>
#include <cppconn/statement.h>
#include <mysql_driver.h>

#include <fmt/format.h>

#include <bit>
#include <list>

#include "runtime/logging/log.h"

namespace op::db {

struct PooledConnection {
  std::unique_ptr<sql::Connection> conn;
  // Prepared statements cached per connection, most recently used first: one
  // server round trip per statement text while it stays among the
  // `statement_cache_size` most recent; the others are closed (on the server
  // too). Shared: rows read from a statement keep it open.
  using Statement = std::pair<std::string, std::shared_ptr<sql::PreparedStatement>>;
  std::list<Statement> statements;
  std::unordered_map<std::string_view, std::list<Statement>::iterator> statement_index;  // views into `statements`
  size_t statement_cache_size = 64;
  std::chrono::steady_clock::time_point last_used = std::chrono::steady_clock::now();
  bool in_tx = false;
  // Inside an empty transaction opened by COMMIT AND CHAIN (outside Transact).
  bool chained = false;
  // Session::DeferInsert: per INSERT prefix and suffix (in first-use order), its rows.
  struct Deferred {
    std::string insert, suffix;
    std::vector<std::vector<op::db::Param>> rows;
  };
  std::vector<Deferred> deferred;
  std::string describe;  // for error messages
  std::vector<std::function<void()>> after_commit;
  std::unordered_map<std::type_index, std::shared_ptr<void>> locals;  // Session::Local, this transaction's
};

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

// ---- rows

Rows::Rows(std::unique_ptr<sql::ResultSet> rs) : rs_(std::move(rs)) {}
Rows::~Rows() = default;
Rows::Rows(Rows&&) noexcept = default;
Rows& Rows::operator=(Rows&& o) noexcept {
  if (this == &o) return *this;
  rs_.reset();  // before what it reads from
  keep_.clear();
  rs_ = std::move(o.rs_);
  keep_ = std::move(o.keep_);
  return *this;
}
bool Rows::Next() { return rs_->next(); }
size_t Rows::Count() const { return rs_->rowsCount(); }
int64_t Rows::Int(const std::string& c) const { return rs_->getInt64(c); }
uint64_t Rows::UInt(const std::string& c) const { return rs_->getUInt64(c); }
double Rows::Double(const std::string& c) const { return double(rs_->getDouble(c)); }
bool Rows::Bool(const std::string& c) const { return rs_->getBoolean(c); }
std::string Rows::String(const std::string& c) const { return std::string(rs_->getString(c).asStdString()); }
bool Rows::IsNull(const std::string& c) const { return rs_->isNull(c); }
std::optional<std::string> Rows::OptString(const std::string& c) const {
  if (rs_->isNull(c)) return std::nullopt;
  return String(c);
}
std::optional<int64_t> Rows::OptInt(const std::string& c) const {
  if (rs_->isNull(c)) return std::nullopt;
  return Int(c);
}

// ---- session

namespace {
void ExecText(PooledConnection& c, const char* sql) {
  std::unique_ptr<sql::Statement> st(c.conn->createStatement());
  st->execute(sql);
}
}  // namespace

const std::shared_ptr<sql::PreparedStatement>& Session::Prepare(std::string_view text, const std::vector<Param>& params) {
  if (c_.chained && !c_.in_tx) {  // an autocommit statement: end the empty chained transaction first
    ExecText(c_, "COMMIT");
    c_.chained = false;
  }
  if (auto it = c_.statement_index.find(text); it != c_.statement_index.end()) {
    c_.statements.splice(c_.statements.begin(), c_.statements, it->second);
  } else {
    std::string key(text);
    std::shared_ptr<sql::PreparedStatement> prepared(c_.conn->prepareStatement(key));
    c_.statements.emplace_front(std::move(key), std::move(prepared));
    c_.statement_index.emplace(c_.statements.front().first, c_.statements.begin());
    if (c_.statements.size() > c_.statement_cache_size) {
      c_.statement_index.erase(c_.statements.back().first);
      c_.statements.pop_back();  // closed now, or when the last rows read from it are gone
    }
  }
  const auto& statement = c_.statements.front().second;
  sql::PreparedStatement& ps = *statement;
  ps.clearParameters();
  for (size_t i = 0; i < params.size(); ++i) {
    unsigned idx = unsigned(i + 1);
    std::visit(
        [&](const auto& v) {
          using T = std::decay_t<decltype(v)>;
          if constexpr (std::is_same_v<T, std::nullptr_t>) ps.setNull(idx, 0);
          else if constexpr (std::is_same_v<T, int64_t>) ps.setInt64(idx, v);
          else if constexpr (std::is_same_v<T, uint64_t>) ps.setUInt64(idx, v);
          else if constexpr (std::is_same_v<T, double>) ps.setDouble(idx, v);
          else if constexpr (std::is_same_v<T, bool>) ps.setBoolean(idx, v);
          else ps.setString(idx, sql::SQLString(v));
        },
        params[i]);
  }
  return statement;
}

std::string InList(size_t n) {
  std::string s;
  for (size_t i = 0; i < n; ++i) s += i ? ", ?" : "?";
  return s;
}

namespace {
size_t PaddedLength(size_t n) { return n <= 1 ? n : std::bit_ceil(n); }
}  // namespace

std::string PaddedInList(std::vector<Param>& values) {
  if (!values.empty()) values.resize(PaddedLength(values.size()), Param(values.back()));
  return InList(values.size());
}

Rows Session::LockRows(std::string_view table, std::string_view key, std::string_view columns,
                       std::vector<Param> keys) {
  const std::string in = PaddedInList(keys);
  return QueryV(fmt::format("SELECT {1}{2}{3} FROM {0} FORCE INDEX (PRIMARY) WHERE {1} IN ({4}) ORDER BY {1} FOR UPDATE",
                            table, key, columns.empty() ? "" : ", ", columns, in),
                keys);
}

uint64_t Session::ExecV(std::string_view text, const std::vector<Param>& params) {
  try {
    return Prepare(text, params)->executeUpdate();
  } catch (const sql::SQLException& e) {
    ConnectionPool::Rethrow(e, c_.describe);
  }
}

Rows Session::QueryV(std::string_view text, const std::vector<Param>& params) {
  try {
    const auto& statement = Prepare(text, params);
    Rows rows(std::unique_ptr<sql::ResultSet>(statement->executeQuery()));
    rows.Keep(statement);
    return rows;
  } catch (const sql::SQLException& e) {
    ConnectionPool::Rethrow(e, c_.describe);
  }
}

uint64_t Session::InsertRows(std::string_view insert, std::span<const std::vector<Param>> rows, std::string_view suffix) {
  if (rows.empty()) return 0;
  std::string sql(insert);
  std::vector<Param> params;
  for (const auto& row : rows) {
    sql += params.empty() ? " (" : ", (";
    sql += InList(row.size()) + ")";
    params.insert(params.end(), row.begin(), row.end());
  }
  sql += suffix;
  return ExecV(sql, params);
}

uint64_t Session::UpdateRows(std::string_view table, std::string_view key, std::span<const std::string_view> columns,
                             std::span<const std::vector<Param>> rows) {
  if (rows.empty()) return 0;
  // FORCE INDEX: on a small table the optimizer would rather scan the whole
  // primary key for a long IN list, locking every row it passes.
  std::string sql = fmt::format("UPDATE {} FORCE INDEX (PRIMARY) SET ", table);
  std::vector<Param> params;
  for (const auto& row : rows)
    if (row.size() != columns.size() + 1) throw std::invalid_argument("UpdateRows: a row is its key and one value per column");
  // Padded like PaddedInList (the last row repeated: the first WHEN that
  // matches wins, with the same value): a few statement texts, all cached.
  const size_t n = PaddedLength(rows.size());
  params.reserve(n * (2 * columns.size() + 1));
  auto row = [&](size_t i) -> const std::vector<Param>& { return rows[std::min(i, rows.size() - 1)]; };
  for (size_t c = 0; c < columns.size(); ++c) {
    sql += fmt::format("{}{} = CASE {}", c ? ", " : "", columns[c], key);
    for (size_t i = 0; i < n; ++i) {
      sql += " WHEN ? THEN ?";
      params.push_back(row(i)[0]);
      params.push_back(row(i)[c + 1]);
    }
    sql += " END";
  }
  sql += fmt::format(" WHERE {} IN ({})", key, InList(n));
  for (size_t i = 0; i < n; ++i) params.push_back(row(i)[0]);
  return ExecV(sql, params);
}

void Session::DeferInsert(std::string_view insert, std::vector<Param> row, std::string_view suffix) {
  if (!c_.in_tx) {
    InsertRows(insert, {&row, 1}, suffix);
    return;
  }
  for (auto& d : c_.deferred)
    if (d.insert == insert && d.suffix == suffix) {
      d.rows.push_back(std::move(row));
      return;
    }
  c_.deferred.push_back({std::string(insert), std::string(suffix), {}});
  c_.deferred.back().rows.push_back(std::move(row));
}

namespace {
// The deferred rows, one multi-row INSERT per prefix (at most 500 rows each,
// well inside the statement's parameter limit).
void FlushDeferred(Session& s, PooledConnection& c) {
  auto deferred = std::move(c.deferred);
  c.deferred.clear();
  for (const auto& d : deferred)
    for (size_t from = 0; from < d.rows.size(); from += 500)
      s.InsertRows(d.insert, std::span(d.rows).subspan(from, std::min<size_t>(500, d.rows.size() - from)), d.suffix);
}
}  // namespace

void Session::AfterCommit(std::function<void()> fn) {
  if (c_.in_tx) c_.after_commit.push_back(std::move(fn));
  else fn();  // autocommit: the statement already committed
}

bool Session::InTransaction() const { return c_.in_tx; }

std::shared_ptr<void>& Session::LocalSlot(std::type_index type) {
  if (!c_.in_tx) throw std::logic_error("Session::Local outside a transaction");
  return c_.locals[type];
}

uint64_t Session::LastInsertId() {
  auto rows = QueryV("SELECT LAST_INSERT_ID() AS id", {});
  rows.Next();
  return rows.UInt("id");
}

// ---- pool

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
