// inventory-service: the product catalog with prices and stock. Reserves
// every line of an order atomically or rejects it; releases on cancellation;
// turns a reservation into a sale on confirmation. Stock is conserved per sku:
// available + reserved + sold changes only through PUT /api/products.
#include <fmt/format.h>

#include <optional>
#include <set>
#include <utility>

#include "events/topics.h"
#include "runtime/logging/log.h"
#include "runtime/service/service.h"
#include "services/inventory/rules.h"

namespace op::inventory {
namespace {

nlohmann::json ProductJson(const db::Rows& r) {
  return {{"sku", r.String("sku")}, {"name", r.String("name")}, {"priceCents", r.Int("price_cents")},
          {"available", r.Int("available")}, {"reserved", r.Int("reserved")}, {"sold", r.Int("sold")}};
}

constexpr const char* kProductColumns = "sku, name, price_cents, available, reserved, sold";

std::vector<Line> LinesOf(const google::protobuf::RepeatedPtrField<events::OrderItem>& items) {
  std::vector<Line> lines;
  for (const auto& i : items) {
    if (!ValidSku(i.sku()) || i.quantity() <= 0)
      throw kafka::PoisonRecord(fmt::format("invalid order line: sku '{}' quantity {}", i.sku(), i.quantity()));
    lines.push_back({i.sku(), i.quantity()});
  }
  if (lines.empty()) throw kafka::PoisonRecord("OrderCreated has no items");
  return lines;
}

// The stock and reservations one transaction of events works on
// (Session::Local). Each product row and each order's reservations are read
// once, with a locking read (a batch's all up front: LoadBatch), then changed
// here by every event of the transaction, and written back just before the
// commit (WriteBack): the changed products in one statement, the new
// reservations in one, the settled ones in one per new status. A batch of
// events is then a handful of statements however many orders it holds, and
// the hot product rows stay locked for that much less time. The rows are
// locked when read, so writing their new values back loses no update.
struct Stock {
  int64_t available, reserved, sold;
};
struct Reservation {
  std::string status;                  // RESERVED, SOLD or RELEASED (all lines alike)
  std::map<std::string, int64_t> lines;  // sku -> quantity
  bool stored;                         // false: made in this transaction
  bool settled = false;                // stored, and its status changed here
};
struct EventStock {
  db::LockedRows<Stock> products;                        // by sku
  std::map<std::string, std::optional<Reservation>> orders;  // by order id; nullopt: holds nothing
};

void WriteBack(db::Session& s) {
  auto& st = s.Local<EventStock>();  // made already: this runs because it was
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

EventStock& Stocks(db::Session& s) { return s.Local<EventStock>(WriteBack); }

// Reads (and locks, in sku order) the products not known yet.
void LoadProducts(db::Session& s, EventStock& st, const std::set<std::string>& skus) {
  st.products.Load(s, "products", "sku", "available, reserved, sold", skus, [](const db::Rows& r) {
    return Stock{r.Int("available"), r.Int("reserved"), r.Int("sold")};
  });
}

// Reads and locks the reservations of the orders not known yet, and every
// product in `skus` or in those reservations. Products are locked first, in
// sku order, as everywhere: a locking read of reservations also locks the gap
// after them, where another order's reservation may be inserted by a
// transaction that holds products this one would then wait for. So the skus
// come from a plain read first.
void Load(db::Session& s, EventStock& st, const std::set<std::string>& order_ids, std::set<std::string> skus = {}) {
  std::vector<db::Param> missing;
  for (const auto& id : order_ids)
    if (!st.orders.count(id)) missing.push_back(id);
  if (missing.empty()) return LoadProducts(s, st, skus);
  const std::string in = db::PaddedInList(missing);
  auto held = s.QueryV("SELECT DISTINCT sku FROM reservations WHERE order_id IN (" + in + ")", missing);
  while (held.Next()) skus.insert(held.String("sku"));
  LoadProducts(s, st, skus);
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
  LoadProducts(s, st, locked);  // known already, unless reserved between the two reads
}

void Reserve(db::Session& s, const events::Envelope& e) {
  auto lines = LinesOf(e.order_created().items());
  std::map<std::string, int64_t> wanted;  // quantities are > 0 (LinesOf)
  for (const auto& l : lines) wanted[l.sku] += l.quantity;
  auto& st = Stocks(s);
  std::set<std::string> skus;
  for (const auto& [sku, q] : wanted) skus.insert(sku);
  LoadProducts(s, st, skus);
  std::map<std::string, int64_t> available;
  for (const auto& sku : skus)
    if (const auto& p = st.products.rows.at(sku)) available[sku] = p->available;
  auto plan = PlanReservation(lines, available);
  auto reply = events::NewEnvelope(e.order_id(), "inventory-service", &e);
  if (plan.ok) {
    for (const auto& [sku, q] : wanted) {
      auto& p = st.products.Change(sku);
      p.available -= q;
      p.reserved += q;
    }
    st.orders[e.order_id()] = Reservation{"RESERVED", wanted, false};
    *reply.mutable_inventory_reserved()->mutable_items() = e.order_created().items();
  } else {
    reply.mutable_inventory_rejected()->set_reason(plan.reason);
    for (const auto& sku : plan.skus) reply.mutable_inventory_rejected()->add_skus(sku);
    log::Info("reservation rejected", {{"reason", plan.reason}, {"skus", plan.skus}});
  }
  events::SealEventType(reply);
  outbox::EnqueueEvent(s, reply);
}

// A product a reservation holds stock of, to change. Products are never
// deleted through the API; a row removed by hand would leave the reservation
// unsettleable: the event goes to the dead-letter topic, naming the sku.
Stock& Product(EventStock& st, const std::string& sku) {
  if (!st.products.rows.at(sku))
    throw kafka::PoisonRecord("a reservation holds stock of product '" + sku + "', which does not exist");
  return st.products.Change(sku);
}

// The order's reservation as this transaction knows it (nullptr: it holds
// nothing), with its products loaded.
Reservation* Held(db::Session& s, EventStock& st, const std::string& order_id) {
  Load(s, st, {order_id});
  auto& r = st.orders.at(order_id);
  return r ? &*r : nullptr;
}

void Settle(Reservation& r, const std::string& status) {
  r.status = status;
  r.settled = r.stored;
}

// An order's reservations become a sale.
void Sell(db::Session& s, const events::Envelope& e) {
  auto& st = Stocks(s);
  auto* r = Held(s, st, e.order_id());
  if (!r || r->status != "RESERVED") return;
  for (const auto& [sku, q] : r->lines) {
    auto& p = Product(st, sku);
    p.reserved -= q;
    p.sold += q;
  }
  Settle(*r, "SOLD");
}

void Release(db::Session& s, const events::Envelope& e) {
  auto& st = Stocks(s);
  auto* r = Held(s, st, e.order_id());
  if (!r || (r->status != "RESERVED" && r->status != "SOLD")) return;  // nothing held (rejected, never seen, released)
  auto reply = events::NewEnvelope(e.order_id(), "inventory-service", &e);
  for (const auto& [sku, q] : r->lines) {
    auto& p = Product(st, sku);
    (r->status == "RESERVED" ? p.reserved : p.sold) -= q;  // after confirmation the sale goes back to stock
    p.available += q;
    auto* item = reply.mutable_inventory_released()->add_items();
    item->set_sku(sku);
    item->set_quantity(int32_t(q));
  }
  Settle(*r, "RELEASED");
  events::SealEventType(reply);
  outbox::EnqueueEvent(s, reply);
}

// A batch of events (Service::BatchLocks): every product it touches and the
// reservations its confirmations and cancellations settle, three statements
// up front.
Service::SharedRows LoadBatch(db::Session& s, const std::vector<const events::Envelope*>& batch) {
  auto& st = Stocks(s);
  std::set<std::string> skus, settled;
  for (const auto* e : batch) {
    if (e->has_order_created()) {
      for (const auto& i : e->order_created().items())
        if (ValidSku(i.sku())) skus.insert(i.sku());  // an invalid one is the effect's to reject
    } else if (e->has_order_confirmed() || e->has_order_cancelled()) {
      settled.insert(e->order_id());
    }
  }
  Load(s, st, settled, std::move(skus));
  return {};  // locked (and read) above
}

void SeedDemoData(db::ConnectionPool& db) {
  const std::tuple<const char*, const char*, int64_t, int64_t> products[] = {
      {"SKU-BOOK", "The Pragmatic Programmer", 3999, 100}, {"SKU-MUG", "Coffee mug", 899, 250},
      {"SKU-TSHIRT", "T-shirt", 1999, 150},                {"SKU-KEYBOARD", "Mechanical keyboard", 12999, 40},
      {"SKU-LAPTOP", "Laptop", 149999, 10}};
  for (const auto& [sku, name, price, available] : products)
    db.Exec("INSERT IGNORE INTO products (sku, name, price_cents, available) VALUES (?, ?, ?, ?)", sku, name, price, available);
  log::Info("demo catalog loaded (existing products kept)");
}

std::unique_ptr<ServiceState> Wire(Service& svc) {
  if (svc.config().GetBool("inventory.seed-demo-data")) SeedDemoData(svc.db());

  svc.router().Get("/api/products", [&svc](http::Request& req) {
    nlohmann::json items = nlohmann::json::array();
    if (auto filter = req.Query("skus")) {
      std::vector<db::Param> skus;
      size_t pos = 0;
      std::string list = *filter;
      while (pos <= list.size()) {
        auto comma = list.find(',', pos);
        std::string sku = list.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
        if (!sku.empty()) {
          if (!ValidSku(sku)) {
            http::Problem p = http::MakeProblem(400, "invalid sku in the skus filter");
            p.Field("skus", "'" + sku + "' is not a valid sku");
            throw http::HttpError(p);
          }
          skus.push_back(sku);
        }
        if (comma == std::string::npos) break;
        pos = comma + 1;
      }
      if (skus.size() > 200) throw http::HttpError(http::Problem(http::MakeProblem(400, "too many skus").Field("skus", "at most 200")));
      if (skus.empty()) return http::Response::Json(200, {{"items", items}});
      auto lease = svc.db().Acquire();
      auto r = lease.session().QueryV(fmt::format("SELECT {} FROM products WHERE sku IN ({}) ORDER BY sku", kProductColumns,
                                                  db::InList(skus.size())), skus);
      while (r.Next()) items.push_back(ProductJson(r));
    } else {
      auto r = svc.db().Query(fmt::format("SELECT {} FROM products ORDER BY sku LIMIT 1000", kProductColumns));
      while (r.Next()) items.push_back(ProductJson(r));
    }
    return http::Response::Json(200, {{"items", items}});
  });

  svc.router().Get("/api/products/{sku}", [&svc](http::Request& req) {
    const auto& sku = req.PathParam("sku");
    if (!ValidSku(sku)) throw http::HttpError(404, "no product '" + sku + "'");
    auto r = svc.db().Query(fmt::format("SELECT {} FROM products WHERE sku = ?", kProductColumns), sku);
    if (!r.Next()) throw http::HttpError(404, "no product '" + sku + "'");
    return http::Response::Json(200, ProductJson(r));
  });

  svc.router().Put("/api/products/{sku}", [&svc](http::Request& req) {
    const auto& sku = req.PathParam("sku");
    if (!ValidSku(sku))
      throw http::HttpError(http::Problem(http::MakeProblem(400, "invalid sku").Field("sku", "1 to 64 of A-Z a-z 0-9 . _ -")));
    auto in = ParseProductInput(req.JsonBody());
    bool created = false;
    nlohmann::json product;
    svc.db().Transact([&](db::Session& s) {
      auto existing = s.Query("SELECT sku FROM products WHERE sku = ? FOR UPDATE", sku);
      created = !existing.Next();
      if (created)
        s.Exec("INSERT INTO products (sku, name, price_cents, available) VALUES (?, ?, ?, ?)", sku, in.name,
               in.price_cents, in.available);
      else
        s.Exec("UPDATE products SET name = ?, price_cents = ?, available = ? WHERE sku = ?", in.name, in.price_cents,
               in.available, sku);
      auto r = s.Query(fmt::format("SELECT {} FROM products WHERE sku = ?", kProductColumns), sku);
      r.Next();
      product = ProductJson(r);
    });
    auto resp = http::Response::Json(created ? 201 : 200, product);
    if (created) resp.headers.Set("Location", "/api/products/" + sku);
    return resp;
  });

  svc.HandleEvents({std::string(events::kOrderEvents)}, [](db::Session& s, const events::Envelope& e) {
    switch (e.payload_case()) {
      case events::Envelope::kOrderCreated: Reserve(s, e); break;
      case events::Envelope::kOrderConfirmed: Sell(s, e); break;
      case events::Envelope::kOrderCancelled: Release(s, e); break;
      default: break;  // not ours
    }
  }, LoadBatch);
  return nullptr;  // the handlers need nothing of their own
}

}  // namespace
}  // namespace op::inventory

int main(int argc, char** argv) {
  op::ServiceSpec spec;
  spec.name = "inventory-service";
  spec.default_port = 8084;
  spec.uses_database = true;
  spec.uses_kafka = true;
  spec.migrations = {
      {1, "products",
       "CREATE TABLE products ("
       " sku VARCHAR(64) PRIMARY KEY, name VARCHAR(200) NOT NULL, price_cents BIGINT NOT NULL,"
       " available BIGINT NOT NULL, reserved BIGINT NOT NULL DEFAULT 0, sold BIGINT NOT NULL DEFAULT 0,"
       " created_at TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),"
       " updated_at TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3) ON UPDATE CURRENT_TIMESTAMP(3),"
       " CONSTRAINT stock_not_negative CHECK (available >= 0 AND reserved >= 0 AND sold >= 0)"
       ") ENGINE=InnoDB"},
      {2, "reservations",
       "CREATE TABLE reservations ("
       " order_id VARCHAR(64) NOT NULL, sku VARCHAR(64) NOT NULL, quantity BIGINT NOT NULL,"
       " status VARCHAR(16) NOT NULL,"
       " created_at TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),"
       " updated_at TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3) ON UPDATE CURRENT_TIMESTAMP(3),"
       " PRIMARY KEY (order_id, sku)"
       ") ENGINE=InnoDB"},
  };
  spec.declare_config = [](op::config::Schema& s) {
    s.Add("inventory.seed-demo-data", op::config::Type::kBool, "false", "load the demo catalog at start (keeps existing rows)");
  };
  return op::Service::Run(spec, argc, argv, op::inventory::Wire);
}
