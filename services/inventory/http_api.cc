#include "services/inventory/http_api.h"

#include "events/identifiers.h"
#include "services/inventory/rules.h"
#include "services/inventory/store.h"

namespace op::inventory {

namespace {
constexpr size_t kMaxSkusPerQuery = 200;

// ?skus=a,b,c: each a valid sku, at most 200 (order-service prices an order
// with one call).
std::vector<db::Param> ParseSkuFilter(const std::string& list) {
  std::vector<db::Param> skus;
  size_t pos = 0;
  while (pos <= list.size()) {
    auto comma = list.find(',', pos);
    std::string sku = list.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
    if (!sku.empty()) {
      if (!events::ValidSku(sku))
        throw http::HttpError(http::Problem(http::MakeProblem(400, "invalid sku in the skus filter").Field("skus", "'" + sku + "' is not a valid sku")));
      skus.push_back(sku);
    }
    if (comma == std::string::npos) break;
    pos = comma + 1;
  }
  if (skus.size() > kMaxSkusPerQuery)
    throw http::HttpError(http::Problem(http::MakeProblem(400, "too many skus").Field("skus", "at most 200")));
  return skus;
}
}  // namespace

void AddRoutes(Service& svc) {
  svc.router().Get("/api/products", http::Access::Public(), [&svc](http::Request& req) {
    auto filter = req.Query("skus");
    auto items = filter ? ProductsBySku(svc.db(), ParseSkuFilter(*filter)) : ListProducts(svc.db());
    return http::Response::Json(200, {{"items", items}});
  });

  svc.router().Get("/api/products/{sku}", http::Access::Public(), [&svc](http::Request& req) {
    const auto& sku = req.PathParam("sku");
    auto product = events::ValidSku(sku) ? FindProduct(svc.db(), sku) : std::nullopt;
    if (!product) throw http::HttpError(404, "no product '" + sku + "'");
    return http::Response::Json(200, *product);
  });

  svc.router().Put("/api/products/{sku}", http::Access::Roles({auth::kAdmin}), [&svc](http::Request& req) {
    const auto& sku = req.PathParam("sku");
    if (!events::ValidSku(sku))
      throw http::HttpError(http::Problem(http::MakeProblem(400, "invalid sku").Field("sku", events::kSkuRule)));
    auto in = ParseProductInput(req.JsonBody());
    auto [product, created] = svc.db().Transact([&](db::Session& s) { return PutProduct(s, sku, in); });
    auto resp = http::Response::Json(created ? 201 : 200, product);
    if (created) resp.headers.Set("Location", "/api/products/" + sku);
    return resp;
  });
}

}  // namespace op::inventory
