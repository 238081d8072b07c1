// inventory-service: the product catalog with prices and stock. Reserves
// every line of an order atomically or rejects it; releases on cancellation;
// turns a reservation into a sale on confirmation. Stock is conserved per sku:
// available + reserved + sold changes only through PUT /api/products.
#include <fmt/format.h>

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

// The usual case, one statement per sku: each sku's stock taken where there
// is enough (PlanReservation's rule, in the WHERE), in sku order. When one
// falls short, what was taken is put back (the rows stay locked by this
// transaction) and false is returned: the caller then plans from a read.
bool TakeStock(db::Session& s, const std::map<std::string, int64_t>& wanted) {
  std::vector<std::pair<std::string, int64_t>> taken;
  for (const auto& [sku, q] : wanted) {
    if (s.Exec("UPDATE products SET available = available - ?, reserved = reserved + ? WHERE sku = ? AND available >= ?",
               q, q, sku, q) != 1) {
      for (const auto& [t, tq] : taken)
        s.Exec("UPDATE products SET available = available + ?, reserved = reserved - ? WHERE sku = ?", tq, tq, t);
      return false;
    }
    taken.emplace_back(sku, q);
  }
  return true;
}

void Reserve(db::Session& s, const events::Envelope& e) {
  auto lines = LinesOf(e.order_created().items());
  std::map<std::string, int64_t> wanted;  // quantities are > 0 (LinesOf)
  for (const auto& l : lines) wanted[l.sku] += l.quantity;
  ReservationPlan plan{true, "", {}};
  if (!TakeStock(s, wanted)) {
    std::vector<db::Param> skus;
    for (const auto& [sku, q] : wanted) skus.push_back(sku);
    // Locks the rows in primary-key order, so concurrent orders cannot
    // deadlock on each other's lines and no update is lost.
    auto rows = s.QueryV("SELECT sku, available FROM products WHERE sku IN (" + db::InList(skus.size()) +
                             ") ORDER BY sku FOR UPDATE", skus);
    std::map<std::string, int64_t> available;
    while (rows.Next()) available[rows.String("sku")] = rows.Int("available");
    plan = PlanReservation(lines, available);
    // A sku created between the two reads: the rows are locked now, so this
    // takes; if not, retry the event rather than reserve on a wrong read.
    if (plan.ok && !TakeStock(s, wanted)) throw std::runtime_error("stock changed under its row lock");
  }
  auto reply = events::NewEnvelope(e.order_id(), "inventory-service", &e);
  if (plan.ok) {
    std::vector<std::vector<db::Param>> held;
    for (const auto& [sku, q] : wanted) held.push_back({e.order_id(), sku, q, std::string("RESERVED")});
    s.InsertRows("INSERT INTO reservations (order_id, sku, quantity, status) VALUES", held);
    *reply.mutable_inventory_reserved()->mutable_items() = e.order_created().items();
  } else {
    reply.mutable_inventory_rejected()->set_reason(plan.reason);
    for (const auto& sku : plan.skus) reply.mutable_inventory_rejected()->add_skus(sku);
    log::Info("reservation rejected", {{"reason", plan.reason}, {"skus", plan.skus}});
  }
  events::SealEventType(reply);
  outbox::EnqueueEvent(s, reply);
}

// An order's reservations become a sale: one statement moving each
// reservation's quantity from reserved to sold and marking it SOLD.
void Sell(db::Session& s, const events::Envelope& e) {
  s.Exec("UPDATE reservations r JOIN products p ON p.sku = r.sku "
         "SET p.reserved = p.reserved - r.quantity, p.sold = p.sold + r.quantity, r.status = 'SOLD' "
         "WHERE r.order_id = ? AND r.status = 'RESERVED'",
         e.order_id());
}

// The product rows a batch of events will update (Service::BatchLocks): the
// skus of new orders' lines and of the reservations that confirmations and
// cancellations settle.
Service::SharedRows ProductsOf(db::Session& s, const std::vector<const events::Envelope*>& batch) {
  Service::SharedRows products{"products", "sku", {}};
  auto& skus = products.values;
  std::vector<db::Param> settled;
  for (const auto* e : batch) {
    if (e->has_order_created()) {
      for (const auto& i : e->order_created().items())
        if (ValidSku(i.sku())) skus.insert(i.sku());  // an invalid one is the effect's to reject
    } else if (e->has_order_confirmed() || e->has_order_cancelled()) {
      settled.push_back(e->order_id());
    }
  }
  if (!settled.empty()) {
    auto rows = s.QueryV("SELECT DISTINCT sku FROM reservations WHERE order_id IN (" + db::InList(settled.size()) + ")",
                         settled);
    while (rows.Next()) skus.insert(rows.String("sku"));
  }
  return products;
}

void Release(db::Session& s, const events::Envelope& e) {
  auto rows = s.Query("SELECT sku, quantity, status FROM reservations WHERE order_id = ? AND status IN ('RESERVED', 'SOLD') "
                      "ORDER BY sku FOR UPDATE", e.order_id());
  struct Held { std::string sku; int64_t q; std::string status; };
  std::vector<Held> held;
  while (rows.Next()) held.push_back({rows.String("sku"), rows.Int("quantity"), rows.String("status")});
  if (held.empty()) return;  // nothing was reserved (rejected, or never seen)
  auto reply = events::NewEnvelope(e.order_id(), "inventory-service", &e);
  for (const auto& h : held) {
    if (h.status == "RESERVED")
      s.Exec("UPDATE products SET reserved = reserved - ?, available = available + ? WHERE sku = ?", h.q, h.q, h.sku);
    else  // cancelled after confirmation: the sale goes back to stock
      s.Exec("UPDATE products SET sold = sold - ?, available = available + ? WHERE sku = ?", h.q, h.q, h.sku);
    auto* item = reply.mutable_inventory_released()->add_items();
    item->set_sku(h.sku);
    item->set_quantity(int32_t(h.q));
  }
  s.Exec("UPDATE reservations SET status = 'RELEASED' WHERE order_id = ? AND status IN ('RESERVED', 'SOLD')", e.order_id());
  events::SealEventType(reply);
  outbox::EnqueueEvent(s, reply);
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

void Wire(Service& svc) {
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
  }, ProductsOf);
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
