#pragma once
// The gateway's data path: for each configured route, the access rules
// (access_rules.h), then limits, rate limit (per caller: the token's
// subject, else the client address), bulkhead, and the upstream call on the
// server's event loop (no server thread waits for an upstream), answered as
// the upstream answered or as problem+json when it failed (502/503/504,
// Retry-After when a breaker is open). Identity headers a client sends are
// dropped; its Authorization goes on, for the service to check again.
#include <memory>
#include <vector>

#include "gateway/access_rules.h"
#include "gateway/routes.h"
#include "runtime/metrics/children.h"
#include "runtime/resilience/keyed_rate_limiter.h"
#include "runtime/service/service.h"

namespace op::gateway {

struct RouteRuntime {
  Route route;
  std::unique_ptr<resilience::KeyedRateLimiter> limiter;
  resilience::Bulkhead* bulkhead = nullptr;
};

class Gateway : public ServiceState {
 public:
  Gateway(Service& svc, std::vector<Route> routes, std::vector<AccessRule> access);
  // Adds every route's methods to the router (its access is the gateway's
  // own rules, checked in Proxy).
  void Mount(http::Router& router);

 private:
  void Proxy(RouteRuntime& rt, http::Request& req, http::Respond respond);
  http::Response Answer(const Route& route, discovery::CallResult res, std::chrono::steady_clock::time_point start);
  void CallDirect(const Route& route, http::ClientRequest up, std::function<void(discovery::CallResult)> done);
  http::Response Reject(const Route& route, const std::string& reason, http::Response r);

  Service& svc_;
  std::vector<AccessRule> access_;
  std::vector<std::unique_ptr<RouteRuntime>> routes_;
  std::unique_ptr<metrics::Children<prometheus::Histogram>> upstream_;  // by route, outcome
  prometheus::Family<prometheus::Counter>* rejected_;
};

}  // namespace op::gateway
