#include "runtime/db/session.h"

#include <cppconn/connection.h>
#include <cppconn/exception.h>
#include <cppconn/prepared_statement.h>
#include <cppconn/resultset.h>
#include <cppconn/statement.h>

#include <fmt/format.h>

#include <bit>

#include "runtime/db/connection.h"
#include "runtime/db/pool.h"

namespace op::db {

void ExecText(PooledConnection& c, const char* sql) {
  std::unique_ptr<sql::Statement> st(c.conn->createStatement());
  st->execute(sql);
}

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

// At most 500 rows a statement, well inside its parameter limit.
void FlushDeferred(Session& s, PooledConnection& c) {
  auto deferred = std::move(c.deferred);
  c.deferred.clear();
  for (const auto& d : deferred)
    for (size_t from = 0; from < d.rows.size(); from += 500)
      s.InsertRows(d.insert, std::span(d.rows).subspan(from, std::min<size_t>(500, d.rows.size() - from)), d.suffix);
}

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

}  // namespace op::db
