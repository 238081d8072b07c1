#include "services/order/http_api.h"

#include "runtime/core/uuid.h"
#include "services/order/new_order.h"
#include "services/order/saga.h"

namespace op::order {

namespace {
http::HttpError NoOrder(const std::string& id) { return http::HttpError(404, "no order '" + id + "'"); }

// With an Idempotency-Key: a retry of a request that already created its
// order answers with that order as it stands now.
http::Response CreateOrderOnce(Context& ctx, http::Request& req) {
  auto o = PrepareOrder(ctx, ParseOrderRequest(req.JsonBody()), req.Header("idempotency-key"),
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
  ctx.svc.router().AddAsync("POST", "/api/orders", [c, with_key](http::Request& req, http::Respond respond) {
    if (req.Header("idempotency-key")) return respond(with_key(req));
    auto o = PrepareOrder(*c, ParseOrderRequest(req.JsonBody()), std::nullopt, req.Header("traceparent").value_or(""));
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

  ctx.svc.router().Get("/api/orders/{id}", [c](http::Request& req) {
    const auto& id = req.PathParam("id");
    if (!IsUuid(id)) throw NoOrder(id);
    auto lease = c->svc.db().Acquire();
    auto s = lease.session();
    auto order = OrderJson(s, id);
    if (!order) throw NoOrder(id);
    return http::Response::Json(200, *order);
  });

  ctx.svc.router().Get("/api/orders", [c](http::Request& req) {
    auto q = ParseListQuery(req.query);
    auto lease = c->svc.db().Acquire();
    auto s = lease.session();
    auto ids = ListOrderIds(s, q);
    nlohmann::json items = nlohmann::json::array();
    for (size_t i = 0; i < ids.size() && int(i) < q.limit; ++i)
      if (auto o = OrderJson(s, ids[i].first)) items.push_back(std::move(*o));
    nlohmann::json next = int(ids.size()) > q.limit ? nlohmann::json(EncodeCursor(ids[q.limit - 1].second)) : nullptr;
    return http::Response::Json(200, {{"items", items}, {"nextCursor", next}});
  });

  ctx.svc.router().Post("/api/orders/{id}/cancel", [c](http::Request& req) {
    const auto& id = req.PathParam("id");
    if (!IsUuid(id)) throw NoOrder(id);
    auto body = CancelByCustomer(*c, id);
    if (!body) throw NoOrder(id);
    auto resp = http::Response::Json(202, *body);
    resp.headers.Set("Location", "/api/orders/" + id);
    return resp;
  });
}

}  // namespace op::order
