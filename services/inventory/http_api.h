#pragma once
// inventory-service's REST API: GET /api/products[?skus=a,b], GET and PUT
// /api/products/{sku}.
#include "runtime/service/service.h"

namespace op::inventory {

void AddRoutes(Service& svc);

}  // namespace op::inventory
