#include "services/inventory/event_handlers.h"

#include <fmt/format.h>

#include "events/identifiers.h"
#include "runtime/kafka/consumer.h"
#include "runtime/logging/log.h"
#include "runtime/outbox/outbox.h"

namespace op::inventory {

namespace {
std::vector<Line> LinesOf(const google::protobuf::RepeatedPtrField<events::OrderItem>& items) {
  std::vector<Line> lines;
  for (const auto& i : items) {
    if (!events::ValidSku(i.sku()) || i.quantity() <= 0)
      throw kafka::PoisonRecord(fmt::format("invalid order line: sku '{}' quantity {}", i.sku(), i.quantity()));
    lines.push_back({i.sku(), i.quantity()});
  }
  if (lines.empty()) throw kafka::PoisonRecord("OrderCreated has no items");
  return lines;
}

void Settle(Reservation& r, const std::string& status) {
  r.status = status;
  r.settled = r.stored;
}
}  // namespace

void InventoryBatch::Prepare(db::Session& s, std::span<const events::Envelope* const> events) {
  std::set<std::string> skus, settled;
  for (const auto* e : events) {
    if (e->has_order_created()) {
      for (const auto& i : e->order_created().items())
        if (events::ValidSku(i.sku())) skus.insert(i.sku());  // an invalid one is Apply's to reject
    } else if (e->has_order_confirmed() || e->has_order_cancelled()) {
      settled.insert(e->order_id());
    }
  }
  LockReservations(s, rows_, settled, std::move(skus));
}

void InventoryBatch::Apply(db::Session& s, const events::Envelope& e) {
  switch (e.payload_case()) {
    case events::Envelope::kOrderCreated: return Reserve(s, e);
    case events::Envelope::kOrderConfirmed: return Sell(s, e);
    case events::Envelope::kOrderCancelled: return Release(s, e);
    default: return;  // not ours
  }
}

void InventoryBatch::Reserve(db::Session& s, const events::Envelope& e) {
  auto lines = LinesOf(e.order_created().items());
  std::map<std::string, int64_t> wanted;  // quantities are > 0 (LinesOf)
  std::set<std::string> skus;
  for (const auto& l : lines) wanted[l.sku] += l.quantity, skus.insert(l.sku);
  LockProducts(s, rows_, skus);
  std::map<std::string, int64_t> available;
  for (const auto& sku : skus)
    if (const auto& p = rows_.products.rows.at(sku)) available[sku] = p->available;
  auto plan = PlanReservation(lines, available);
  auto reply = events::NewEnvelope(e.order_id(), "inventory-service", &e);
  if (plan.ok) {
    for (const auto& [sku, q] : wanted) {
      auto& p = rows_.products.Change(sku);
      p.available -= q;
      p.reserved += q;
    }
    rows_.orders[e.order_id()] = Reservation{"RESERVED", wanted, false};
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
Stock& InventoryBatch::Product(const std::string& sku) {
  if (!rows_.products.rows.at(sku))
    throw kafka::PoisonRecord("a reservation holds stock of product '" + sku + "', which does not exist");
  return rows_.products.Change(sku);
}

// The order's reservation as this batch knows it (nullptr: it holds
// nothing), with its products locked.
Reservation* InventoryBatch::Held(db::Session& s, const std::string& order_id) {
  LockReservations(s, rows_, {order_id});
  auto& r = rows_.orders.at(order_id);
  return r ? &*r : nullptr;
}

void InventoryBatch::Sell(db::Session& s, const events::Envelope& e) {
  auto* r = Held(s, e.order_id());
  if (!r || r->status != "RESERVED") return;
  for (const auto& [sku, q] : r->lines) {
    auto& p = Product(sku);
    p.reserved -= q;
    p.sold += q;
  }
  Settle(*r, "SOLD");
}

void InventoryBatch::Release(db::Session& s, const events::Envelope& e) {
  auto* r = Held(s, e.order_id());
  if (!r || (r->status != "RESERVED" && r->status != "SOLD")) return;  // nothing held (rejected, never seen, released)
  auto reply = events::NewEnvelope(e.order_id(), "inventory-service", &e);
  for (const auto& [sku, q] : r->lines) {
    auto& p = Product(sku);
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

}  // namespace op::inventory
