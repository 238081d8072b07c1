#include "services/order/http_api.h"

#include "runtime/core/uuid.h"
#include "services/order/new_order.h"
#include "services/order/saga.h"

namespace op::order {

namespace {
using http::Access;
http::HttpError NoOrder(const std::string& id) { return http::HttpError(404, "no order '" + id + "'"); }

// Who reads and cancels any customer's orders; a customer reaches its own
// only, and another's answers 404 as if it did not exist (its id reveals
// nothing). Placing an order for another customer is admin's alone.
const std::set<std::string> kAnyCustomer = {auth::kAdmin, auth::kService};

OrderRequest ParseOwnOrder(const http::Request& req) {
  auto o = ParseOrderRequest(req.JsonBody());
  http::RequireActsFor(req, o.customer_id, {auth::kAdmin});
  return o;
}

// The order, when the caller may see it.
std::optional<nlohmann::json> VisibleOrder(Context& ctx, const http::Request& req, const std::string& id) {
  if (!IsUuid(id)) return std::nullopt;
  auto lease = ctx.svc.db().Acquire();
  auto s = lease.session();
  auto order = OrderJson(s, id);
  if (!order || !http::ActsFor(req, (*order)["customerId"].get<std::string>(), kAnyCustomer)) return std::nullopt;
  return order;
}

// With an Idempotency-Key: a retry of a request that already created its
// order answers with that order as it stands now.
http::Response CreateOrderOnce(Context& ctx, http::Request& req) {
  auto o = PrepareOrder(ctx, ParseOwnOrder(req), req.Header("idempotency-key"),
                        req.Header("traceparent").value_or(""));
  auto existing = ctx.svc.db().Transact([&](db::Session& s) -> std::optional<nlohmann::json> {
    if (auto id = OrderIdForKey(s, o->rows.customer_id, *o->rows.idempotency_key)) return OrderJson(s, *id);
    WriteOrder(ctx, s, *o);
    return std::nullopt;
  });
  return Accepted(existing ? std::move(*existing) : AcceptedJson(o->event));
}

// New orders. Without an Idempotency-Key the order joins the next group
// commit and the 202 goes out from the committer thread once it is stored:
// no server thread waits for the commit, so a group holds every order that
// arrived meanwhile, however many. With a key, the key's own rules apply
// (runtime/idempotency/idempotency_key.h) and the order is stored on its own.
void AddCreate(Context& ctx) {
  auto* c = &ctx;
  auto with_key = ctx.svc.idempotency().Wrap("POST /api/orders", [c](http::Request& req) { return CreateOrderOnce(*c, req); });
  ctx.svc.router().AddAsync("POST", "/api/orders", Access::SignedIn(), [c, with_key](http::Request& req, http::Respond respond) {
    if (req.Header("idempotency-key")) return respond(with_key(req));
    auto o = PrepareOrder(*c, ParseOwnOrder(req), std::nullopt, req.Header("traceparent").value_or(""));
    c->creates->Submit([c, o](db::Session& s) { WriteOrder(*c, s, *o); },
                       [o, &req, respond](std::exception_ptr error) {
                         respond(error ? http::ErrorResponse(error, req) : Accepted(AcceptedJson(o->event)));
                       });
  });
}
}  // namespace

void AddRoutes(Context& ctx) {
  auto* c = &ctx;
  AddCreate(ctx);

  ctx.svc.router().Get("/api/orders/{id}", Access::SignedIn(), [c](http::Request& req) {
    const auto& id = req.PathParam("id");
    auto order = VisibleOrder(*c, req, id);
    if (!order) throw NoOrder(id);
    return http::Response::Json(200, *order);
  });

  // A customer lists its own orders: the filter is narrowed to it.
  ctx.svc.router().Get("/api/orders", Access::SignedIn(), [c](http::Request& req) {
    auto q = ParseListQuery(req.query);
    q.customer_id = http::CustomerScope(req, q.customer_id, kAnyCustomer);
    auto lease = c->svc.db().Acquire();
    auto s = lease.session();
    auto ids = ListOrderIds(s, q);
    nlohmann::json items = nlohmann::json::array();
    for (size_t i = 0; i < ids.size() && int(i) < q.limit; ++i)
      if (auto o = OrderJson(s, ids[i].first)) items.push_back(std::move(*o));
    nlohmann::json next = int(ids.size()) > q.limit ? nlohmann::json(EncodeCursor(ids[q.limit - 1].second)) : nullptr;
    return http::Response::Json(200, {{"items", items}, {"nextCursor", next}});
  });

  ctx.svc.router().Post("/api/orders/{id}/cancel", Access::SignedIn(), [c](http::Request& req) {
    const auto& id = req.PathParam("id");
    if (!VisibleOrder(*c, req, id)) throw NoOrder(id);  // an order's customer never changes
    auto body = CancelByCustomer(*c, id);
    if (!body) throw NoOrder(id);
    auto resp = http::Response::Json(202, *body);
    resp.headers.Set("Location", "/api/orders/" + id);
    return resp;
  });
}

}  // namespace op::order
