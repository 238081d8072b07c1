#include "services/order/new_order.h"

#include "runtime/core/time_format.h"
#include "runtime/core/uuid.h"
#include "runtime/outbox/outbox.h"

namespace op::order {

namespace {
// Prices every requested sku: cache first, then one catalog call for the rest.
std::map<std::string, int64_t> Price(Context& ctx, const OrderRequest& req) {
  std::map<std::string, int64_t> prices;
  std::string missing;
  for (const auto& item : req.items) {
    if (auto p = ctx.prices.Get(item.sku)) prices[item.sku] = *p;
    else missing += (missing.empty() ? "" : ",") + item.sku;
  }
  if (missing.empty()) return prices;
  auto res = ctx.svc.services().Call("inventory-service", {"GET", "/api/products?skus=" + missing, {}, {}, {}});
  if (!res.ok() || res.response.status != 200) {
    http::Problem p = http::MakeProblem(503, "the catalog (inventory-service) is unavailable: " +
                                                 (res.ok() ? "status " + std::to_string(res.response.status) : res.error));
    auto wait = std::chrono::duration_cast<std::chrono::seconds>(
        ctx.svc.resilience().GetCircuitBreaker("inventory-service").RemainingOpenWait());
    p.headers.Set("Retry-After", std::to_string(std::max<int64_t>(1, wait.count())));
    throw http::HttpError(p);
  }
  const nlohmann::json catalog = res.response.Json();  // named: a range-for over a temporary's member dangles
  for (const auto& product : catalog["items"]) {
    prices[product["sku"]] = product["priceCents"];
    ctx.prices.Put(product["sku"], product["priceCents"]);
  }
  return prices;
}

std::optional<std::string> NonEmpty(const std::string& s) { return s.empty() ? std::nullopt : std::optional(s); }
}  // namespace

std::shared_ptr<const NewOrder> PrepareOrder(Context& ctx, OrderRequest req, std::optional<std::string> idempotency_key,
                                             const std::string& traceparent) {
  auto prices = Price(ctx, req);
  http::Validation unknown;
  for (size_t i = 0; i < req.items.size(); ++i)
    if (!prices.count(req.items[i].sku))
      unknown.Add("items[" + std::to_string(i) + "].sku", "unknown sku '" + req.items[i].sku + "'");
  unknown.ThrowIfInvalid(422, "the order names skus the catalog does not have");

  auto o = std::make_shared<NewOrder>();
  auto& e = o->event;
  e = events::NewEnvelope(NewUuid(), "order-service");
  e.set_traceparent(traceparent);
  auto* oc = e.mutable_order_created();
  oc->set_customer_id(req.customer_id);
  int64_t total = 0;
  for (const auto& item : req.items) {
    auto* line = oc->add_items();
    line->set_sku(item.sku);
    line->set_quantity(int32_t(item.quantity));
    line->set_unit_price_cents(prices[item.sku]);
    o->rows.unit_prices.push_back(prices[item.sku]);
    total += prices[item.sku] * item.quantity;
  }
  oc->mutable_total()->set_cents(total);
  oc->mutable_total()->set_currency(ctx.currency);
  if (!req.email.empty()) oc->mutable_contact()->set_email(req.email);
  if (!req.phone.empty()) oc->mutable_contact()->set_phone(req.phone);
  events::SealEventType(e);
  // created_at is the OrderCreated event's time, so the 202's body is exactly
  // what a later GET shows; the saga's deadline counts from it.
  const auto created_at = ParseRfc3339(e.occurred_at()).value_or(std::chrono::system_clock::now());
  auto& r = o->rows;
  r.id = e.order_id();
  r.customer_id = req.customer_id;
  r.currency = ctx.currency;
  r.created = FormatSqlTimestamp(created_at);
  r.deadline = FormatSqlTimestamp(created_at + ctx.saga_timeout);
  r.total_cents = total;
  r.email = NonEmpty(req.email);
  r.phone = NonEmpty(req.phone);
  r.idempotency_key = std::move(idempotency_key);
  r.items = std::move(req.items);
  return o;
}

void WriteOrder(Context& ctx, db::Session& s, const NewOrder& o) {
  InsertOrder(s, o.rows);
  AddHistory(s, o.rows.id, {{"OrderCreated", "order-service", o.event.occurred_at(), ""}}, /*defer=*/true);
  outbox::EnqueueEvent(s, o.event);
  s.AfterCommit([&ctx] {
    ctx.metrics.created->Add({}).Increment();
    ctx.svc.outbox().Wake();
  });
}

nlohmann::json AcceptedJson(const events::Envelope& e) {
  const auto& oc = e.order_created();
  nlohmann::json items = nlohmann::json::array();
  for (const auto& line : oc.items())
    items.push_back({{"sku", line.sku()}, {"quantity", line.quantity()}, {"unitPriceCents", line.unit_price_cents()}});
  return {{"orderId", e.order_id()}, {"customerId", oc.customer_id()}, {"status", "PENDING"}, {"reason", nullptr},
          {"totalCents", oc.total().cents()}, {"currency", oc.total().currency()},
          {"createdAt", e.occurred_at()}, {"updatedAt", e.occurred_at()}, {"items", items},
          {"history", {{{"event", "OrderCreated"}, {"source", "order-service"}, {"at", e.occurred_at()}}}}};
}

http::Response Accepted(nlohmann::json order) {
  const std::string location = "/api/orders/" + order["orderId"].get<std::string>();
  auto resp = http::Response::Json(202, order);
  resp.headers.Set("Location", location);
  return resp;
}

}  // namespace op::order
