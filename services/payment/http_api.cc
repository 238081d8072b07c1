#include "services/payment/http_api.h"

#include "events/identifiers.h"
#include "services/payment/rules.h"
#include "services/payment/store.h"

namespace op::payment {

namespace {
const std::string& CustomerParam(http::Request& req) {
  const auto& id = req.PathParam("customerId");
  if (!events::ValidCustomerId(id))
    throw http::HttpError(http::Problem(http::MakeProblem(400, "invalid customer id").Field("customerId", events::kCustomerIdRule)));
  return id;
}

http::HttpError NoAccount(const std::string& id) { return http::HttpError(404, "no account for customer '" + id + "'"); }
}  // namespace

void AddRoutes(Service& svc) {
  using http::Access;
  svc.router().Get("/api/accounts/{customerId}", Access::OwnCustomerOr("customerId", {auth::kAdmin, auth::kService}), [&svc](http::Request& req) {
    const auto& id = CustomerParam(req);
    auto lease = svc.db().Acquire();
    auto s = lease.session();
    auto account = FindAccount(s, id);
    if (!account) throw NoAccount(id);
    return http::Response::Json(200, AccountJson(*account));
  });

  svc.router().Put("/api/accounts/{customerId}", Access::Roles({auth::kAdmin}), [&svc](http::Request& req) {
    const auto& id = CustomerParam(req);
    int64_t balance = ParseBalance(req.JsonBody());
    auto [account, created] = svc.db().Transact([&](db::Session& s) { return SetBalance(s, id, balance); });
    auto resp = http::Response::Json(created ? 201 : 200, AccountJson(account));
    if (created) resp.headers.Set("Location", "/api/accounts/" + id);
    return resp;
  });

  svc.router().Post("/api/accounts/{customerId}/deposit", Access::Roles({auth::kAdmin}),
                    svc.idempotency().Wrap("POST /api/accounts/deposit", [&svc](http::Request& req) {
                      const auto& id = CustomerParam(req);
                      int64_t amount = ParseDeposit(req.JsonBody());
                      auto account = svc.db().Transact([&](db::Session& s) { return Deposit(s, id, amount); });
                      if (!account) throw NoAccount(id);
                      return http::Response::Json(200, AccountJson(*account));
                    }));
}

}  // namespace op::payment
