// order-service: accepts orders, prices them from the inventory catalog,
// stores each order PENDING with its OrderCreated event in one transaction,
// and decides the saga from the payment and inventory events (see rules.h).
#include <pthread.h>

#include <algorithm>
#include <condition_variable>
#include <memory>
#include <set>
#include <thread>
#include <unordered_map>

#include "events/topics.h"
#include "runtime/core/bounded_cache.h"
#include "runtime/core/periodic_task.h"
#include "runtime/core/time_format.h"
#include "runtime/core/uuid.h"
#include "runtime/db/group_commit.h"
#include "runtime/logging/log.h"
#include "runtime/service/service.h"
#include "services/order/rules.h"

namespace op::order {
namespace {

struct Metrics {
  prometheus::Family<prometheus::Counter>* created;
  prometheus::Family<prometheus::Counter>* terminal;
  prometheus::Family<prometheus::Histogram>* saga_seconds;
};

struct Context {
  Service& svc;
  // Short-lived catalog prices (order.price-cache-ttl): bursts of orders for
  // the same skus cost one catalog call; a price change shows within the TTL.
  BoundedCache<std::string, int64_t> prices;
  Metrics metrics;
  std::string currency;
  std::chrono::milliseconds saga_timeout;
  // New orders without an Idempotency-Key: concurrent POSTs share a
  // transaction (one commit, one multi-row insert per table), committed by
  // its order.commit-threads.
  std::unique_ptr<db::GroupCommit> creates;
};

// An order with its lines and history in one statement (one round trip, not
// three): the lines and steps come as JSON arrays built by the server. MySQL's
// JSON_ARRAYAGG takes no ORDER BY, so each element carries its position and
// they are sorted here.
nlohmann::json OrderJson(db::Session& s, const std::string& id) {
  auto o = s.Query(
      "SELECT id, customer_id, status, reason, total_cents, currency, "
      "DATE_FORMAT(created_at, '%Y-%m-%dT%H:%i:%s.%fZ') AS created, "
      "DATE_FORMAT(updated_at, '%Y-%m-%dT%H:%i:%s.%fZ') AS updated, "
      "(SELECT JSON_ARRAYAGG(JSON_OBJECT('n', line_no, 'sku', sku, 'quantity', quantity, "
      "'unitPriceCents', unit_price_cents)) FROM order_items WHERE order_id = o.id) AS items, "
      "(SELECT JSON_ARRAYAGG(JSON_OBJECT('n', id, 'event', event, 'source', source, "
      "'at', DATE_FORMAT(at, '%Y-%m-%dT%H:%i:%s.%fZ'), 'detail', detail)) FROM order_history WHERE order_id = o.id) AS history "
      "FROM orders o WHERE id = ?", id);
  if (!o.Next()) throw http::HttpError(404, "no order '" + id + "'");
  auto trim_us = [](std::string t) {  // %f is microseconds: keep milliseconds
    return t.size() == 27 ? t.substr(0, 23) + "Z" : t;
  };
  // Sorted by "n", which is then dropped; no detail rather than a null one.
  auto ordered = [](const std::optional<std::string>& text) {
    auto a = text ? nlohmann::json::parse(*text) : nlohmann::json::array();
    std::sort(a.begin(), a.end(), [](const auto& x, const auto& y) { return x.at("n") < y.at("n"); });
    for (auto& e : a) {
      e.erase("n");
      if (e.contains("detail") && e["detail"].is_null()) e.erase("detail");
    }
    return a;
  };
  nlohmann::json j = {{"orderId", o.String("id")}, {"customerId", o.String("customer_id")},
                      {"status", o.String("status")}, {"reason", nullptr},
                      {"totalCents", o.Int("total_cents")}, {"currency", o.String("currency")},
                      {"createdAt", trim_us(o.String("created"))}, {"updatedAt", trim_us(o.String("updated"))}};
  if (auto r = o.OptString("reason")) j["reason"] = *r;
  j["items"] = ordered(o.OptString("items"));
  j["history"] = ordered(o.OptString("history"));
  for (auto& step : j["history"]) step["at"] = trim_us(step["at"]);
  return j;
}

// An event's RFC 3339 time as the database takes it (now, if malformed).
std::string SqlTimestamp(const std::string& rfc3339) {
  return FormatSqlTimestamp(ParseRfc3339(rfc3339).value_or(std::chrono::system_clock::now()));
}

struct HistoryEntry {
  std::string event, source, at, detail;  // at: RFC 3339; detail: empty for none
};

constexpr const char* kInsertHistory = "INSERT INTO order_history (order_id, event, source, at, detail) VALUES";

// Steps of an order's history, in order, in one statement. `defer`: at the
// transaction's commit, with the other steps of a batch of events (only where
// nothing in the transaction reads the history back).
void AddHistory(db::Session& s, const std::string& order_id, const std::vector<HistoryEntry>& entries,
                bool defer = false) {
  std::vector<std::vector<db::Param>> rows;
  for (const auto& h : entries)
    rows.push_back({order_id, h.event, h.source, SqlTimestamp(h.at), h.detail.empty() ? db::Param(nullptr) : db::Param(h.detail)});
  if (!defer) {
    s.InsertRows(kInsertHistory, rows);
    return;
  }
  for (auto& row : rows) s.DeferInsert(kInsertHistory, std::move(row));
}

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

// The accepted order as GET /api/orders/{id} shows it, built from what was
// just written instead of read back (three queries per order less).
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

// A new order, priced and validated, with its OrderCreated event: what
// storing it writes and what the 202 shows.
struct NewOrder {
  events::Envelope event;
  OrderRequest request;
  std::optional<std::string> idempotency_key;
  int64_t total = 0;
  // created_at is the OrderCreated event's time, so the 202's body is exactly
  // what a later GET shows; the saga's deadline counts from it.
  std::string created, deadline;  // SQL timestamps
};

std::shared_ptr<const NewOrder> PrepareOrder(Context& ctx, OrderRequest req, std::optional<std::string> idem_key,
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
  for (const auto& item : req.items) {
    auto* line = oc->add_items();
    line->set_sku(item.sku);
    line->set_quantity(int32_t(item.quantity));
    line->set_unit_price_cents(prices[item.sku]);
    o->total += prices[item.sku] * item.quantity;
  }
  oc->mutable_total()->set_cents(o->total);
  oc->mutable_total()->set_currency(ctx.currency);
  if (!req.email.empty()) oc->mutable_contact()->set_email(req.email);
  if (!req.phone.empty()) oc->mutable_contact()->set_phone(req.phone);
  events::SealEventType(e);
  const auto created_at = ParseRfc3339(e.occurred_at()).value_or(std::chrono::system_clock::now());
  o->created = FormatSqlTimestamp(created_at);
  o->deadline = FormatSqlTimestamp(created_at + ctx.saga_timeout);
  o->request = std::move(req);
  o->idempotency_key = std::move(idem_key);
  return o;
}

// Stores the order PENDING with its OrderCreated event. Every row at commit
// (nothing here reads them back): with other orders' in the same statements
// when the transaction is a group's.
void WriteOrder(Context& ctx, db::Session& s, const NewOrder& o) {
  const auto& e = o.event;
  const auto& req = o.request;
  const std::string& id = e.order_id();
  s.DeferInsert("INSERT INTO orders (id, customer_id, status, total_cents, currency, contact_email, contact_phone, "
                "idempotency_key, created_at, updated_at, deadline_at) VALUES",
                {id, req.customer_id, std::string("PENDING"), o.total, ctx.currency,
                 req.email.empty() ? db::Param(nullptr) : db::Param(req.email),
                 req.phone.empty() ? db::Param(nullptr) : db::Param(req.phone),
                 o.idempotency_key ? db::Param(*o.idempotency_key) : db::Param(nullptr), o.created, o.created,
                 o.deadline});
  const auto& oc = e.order_created();
  for (int i = 0; i < oc.items_size(); ++i)
    s.DeferInsert("INSERT INTO order_items (order_id, line_no, sku, quantity, unit_price_cents) VALUES",
                  {id, int64_t(i), oc.items(i).sku(), int64_t(oc.items(i).quantity()), oc.items(i).unit_price_cents()});
  AddHistory(s, id, {{"OrderCreated", "order-service", e.occurred_at(), ""}}, /*defer=*/true);
  outbox::EnqueueEvent(s, e);
  s.AfterCommit([&ctx] {
    ctx.metrics.created->Add({}).Increment();
    ctx.svc.outbox().Wake();
  });
}

// The 202 for an order: as accepted, or, for a retried Idempotency-Key, as it
// stands now.
http::Response Accepted(nlohmann::json order) {
  const std::string location = "/api/orders/" + order["orderId"].get<std::string>();
  auto resp = http::Response::Json(202, order);
  resp.headers.Set("Location", location);
  return resp;
}

// POST /api/orders with an Idempotency-Key: a retry of a request that already
// created its order answers with that order as it stands now.
http::Response CreateOrderOnce(Context& ctx, http::Request& req) {
  auto o = PrepareOrder(ctx, ParseOrderRequest(req.JsonBody()), req.Header("idempotency-key"),
                        req.Header("traceparent").value_or(""));
  std::optional<nlohmann::json> existing;
  ctx.svc.db().Transact([&](db::Session& s) {
    existing.reset();
    auto found = s.Query("SELECT id FROM orders WHERE customer_id = ? AND idempotency_key = ?",
                         o->request.customer_id, *o->idempotency_key);
    if (found.Next()) {
      existing = OrderJson(s, found.String("id"));
      return;
    }
    WriteOrder(ctx, s, *o);
  });
  return Accepted(existing ? std::move(*existing) : AcceptedJson(o->event));
}

struct LockedOrder {
  SagaState state;
  std::optional<std::string> reason;
  std::string customer_id;
  int64_t total;
  std::string currency;
  double age_seconds;
};

// What a step of the saga reads of an order, with the order locked.
constexpr const char* kLockedColumns =
    "status, payment_status, inventory_status, reason, customer_id, total_cents, currency, "
    "TIMESTAMPDIFF(MICROSECOND, created_at, CURRENT_TIMESTAMP(3)) AS age_us";

LockedOrder LockedFrom(const db::Rows& r) {
  return LockedOrder{{r.String("status"), r.String("payment_status"), r.String("inventory_status")},
                     r.OptString("reason"),
                     r.String("customer_id"),
                     r.Int("total_cents"),
                     r.String("currency"),
                     double(r.Int("age_us")) / 1e6};
}

std::optional<LockedOrder> Lock(db::Session& s, const std::string& id) {
  auto r = s.LockRows("orders", "id", kLockedColumns, {id});
  if (!r.Next()) return std::nullopt;
  return LockedFrom(r);
}

// A step's new state, written at once.
void WriteState(db::Session& s, const std::string& id, const SagaStep& step) {
  s.Exec("UPDATE orders SET status = ?, payment_status = ?, inventory_status = ?, reason = COALESCE(?, reason) WHERE id = ?",
         step.next.status, step.next.payment, step.next.inventory,
         step.emit == SagaStep::Emit::kCancel ? db::Param(step.reason) : db::Param(nullptr), id);
}

// What a step writes besides the order's row: its history and, when it
// decides the order (`o` as it was before), the event.
// `history`: steps seen before this one (the event that caused it), written
// with the decision's in one statement (at commit with `defer_history`).
void RecordStep(Context& ctx, db::Session& s, const std::string& id, const LockedOrder& o, const SagaStep& step,
                const events::Envelope* cause, std::vector<HistoryEntry> history = {}, bool defer_history = false) {
  if (step.emit == SagaStep::Emit::kNothing) return AddHistory(s, id, history, defer_history);
  auto e = events::NewEnvelope(id, "order-service", cause);
  if (step.emit == SagaStep::Emit::kConfirm) {
    e.mutable_order_confirmed()->set_customer_id(o.customer_id);
    e.mutable_order_confirmed()->mutable_total()->set_cents(o.total);
    e.mutable_order_confirmed()->mutable_total()->set_currency(o.currency);
  } else {
    e.mutable_order_cancelled()->set_customer_id(o.customer_id);
    e.mutable_order_cancelled()->set_reason(step.reason);
  }
  events::SealEventType(e);
  outbox::EnqueueEvent(s, e);
  history.push_back({e.event_type(), "order-service", e.occurred_at(), step.reason});
  AddHistory(s, id, history, defer_history);
  std::string status = step.next.status;
  bool first_decision = o.state.status == "PENDING";
  double age = o.age_seconds;
  s.AfterCommit([&ctx, status, first_decision, age] {
    ctx.metrics.terminal->Add({{"status", status}}).Increment();
    if (first_decision)
      ctx.metrics.saga_seconds->Add({{"status", status}}, metrics::MetricsRegistry::LatencyBuckets()).Observe(age);
  });
  log::Info(step.emit == SagaStep::Emit::kConfirm ? "order confirmed" : "order cancelled",
            {{"orderId", id}, {"reason", step.reason}});
}

// The orders of one transaction of payment and inventory events
// (Session::Local): each read and locked once (a batch's all up front, in id
// order: Service::BatchLocks), kept current by every step (an order's two
// events may share a batch), and the changed ones written back in one
// statement just before the commit.
struct EventOrders {
  std::unordered_map<std::string, LockedOrder> rows;
  std::set<std::string> changed;
};

void WriteChanged(db::Session& s) {
  static constexpr std::string_view kColumns[] = {"status", "payment_status", "inventory_status", "reason"};
  auto& orders = s.Local<EventOrders>();  // made already: this runs because it was
  std::vector<std::vector<db::Param>> rows;
  for (const auto& id : orders.changed) {
    const auto& o = orders.rows.at(id);
    rows.push_back({id, o.state.status, o.state.payment, o.state.inventory, db::ToParam(o.reason)});
  }
  s.UpdateRows("orders", "id", kColumns, rows);
}

EventOrders& Orders(db::Session& s) { return s.Local<EventOrders>(WriteChanged); }

// One event's step: from the order as this transaction knows it.
void Step(Context& ctx, db::Session& s, const events::Envelope& e, const std::string& reason) {
  auto& orders = Orders(s);
  auto known = orders.rows.find(e.order_id());
  if (known == orders.rows.end()) {
    auto o = Lock(s, e.order_id());
    if (!o) throw kafka::PoisonRecord("event for unknown order " + e.order_id());
    known = orders.rows.emplace(e.order_id(), std::move(*o)).first;
  }
  const LockedOrder before = known->second;
  auto step = ApplyEvent(before.state, e.event_type(), reason);
  known->second.state = step.next;
  if (step.emit == SagaStep::Emit::kCancel) known->second.reason = step.reason;
  orders.changed.insert(e.order_id());
  RecordStep(ctx, s, e.order_id(), before, step, &e, {{e.event_type(), e.source(), e.occurred_at(), reason}},
             /*defer_history=*/true);
}

void LockBatch(db::Session& s, const std::vector<const events::Envelope*>& batch) {
  std::set<std::string> ids;
  for (const auto* e : batch) ids.insert(e->order_id());
  auto r = s.LockRows("orders", "id", kLockedColumns, std::vector<db::Param>(ids.begin(), ids.end()));
  auto& known = Orders(s).rows;
  while (r.Next()) known.insert_or_assign(r.String("id"), LockedFrom(r));
}

std::string ReasonOf(const events::Envelope& e) {
  if (e.has_payment_failed()) return e.payment_failed().reason();
  if (e.has_inventory_rejected()) return e.inventory_rejected().reason();
  return "";
}

// Cancels PENDING orders whose saga deadline passed. Owns one thread.
// Orders still PENDING past their deadline (order.saga-timeout) are
// cancelled with TIMEOUT; run every 500 ms by the "saga-timeouts" task.
void SweepTimeouts(Context& ctx) {
  std::vector<std::string> due;
  {  // the rows hold a connection: let it go before the transactions below
    auto r = ctx.svc.db().Query("SELECT id FROM orders WHERE status = 'PENDING' AND deadline_at < CURRENT_TIMESTAMP(3) "
                                "ORDER BY deadline_at LIMIT 100");
    while (r.Next()) due.push_back(r.String("id"));
  }
  for (const auto& id : due) {
    ctx.svc.db().Transact([&](db::Session& s) {
      auto o = Lock(s, id);
      if (!o) return;
      if (auto step = ApplyTimeout(o->state)) {
        WriteState(s, id, *step);
        RecordStep(ctx, s, id, *o, *step, nullptr);
      }
    });
  }
  if (!due.empty()) ctx.svc.outbox().Wake();
}

// What the handlers share, owned by the runtime: destroyed once the HTTP
// server drained and the consumers stopped. Members go in reverse order: the
// sweeper stops first, then the context's group commit commits what is still
// queued, answers it and joins its threads, before the database closes.
struct OrderService : ServiceState {
  std::unique_ptr<Context> ctx;
  std::unique_ptr<PeriodicTask> sweeper;
};

std::unique_ptr<ServiceState> Wire(Service& svc) {
  auto& reg = svc.metrics().Registry();
  auto state = std::make_unique<OrderService>();
  state->ctx.reset(new Context{svc, BoundedCache<std::string, int64_t>(10'000, svc.config().GetDuration("order.price-cache-ttl")),
                          {&prometheus::BuildCounter().Name("orders_created_total").Help("Orders accepted").Register(reg),
                           &prometheus::BuildCounter().Name("orders_total").Help("Orders reaching a terminal status").Register(reg),
                           &prometheus::BuildHistogram().Name("order_saga_duration_seconds")
                                .Help("From order creation to its first decision").Register(reg)},
                          svc.config().GetString("order.currency"), svc.config().GetDuration("order.saga-timeout"),
                          std::make_unique<db::GroupCommit>(svc.db(), 64, &svc.metrics(), "orders",
                                                            int(svc.config().GetInt("order.commit-threads")))});
  Context* ctx = state->ctx.get();
  if (ctx->currency.size() != 3) throw config::ConfigError("key 'order.currency' must be an ISO 4217 code such as EUR");
  // Breaker for the catalog; consumers are not paused by it (events do not call the catalog).
  svc.resilience().GetCircuitBreaker("inventory-service");

  // New orders. Without an Idempotency-Key the order joins the next group
  // commit and the 202 goes out from the committer thread once it is stored:
  // no server thread waits for the commit, so a group holds every order that
  // arrived meanwhile, however many. With a key, the key's own rules apply
  // (runtime/outbox/idempotency_key.h) and the order is stored on its own.
  auto with_key = svc.idempotency().Wrap("POST /api/orders", [ctx](http::Request& req) { return CreateOrderOnce(*ctx, req); });
  svc.router().AddAsync("POST", "/api/orders", [ctx, with_key](http::Request& req, http::Respond respond) {
    if (req.Header("idempotency-key")) return respond(with_key(req));
    auto o = PrepareOrder(*ctx, ParseOrderRequest(req.JsonBody()), std::nullopt, req.Header("traceparent").value_or(""));
    ctx->creates->Submit([ctx, o](db::Session& s) { WriteOrder(*ctx, s, *o); },
                         [o, &req, respond](std::exception_ptr error) {
                           respond(error ? http::ErrorResponse(error, req) : Accepted(AcceptedJson(o->event)));
                         });
  });

  svc.router().Get("/api/orders/{id}", [ctx](http::Request& req) {
    const auto& id = req.PathParam("id");
    if (!IsUuid(id)) throw http::HttpError(404, "no order '" + id + "'");
    auto lease = ctx->svc.db().Acquire();
    auto s = lease.session();
    return http::Response::Json(200, OrderJson(s, id));
  });

  svc.router().Get("/api/orders", [ctx](http::Request& req) {
    auto q = ParseListQuery(req.query);
    std::string sql = "SELECT id, seq FROM orders WHERE 1=1";
    std::vector<db::Param> params;
    if (q.customer_id) sql += " AND customer_id = ?", params.push_back(*q.customer_id);
    if (q.status) sql += " AND status = ?", params.push_back(*q.status);
    if (q.after_seq) sql += " AND seq < ?", params.push_back(*q.after_seq);
    sql += " ORDER BY seq DESC LIMIT ?";
    params.push_back(int64_t(q.limit + 1));  // one more tells whether a next page exists
    auto lease = ctx->svc.db().Acquire();
    auto s = lease.session();
    std::vector<std::pair<std::string, int64_t>> ids;
    auto rows = s.QueryV(sql, params);
    while (rows.Next()) ids.emplace_back(rows.String("id"), rows.Int("seq"));
    nlohmann::json items = nlohmann::json::array();
    nlohmann::json next = nullptr;
    for (size_t i = 0; i < ids.size() && int(i) < q.limit; ++i) items.push_back(OrderJson(s, ids[i].first));
    if (int(ids.size()) > q.limit) next = EncodeCursor(ids[q.limit - 1].second);
    return http::Response::Json(200, {{"items", items}, {"nextCursor", next}});
  });

  svc.router().Post("/api/orders/{id}/cancel", [ctx](http::Request& req) {
    const auto& id = req.PathParam("id");
    if (!IsUuid(id)) throw http::HttpError(404, "no order '" + id + "'");
    nlohmann::json body;
    ctx->svc.db().Transact([&](db::Session& s) {
      auto o = Lock(s, id);
      if (!o) throw http::HttpError(404, "no order '" + id + "'");
      auto step = ApplyCustomerCancel(o->state);
      if (!step) throw http::HttpError(409, "order " + id + " is " + o->state.status + " and can no longer be cancelled");
      WriteState(s, id, *step);
      RecordStep(*ctx, s, id, *o, *step, nullptr);
      body = OrderJson(s, id);
    });
    ctx->svc.outbox().Wake();
    auto resp = http::Response::Json(202, body);
    resp.headers.Set("Location", "/api/orders/" + id);
    return resp;
  });

  svc.HandleEvents({std::string(events::kPaymentEvents), std::string(events::kInventoryEvents)},
                   [ctx](db::Session& s, const events::Envelope& e) { Step(*ctx, s, e, ReasonOf(e)); },
                   // An order's payment and inventory events reach different
                   // workers: their batches share the orders' rows.
                   [](db::Session& s, const std::vector<const events::Envelope*>& batch) {
                     LockBatch(s, batch);
                     return Service::SharedRows{};  // locked (and read) above
                   });

  state->sweeper = std::make_unique<PeriodicTask>("saga-timeouts", [ctx] {
    SweepTimeouts(*ctx);
    return std::chrono::milliseconds(500);
  });
  state->sweeper->Start();
  return state;
}

}  // namespace
}  // namespace op::order

int main(int argc, char** argv) {
  op::ServiceSpec spec;
  spec.name = "order-service";
  spec.default_port = 8081;
  spec.uses_database = true;
  spec.uses_kafka = true;
  spec.migrations = {
      {1, "orders",
       "CREATE TABLE orders ("
       " id VARCHAR(36) PRIMARY KEY, seq BIGINT NOT NULL AUTO_INCREMENT UNIQUE,"
       " customer_id VARCHAR(64) NOT NULL, status VARCHAR(16) NOT NULL, reason VARCHAR(40) NULL,"
       " payment_status VARCHAR(16) NOT NULL DEFAULT 'NONE', inventory_status VARCHAR(16) NOT NULL DEFAULT 'NONE',"
       " total_cents BIGINT NOT NULL, currency CHAR(3) NOT NULL,"
       " contact_email VARCHAR(254) NULL, contact_phone VARCHAR(32) NULL, idempotency_key VARCHAR(255) NULL,"
       " deadline_at TIMESTAMP(3) NOT NULL,"
       " created_at TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),"
       " updated_at TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3) ON UPDATE CURRENT_TIMESTAMP(3),"
       " UNIQUE KEY orders_idempotency (customer_id, idempotency_key),"
       " INDEX orders_pending (status, deadline_at), INDEX orders_customer (customer_id, seq)"
       ") ENGINE=InnoDB"},
      {2, "order items",
       "CREATE TABLE order_items ("
       " order_id VARCHAR(36) NOT NULL, line_no INT NOT NULL, sku VARCHAR(64) NOT NULL,"
       " quantity INT NOT NULL, unit_price_cents BIGINT NOT NULL, PRIMARY KEY (order_id, line_no)"
       ") ENGINE=InnoDB"},
      {3, "order history",
       "CREATE TABLE order_history ("
       " id BIGINT AUTO_INCREMENT PRIMARY KEY, order_id VARCHAR(36) NOT NULL, event VARCHAR(40) NOT NULL,"
       " source VARCHAR(64) NOT NULL, at TIMESTAMP(3) NOT NULL, detail VARCHAR(200) NULL,"
       " INDEX history_order (order_id, id)"
       ") ENGINE=InnoDB"},
  };
  spec.declare_config = [](op::config::Schema& s) {
    s.Add("order.saga-timeout", op::config::Type::kDuration, "30s", "PENDING longer than this → CANCELLED (TIMEOUT)");
    s.Add("order.price-cache-ttl", op::config::Type::kDuration, "5s", "how long a catalog price is reused");
    s.Add("order.currency", op::config::Type::kString, "EUR", "ISO 4217 currency of all prices");
    s.Add({"order.commit-threads", op::config::Type::kInt, "1",
           "threads committing new orders, each a group of those waiting at a time", 1, 16});
  };
  return op::Service::Run(spec, argc, argv, op::order::Wire);
}
