#pragma once
// The pool's connection with its per-connection state; shared by pool.cc and
// session.cc only (not part of the module's interface).
#include <chrono>
#include <functional>
#include <list>
#include <memory>
#include <string>
#include <string_view>
#include <typeindex>
#include <unordered_map>
#include <vector>

#include "runtime/db/params.h"

namespace sql {
class Connection;
class PreparedStatement;
class Statement;
}  // namespace sql

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

// Runs a statement that has no parameters and no rows (COMMIT, ROLLBACK).
void ExecText(PooledConnection& c, const char* sql);
// The deferred rows, one multi-row INSERT per prefix.
class Session;
void FlushDeferred(Session& s, PooledConnection& c);

}  // namespace op::db
