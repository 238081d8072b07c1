#pragma once
// The saga's decisions as order-service applies them: payment and
// inventory events (OrderBatch), the customer's cancel and the timeout sweep,
// each step written with its history and, when it decides the order, the
// OrderConfirmed or OrderCancelled event in the same transaction. The
// decision table itself is rules.h's.
#include "runtime/service/event_batch.h"
#include "services/order/context.h"
#include "services/order/store.h"

namespace op::order {

// Payment and inventory events. An order's two answers come on different
// topics, so on different workers: a batch reads and locks its orders once,
// in id order, up front, and writes the changed ones back in one statement.
class OrderBatch final : public EventBatch {
 public:
  explicit OrderBatch(Context& ctx) : ctx_(ctx) {}
  void Prepare(db::Session& s, std::span<const events::Envelope* const> events) override;
  void Apply(db::Session& s, const events::Envelope& e) override;
  void Flush(db::Session& s) override { WriteOrders(s, orders_); }

 private:
  Context& ctx_;
  LockedOrders orders_;
};

// POST /api/orders/{id}/cancel: the order as it stands after the cancel;
// nullopt when there is no such order. Throws http::HttpError 409 when it can
// no longer be cancelled.
std::optional<nlohmann::json> CancelByCustomer(Context& ctx, const std::string& id);

// Cancels (TIMEOUT) orders still PENDING past their deadline; for the
// "saga-timeouts" task.
void SweepTimeouts(Context& ctx);

}  // namespace op::order
