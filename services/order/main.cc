// order-service: takes orders (http_api.h, new_order.h), decides each
// order's saga from the payment and inventory events and the saga timeout
// (saga.h, with the decision table in rules.h), and stores it all in
// orders_db (store.h).
#include "events/topics.h"
#include "runtime/core/periodic_task.h"
#include "runtime/service/service.h"
#include "services/order/http_api.h"
#include "services/order/saga.h"
#include "services/order/schema.h"

namespace op::order {
namespace {

Metrics RegisterMetrics(metrics::MetricsRegistry& m) {
  auto& reg = m.Registry();
  return {&prometheus::BuildCounter().Name("orders_created_total").Help("Orders accepted").Register(reg),
          &prometheus::BuildCounter().Name("orders_total").Help("Orders reaching a terminal status").Register(reg),
          &prometheus::BuildHistogram().Name("order_saga_duration_seconds").Help("From order creation to its first decision").Register(reg)};
}

// Owned by the runtime, destroyed once the HTTP server drained and the
// consumers stopped. Members go in reverse: the sweeper stops first, then
// the context's group commit commits what is still queued, answers it and
// joins its threads, before the database closes.
struct OrderService : ServiceState {
  std::unique_ptr<Context> ctx;
  std::unique_ptr<PeriodicTask> sweeper;
};

std::unique_ptr<ServiceState> Wire(Service& svc) {
  const auto& c = svc.config();
  if (c.GetString("order.currency").size() != 3)
    throw config::ConfigError("key 'order.currency' must be an ISO 4217 code such as EUR");
  auto state = std::make_unique<OrderService>();
  state->ctx.reset(new Context{svc, BoundedCache<std::string, int64_t>(10'000, c.GetDuration("order.price-cache-ttl")),
                               RegisterMetrics(svc.metrics()), c.GetString("order.currency"), c.GetDuration("order.saga-timeout"),
                               std::make_unique<db::GroupCommit>(svc.db(), 64, &svc.metrics(), "orders",
                                                                 int(c.GetInt("order.commit-threads")))});
  Context* ctx = state->ctx.get();
  // Breaker for the catalog; consumers are not paused by it (events do not call the catalog).
  svc.resilience().GetCircuitBreaker("inventory-service");
  AddRoutes(*ctx);
  svc.HandleEventBatches({std::string(events::kPaymentEvents), std::string(events::kInventoryEvents)},
                         [ctx] { return std::make_unique<OrderBatch>(*ctx); });
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
  spec.migrations = op::order::Migrations();
  spec.declare_config = [](op::config::Schema& s) {
    s.Add("order.saga-timeout", op::config::Type::kDuration, "30s", "PENDING longer than this → CANCELLED (TIMEOUT)");
    s.Add("order.price-cache-ttl", op::config::Type::kDuration, "5s", "how long a catalog price is reused");
    s.Add("order.currency", op::config::Type::kString, "EUR", "ISO 4217 currency of all prices");
    s.Add({"order.commit-threads", op::config::Type::kInt, "1",
           "threads committing new orders, each a group of those waiting at a time", 1, 16});
  };  return op::Service::Run(spec, argc, argv, op::order::Wire);
}
