#pragma once
// order-service's REST API: POST /api/orders (asynchronous, through the
// group commit; with an Idempotency-Key on its own), GET /api/orders/{id},
// GET /api/orders?customerId=&status=&limit=&cursor=,
// POST /api/orders/{id}/cancel.
#include "services/order/context.h"

namespace op::order {

void AddRoutes(Context& ctx);

}  // namespace op::order
