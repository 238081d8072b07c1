#pragma once
// One connection's statements, inside a transaction or in autocommit.
#include <cstdint>
#include <functional>
#include <memory>
#include <set>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <typeindex>
#include <vector>

#include "runtime/db/params.h"
#include "runtime/db/rows.h"

namespace sql {
class PreparedStatement;
}  // namespace sql

namespace op::db {

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

}  // namespace op::db
