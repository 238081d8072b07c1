#include "services/inventory/store.h"

#include <fmt/format.h>

#include "runtime/logging/log.h"

namespace op::inventory {

namespace {
constexpr const char* kProductColumns = "sku, name, price_cents, available, reserved, sold";

nlohmann::json ProductJson(const db::Rows& r) {
  return {{"sku", r.String("sku")}, {"name", r.String("name")}, {"priceCents", r.Int("price_cents")},
          {"available", r.Int("available")}, {"reserved", r.Int("reserved")}, {"sold", r.Int("sold")}};
}
}  // namespace

std::optional<nlohmann::json> FindProduct(db::ConnectionPool& db, const std::string& sku) {
  auto r = db.Query(fmt::format("SELECT {} FROM products WHERE sku = ?", kProductColumns), sku);
  if (!r.Next()) return std::nullopt;
  return ProductJson(r);
}

nlohmann::json ListProducts(db::ConnectionPool& db) {
  nlohmann::json items = nlohmann::json::array();
  auto r = db.Query(fmt::format("SELECT {} FROM products ORDER BY sku LIMIT 1000", kProductColumns));
  while (r.Next()) items.push_back(ProductJson(r));
  return items;
}

nlohmann::json ProductsBySku(db::ConnectionPool& db, std::vector<db::Param> skus) {
  nlohmann::json items = nlohmann::json::array();
  if (skus.empty()) return items;
  auto lease = db.Acquire();
  auto r = lease.session().QueryV(
      fmt::format("SELECT {} FROM products WHERE sku IN ({}) ORDER BY sku", kProductColumns, db::InList(skus.size())), skus);
  while (r.Next()) items.push_back(ProductJson(r));
  return items;
}

std::pair<nlohmann::json, bool> PutProduct(db::Session& s, const std::string& sku, const ProductInput& in) {
  bool created = !s.Query("SELECT sku FROM products WHERE sku = ? FOR UPDATE", sku).Next();
  if (created)
    s.Exec("INSERT INTO products (sku, name, price_cents, available) VALUES (?, ?, ?, ?)", sku, in.name, in.price_cents,
           in.available);
  else
    s.Exec("UPDATE products SET name = ?, price_cents = ?, available = ? WHERE sku = ?", in.name, in.price_cents,
           in.available, sku);
  auto r = s.Query(fmt::format("SELECT {} FROM products WHERE sku = ?", kProductColumns), sku);
  r.Next();
  return {ProductJson(r), created};
}

void SeedDemoCatalog(db::ConnectionPool& db) {
  const std::tuple<const char*, const char*, int64_t, int64_t> products[] = {
      {"SKU-BOOK", "The Pragmatic Programmer", 3999, 100}, {"SKU-MUG", "Coffee mug", 899, 250},
      {"SKU-TSHIRT", "T-shirt", 1999, 150},                {"SKU-KEYBOARD", "Mechanical keyboard", 12999, 40},
      {"SKU-LAPTOP", "Laptop", 149999, 10}};
  for (const auto& [sku, name, price, available] : products)
    db.Exec("INSERT IGNORE INTO products (sku, name, price_cents, available) VALUES (?, ?, ?, ?)", sku, name, price, available);
  log::Info("demo catalog loaded (existing products kept)");
}

void LockProducts(db::Session& s, StockRows& st, const std::set<std::string>& skus) {
  st.products.Load(s, "products", "sku", "available, reserved, sold", skus, [](const db::Rows& r) {
    return Stock{r.Int("available"), r.Int("reserved"), r.Int("sold")};
  });
}

// Products are locked before reservations, in sku order, as everywhere: a
// locking read of reservations also locks the gap after them, where another
// order's reservation may be inserted by a transaction that holds products
// this one would then wait for. So the skus come from a plain read first.
void LockReservations(db::Session& s, StockRows& st, const std::set<std::string>& order_ids, std::set<std::string> skus) {
  std::vector<db::Param> missing;
  for (const auto& id : order_ids)
    if (!st.orders.count(id)) missing.push_back(id);
  if (missing.empty()) return LockProducts(s, st, skus);
  const std::string in = db::PaddedInList(missing);
  auto held = s.QueryV("SELECT DISTINCT sku FROM reservations WHERE order_id IN (" + in + ")", missing);
  while (held.Next()) skus.insert(held.String("sku"));
  LockProducts(s, st, skus);
  // Locked now: an order's rows change only through its own events, but two
  // consumers may briefly both hold its partition during a rebalance.
  auto rows = s.QueryV("SELECT order_id, sku, quantity, status FROM reservations WHERE order_id IN (" + in +
                           ") ORDER BY order_id, sku FOR UPDATE", missing);
  for (const auto& id : missing) st.orders[std::get<std::string>(id)] = std::nullopt;
  std::set<std::string> locked;
  while (rows.Next()) {
    auto& r = st.orders[rows.String("order_id")];
    if (!r) r = Reservation{rows.String("status"), {}, true};
    r->lines[rows.String("sku")] = rows.Int("quantity");
    locked.insert(rows.String("sku"));
  }
  LockProducts(s, st, locked);  // known already, unless reserved between the two reads
}

void WriteStock(db::Session& s, const StockRows& st) {
  static constexpr std::string_view kStockColumns[] = {"available", "reserved", "sold"};
  st.products.WriteBack(s, "products", "sku", kStockColumns,
                        [](const Stock& p) { return std::vector<db::Param>{p.available, p.reserved, p.sold}; });
  std::map<std::string, std::vector<db::Param>> settled;  // new status -> orders
  for (const auto& [id, r] : st.orders) {
    if (!r) continue;
    if (!r->stored)  // new: with the commit's multi-row insert
      for (const auto& [sku, q] : r->lines)
        s.DeferInsert("INSERT INTO reservations (order_id, sku, quantity, status) VALUES", {id, sku, q, r->status});
    else if (r->settled)
      settled[r->status].push_back(id);
  }
  for (auto& [status, params] : settled) {
    const std::string in = db::PaddedInList(params);
    params.insert(params.begin(), status);
    // FORCE INDEX: only these orders' rows locked, even where a scan looks cheaper.
    s.ExecV("UPDATE reservations FORCE INDEX (PRIMARY) SET status = ? WHERE order_id IN (" + in + ")", params);
  }
}

}  // namespace op::inventory
