#pragma once
// orders_db, all of its SQL: orders with their lines and saga history, the
// rows a saga step locks and writes, the list and the timeout sweep's query.
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "runtime/db/db.h"
#include "services/order/rules.h"

namespace op::order {

// An order as GET /api/orders/{id} shows it (nullopt: no such order).
std::optional<nlohmann::json> OrderJson(db::Session& s, const std::string& id);

struct HistoryEntry {
  std::string event, source, at, detail;  // at: RFC 3339; detail: empty for none
};
// Steps of an order's history, in order, in one statement; `defer`: at the
// commit, with the other steps of a batch (only where nothing in the
// transaction reads the history back).
void AddHistory(db::Session& s, const std::string& order_id, const std::vector<HistoryEntry>& entries, bool defer);

// A new order's rows, written at commit with the other rows of the
// transaction (a group's orders share the statements).
struct NewOrderRows {
  std::string id, customer_id, currency, created, deadline;  // created, deadline: SQL timestamps
  int64_t total_cents;
  std::optional<std::string> email, phone, idempotency_key;
  std::vector<RequestedItem> items;
  std::vector<int64_t> unit_prices;  // by line
};
void InsertOrder(db::Session& s, const NewOrderRows& o);
// The order a customer already created with this Idempotency-Key.
std::optional<std::string> OrderIdForKey(db::Session& s, const std::string& customer, const std::string& key);

// What a saga step reads of an order, with the order locked.
struct LockedOrder {
  SagaState state;
  std::optional<std::string> reason;
  std::string customer_id;
  int64_t total;
  std::string currency;
  double age_seconds;
};
using LockedOrders = db::LockedRows<LockedOrder>;
// Reads and locks, in id order, the orders not known yet.
void LockOrders(db::Session& s, LockedOrders& orders, const std::set<std::string>& ids);
void WriteOrders(db::Session& s, const LockedOrders& orders);  // the changed ones, one statement
std::optional<LockedOrder> LockOrder(db::Session& s, const std::string& id);
void WriteState(db::Session& s, const std::string& id, const SagaStep& step);  // one order, at once

// Ids (newest first) for GET /api/orders; one more than `q.limit` when
// there is a next page.
std::vector<std::pair<std::string, int64_t>> ListOrderIds(db::Session& s, const ListQuery& q);
// PENDING orders past their deadline, oldest first, at most `limit`.
std::vector<std::string> OrdersPastDeadline(db::ConnectionPool& db, int limit);

}  // namespace op::order
