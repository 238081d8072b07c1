#pragma once
// Placing an order: pricing its items from the catalog (inventory-service,
// over discovery, behind a breaker, with a short cache), the OrderCreated
// event, and the rows that store it PENDING with that event in the outbox,
// in one transaction.
#include <memory>
#include <optional>

#include "runtime/http/types.h"
#include "services/order/context.h"
#include "services/order/store.h"

namespace op::order {

// A new order, priced and validated, with its OrderCreated event: what
// storing it writes and what the 202 shows.
struct NewOrder {
  events::Envelope event;
  NewOrderRows rows;
};

// Throws http::HttpError: 422 naming items[i].sku for skus the catalog does
// not have, 503 (with Retry-After) when the catalog cannot be reached.
std::shared_ptr<const NewOrder> PrepareOrder(Context& ctx, OrderRequest req, std::optional<std::string> idempotency_key,
                                             const std::string& traceparent);
// Its rows and OrderCreated, written at commit (with a group's other orders).
void WriteOrder(Context& ctx, db::Session& s, const NewOrder& o);
// The accepted order as GET /api/orders/{id} shows it, built from what was
// just written instead of read back.
nlohmann::json AcceptedJson(const events::Envelope& order_created);
// The 202 for an order, with its Location.
http::Response Accepted(nlohmann::json order);

}  // namespace op::order
