#pragma once
// inventory_db, all of its SQL: the catalog (the REST API's reads and
// writes), and the stock and reservations a batch of saga events reads,
// locks and writes back.
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "runtime/db/db.h"
#include "services/inventory/rules.h"

namespace op::inventory {

// --- the catalog ---
std::optional<nlohmann::json> FindProduct(db::ConnectionPool& db, const std::string& sku);
nlohmann::json ListProducts(db::ConnectionPool& db);                                 // at most 1000, by sku
nlohmann::json ProductsBySku(db::ConnectionPool& db, std::vector<db::Param> skus);  // the ones that exist
// Creates or replaces the product's name, price and available stock;
// returns it and whether it was created.
std::pair<nlohmann::json, bool> PutProduct(db::Session& s, const std::string& sku, const ProductInput& in);
void SeedDemoCatalog(db::ConnectionPool& db);  // existing products are kept

// --- a batch of events ---
struct Stock {
  int64_t available, reserved, sold;
};
struct Reservation {
  std::string status;                    // RESERVED, SOLD or RELEASED (all lines alike)
  std::map<std::string, int64_t> lines;  // sku -> quantity
  bool stored;                           // false: made in this batch
  bool settled = false;                  // stored, and its status changed in this batch
};
// The stock and reservations one batch works on: each product row and each
// order's reservations read once with a locking read, changed in memory by
// every event, and written back at the end (WriteStock). The rows are locked
// when read, so writing their new values back loses no update.
struct StockRows {
  db::LockedRows<Stock> products;                            // by sku
  std::map<std::string, std::optional<Reservation>> orders;  // by order id; nullopt: holds nothing
};
// Reads (and locks, in sku order) the products not known yet.
void LockProducts(db::Session& s, StockRows& st, const std::set<std::string>& skus);
// Reads and locks the reservations of the orders not known yet, and every
// product in `skus` or in those reservations (products first, in sku order).
void LockReservations(db::Session& s, StockRows& st, const std::set<std::string>& order_ids, std::set<std::string> skus = {});
// The changed products in one statement, the new reservations in one, the
// settled ones in one per new status.
void WriteStock(db::Session& s, const StockRows& st);

}  // namespace op::inventory
