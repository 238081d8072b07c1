#pragma once
// notification-service's REST API: GET /api/notifications?orderId=&customerId=.
#include "runtime/service/service.h"

namespace op::notification {

void AddRoutes(Service& svc);

}  // namespace op::notification
