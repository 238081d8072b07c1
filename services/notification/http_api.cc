#include "services/notification/http_api.h"

#include "services/notification/store.h"

namespace op::notification {

namespace {
ListFilter ParseListQuery(const http::Request& req) {
  ListFilter f;
  http::Validation v;
  for (const auto& [k, val] : req.query)
    if (k != "orderId" && k != "customerId") v.Add(k, "is not a known query parameter (orderId, customerId)");
  if (auto o = req.Query("orderId")) {
    if (o->empty() || o->size() > 64) v.Add("orderId", "must be 1 to 64 characters");
    f.order_id = *o;
  }
  if (auto c = req.Query("customerId")) {
    if (c->empty() || c->size() > 64) v.Add("customerId", "must be 1 to 64 characters");
    f.customer_id = *c;
  }
  v.ThrowIfInvalid();
  return f;
}
}  // namespace

void AddRoutes(Service& svc) {
  // A customer sees its own notifications only: the filter is narrowed to it.
  svc.router().Get("/api/notifications", http::Access::SignedIn(), [&svc](http::Request& req) {
    auto filter = ParseListQuery(req);
    filter.customer_id = http::CustomerScope(req, filter.customer_id, {auth::kAdmin, auth::kService});
    return http::Response::Json(200, ListNotifications(svc.db(), filter));
  });
}

}  // namespace op::notification
