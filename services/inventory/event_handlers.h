#pragma once
// inventory-service's saga steps on order.events, as an EventBatch: reserves
// every line of an order atomically or rejects it (OrderCreated), turns a
// reservation into a sale (OrderConfirmed), releases a reservation or a sale
// (OrderCancelled). Stock is conserved per sku: available + reserved + sold
// changes only through PUT /api/products.
#include "runtime/service/event_batch.h"
#include "services/inventory/store.h"

namespace op::inventory {

class InventoryBatch final : public EventBatch {
 public:
  // Every product the batch touches and the reservations its confirmations
  // and cancellations settle, locked in three statements up front.
  void Prepare(db::Session& s, std::span<const events::Envelope* const> events) override;
  void Apply(db::Session& s, const events::Envelope& e) override;
  void Flush(db::Session& s) override { WriteStock(s, rows_); }

 private:
  void Reserve(db::Session& s, const events::Envelope& e);
  void Sell(db::Session& s, const events::Envelope& e);
  void Release(db::Session& s, const events::Envelope& e);
  Reservation* Held(db::Session& s, const std::string& order_id);
  Stock& Product(const std::string& sku);

  StockRows rows_;
};

}  // namespace op::inventory
