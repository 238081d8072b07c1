#pragma once
// payment-service's REST API: GET/PUT /api/accounts/{customerId},
// POST /api/accounts/{customerId}/deposit (Idempotency-Key).
#include "runtime/service/service.h"

namespace op::payment {

void AddRoutes(Service& svc);

}  // namespace op::payment
