#pragma once
// What order-service's handlers share: the runtime, the catalog price
// cache, metrics, settings and the group commit for new orders. Made by the
// wiring, owned by the runtime (main.cc), used by the HTTP handlers, the
// event batches and the timeout sweep.
#include <chrono>
#include <memory>
#include <string>

#include "runtime/core/bounded_cache.h"
#include "runtime/db/group_commit.h"
#include "runtime/service/service.h"

namespace op::order {

struct Metrics {
  prometheus::Family<prometheus::Counter>* created;       // orders_created_total
  prometheus::Family<prometheus::Counter>* terminal;      // orders_total{status}
  prometheus::Family<prometheus::Histogram>* saga_seconds;  // order_saga_duration_seconds{status}
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

}  // namespace op::order
