#include "services/order/store.h"

#include <algorithm>
#include <set>

#include "runtime/core/time_format.h"

namespace op::order {

namespace {
constexpr const char* kInsertHistory = "INSERT INTO order_history (order_id, event, source, at, detail) VALUES";

// What a saga step reads of an order.
constexpr const char* kLockedColumns =
    "status, payment_status, inventory_status, reason, customer_id, total_cents, currency, "
    "TIMESTAMPDIFF(MICROSECOND, created_at, CURRENT_TIMESTAMP(3)) AS age_us";

LockedOrder LockedFrom(const db::Rows& r) {
  return LockedOrder{{r.String("status"), r.String("payment_status"), r.String("inventory_status")},
                     r.OptString("reason"),
                     r.String("customer_id"),
                     r.Int("total_cents"),
                     r.String("currency"),
                     double(r.Int("age_us")) / 1e6};
}

std::string TrimMicros(std::string t) { return t.size() == 27 ? t.substr(0, 23) + "Z" : t; }  // %f: keep milliseconds

// A JSON array the server built, sorted by its "n", which is then dropped;
// no detail rather than a null one.
nlohmann::json Ordered(const std::optional<std::string>& text) {
  auto a = text ? nlohmann::json::parse(*text) : nlohmann::json::array();
  std::sort(a.begin(), a.end(), [](const auto& x, const auto& y) { return x.at("n") < y.at("n"); });
  for (auto& e : a) {
    e.erase("n");
    if (e.contains("detail") && e["detail"].is_null()) e.erase("detail");
  }
  return a;
}
}  // namespace

// One statement (one round trip, not three): the lines and steps come as JSON
// arrays built by the server. MySQL's JSON_ARRAYAGG takes no ORDER BY, so each
// element carries its position and they are sorted here.
std::optional<nlohmann::json> OrderJson(db::Session& s, const std::string& id) {
  auto o = s.Query(
      "SELECT id, customer_id, status, reason, total_cents, currency, "
      "DATE_FORMAT(created_at, '%Y-%m-%dT%H:%i:%s.%fZ') AS created, "
      "DATE_FORMAT(updated_at, '%Y-%m-%dT%H:%i:%s.%fZ') AS updated, "
      "(SELECT JSON_ARRAYAGG(JSON_OBJECT('n', line_no, 'sku', sku, 'quantity', quantity, "
      "'unitPriceCents', unit_price_cents)) FROM order_items WHERE order_id = o.id) AS items, "
      "(SELECT JSON_ARRAYAGG(JSON_OBJECT('n', id, 'event', event, 'source', source, "
      "'at', DATE_FORMAT(at, '%Y-%m-%dT%H:%i:%s.%fZ'), 'detail', detail)) FROM order_history WHERE order_id = o.id) AS history "
      "FROM orders o WHERE id = ?", id);
  if (!o.Next()) return std::nullopt;
  nlohmann::json j = {{"orderId", o.String("id")}, {"customerId", o.String("customer_id")},
                      {"status", o.String("status")}, {"reason", nullptr},
                      {"totalCents", o.Int("total_cents")}, {"currency", o.String("currency")},
                      {"createdAt", TrimMicros(o.String("created"))}, {"updatedAt", TrimMicros(o.String("updated"))}};
  if (auto r = o.OptString("reason")) j["reason"] = *r;
  j["items"] = Ordered(o.OptString("items"));
  j["history"] = Ordered(o.OptString("history"));
  for (auto& step : j["history"]) step["at"] = TrimMicros(step["at"]);
  return j;
}

void AddHistory(db::Session& s, const std::string& order_id, const std::vector<HistoryEntry>& entries, bool defer) {
  std::vector<std::vector<db::Param>> rows;
  for (const auto& h : entries)
    rows.push_back({order_id, h.event, h.source, FormatSqlTimestamp(ParseRfc3339(h.at).value_or(std::chrono::system_clock::now())),
                    h.detail.empty() ? db::Param(nullptr) : db::Param(h.detail)});
  if (!defer) {
    s.InsertRows(kInsertHistory, rows);
    return;
  }
  for (auto& row : rows) s.DeferInsert(kInsertHistory, std::move(row));
}

void InsertOrder(db::Session& s, const NewOrderRows& o) {
  s.DeferInsert("INSERT INTO orders (id, customer_id, status, total_cents, currency, contact_email, contact_phone, "
                "idempotency_key, created_at, updated_at, deadline_at) VALUES",
                {o.id, o.customer_id, std::string("PENDING"), o.total_cents, o.currency, db::ToParam(o.email),
                 db::ToParam(o.phone), db::ToParam(o.idempotency_key), o.created, o.created, o.deadline});
  for (size_t i = 0; i < o.items.size(); ++i)
    s.DeferInsert("INSERT INTO order_items (order_id, line_no, sku, quantity, unit_price_cents) VALUES",
                  {o.id, int64_t(i), o.items[i].sku, int64_t(o.items[i].quantity), o.unit_prices[i]});
}

std::optional<std::string> OrderIdForKey(db::Session& s, const std::string& customer, const std::string& key) {
  auto found = s.Query("SELECT id FROM orders WHERE customer_id = ? AND idempotency_key = ?", customer, key);
  if (!found.Next()) return std::nullopt;
  return found.String("id");
}

void LockOrders(db::Session& s, LockedOrders& orders, const std::set<std::string>& ids) {
  orders.Load(s, "orders", "id", kLockedColumns, ids, LockedFrom);
}

void WriteOrders(db::Session& s, const LockedOrders& orders) {
  static constexpr std::string_view kColumns[] = {"status", "payment_status", "inventory_status", "reason"};
  orders.WriteBack(s, "orders", "id", kColumns, [](const LockedOrder& o) {
    return std::vector<db::Param>{o.state.status, o.state.payment, o.state.inventory, db::ToParam(o.reason)};
  });
}

std::optional<LockedOrder> LockOrder(db::Session& s, const std::string& id) {
  auto r = s.LockRows("orders", "id", kLockedColumns, {id});
  if (!r.Next()) return std::nullopt;
  return LockedFrom(r);
}

void WriteState(db::Session& s, const std::string& id, const SagaStep& step) {
  s.Exec("UPDATE orders SET status = ?, payment_status = ?, inventory_status = ?, reason = COALESCE(?, reason) WHERE id = ?",
         step.next.status, step.next.payment, step.next.inventory,
         step.emit == SagaStep::Emit::kCancel ? db::Param(step.reason) : db::Param(nullptr), id);
}

std::vector<std::pair<std::string, int64_t>> ListOrderIds(db::Session& s, const ListQuery& q) {
  std::string sql = "SELECT id, seq FROM orders WHERE 1=1";
  std::vector<db::Param> params;
  if (q.customer_id) sql += " AND customer_id = ?", params.push_back(*q.customer_id);
  if (q.status) sql += " AND status = ?", params.push_back(*q.status);
  if (q.after_seq) sql += " AND seq < ?", params.push_back(*q.after_seq);
  sql += " ORDER BY seq DESC LIMIT ?";
  params.push_back(int64_t(q.limit + 1));  // one more tells whether a next page exists
  std::vector<std::pair<std::string, int64_t>> ids;
  auto rows = s.QueryV(sql, params);
  while (rows.Next()) ids.emplace_back(rows.String("id"), rows.Int("seq"));
  return ids;
}

std::vector<std::string> OrdersPastDeadline(db::ConnectionPool& db, int limit) {
  std::vector<std::string> due;
  auto r = db.Query("SELECT id FROM orders WHERE status = 'PENDING' AND deadline_at < CURRENT_TIMESTAMP(3) "
                    "ORDER BY deadline_at LIMIT ?",
                    int64_t(limit));
  while (r.Next()) due.push_back(r.String("id"));
  return due;
}

}  // namespace op::order
