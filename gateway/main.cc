// api-gateway: the platform's front door (port 8080). Routes from config to
// applications found through discovery, with per-route timeout, retry
// (idempotent requests only), circuit breaker (per route and per upstream
// instance), bulkhead and per-client rate limit; adds X-Request-Id,
// X-Correlation-Id and W3C traceparent; strips hop-by-hop headers; answers
// upstream failures as problem+json (502/503/504, Retry-After when a breaker
// is open).
#include <fmt/format.h>

#include <cmath>
#include <set>

#include "gateway/routes.h"
#include "runtime/logging/log.h"
#include "runtime/metrics/children.h"
#include "runtime/resilience/keyed_rate_limiter.h"
#include "runtime/service/service.h"

namespace op::gateway {
namespace {

// RFC 9110 section 7.6.1 connection-specific fields, never forwarded.
const std::set<std::string> kHopByHop = {"connection", "keep-alive", "proxy-authenticate", "proxy-authorization",
                                         "proxy-connection", "te", "trailer", "transfer-encoding", "upgrade"};

std::set<std::string> ConnectionTokens(const http::Headers& h) {
  std::set<std::string> out;
  if (auto c = h.Get("connection")) {
    std::string token;
    for (char ch : *c + ",") {
      if (ch == ',') {
        auto b = token.find_first_not_of(" \t"), e = token.find_last_not_of(" \t");
        if (b != std::string::npos) {
          std::string t = token.substr(b, e - b + 1);
          std::transform(t.begin(), t.end(), t.begin(), ::tolower);
          out.insert(t);
        }
        token.clear();
      } else {
        token += ch;
      }
    }
  }
  return out;
}

// Removes the connection-specific fields (RFC 9110 7.6.1: the fixed ones and
// those the Connection header names) and `also` from headers to forward.
void StripHopByHop(http::Headers& h, std::initializer_list<std::string_view> also) {
  auto drop = ConnectionTokens(h);
  h.RemoveIf([&](const std::string& name) {
    return kHopByHop.count(name) || drop.count(name) || std::find(also.begin(), also.end(), name) != also.end();
  });
}

std::string ClientKey(const http::Request& req) {
  if (auto k = req.Header("x-api-key"); k && !k->empty()) return "key:" + k->substr(0, 128);
  return "ip:" + req.remote.substr(0, req.remote.rfind(':'));
}

std::string Query(const http::Request& req) {
  std::string q;
  for (const auto& [k, v] : req.query) q += (q.empty() ? "?" : "&") + http::PercentEncode(k) + "=" + http::PercentEncode(v);
  return q;
}

http::Response Problem(int status, const std::string& detail, std::optional<int64_t> retry_after = std::nullopt) {
  http::Problem p = http::MakeProblem(status, detail);
  if (retry_after) p.headers.Set("Retry-After", std::to_string(*retry_after));
  return p.ToResponse();
}

struct RouteRuntime {
  Route route;
  std::unique_ptr<resilience::KeyedRateLimiter> limiter;
  resilience::Bulkhead* bulkhead = nullptr;
};

class Gateway : public ServiceState {
 public:
  Gateway(Service& svc, std::vector<Route> routes) : svc_(svc) {
    auto& upstream = prometheus::BuildHistogram().Name("gateway_upstream_requests_seconds")
                         .Help("Upstream call latency per route and outcome").Register(svc.metrics().Registry());
    upstream_ = std::make_unique<metrics::Children<prometheus::Histogram>>(
        std::vector<std::string>{"route", "outcome"}, [&upstream](const metrics::Labels& l) -> prometheus::Histogram& {
          return upstream.Add(l, metrics::MetricsRegistry::LatencyBuckets());
        });
    rejected_ = &prometheus::BuildCounter().Name("gateway_requests_rejected_total")
                     .Help("Requests the gateway refused itself, by route and reason").Register(svc.metrics().Registry());
    for (auto& r : routes) {
      auto rt = std::make_unique<RouteRuntime>();
      rt->route = r;
      if (r.rate_limit > 0)
        rt->limiter = std::make_unique<resilience::KeyedRateLimiter>(
            r.id, resilience::RateLimiterConfig{r.rate_limit, r.rate_period, std::chrono::milliseconds(0)});
      if (r.max_concurrent > 0)
        rt->bulkhead = &svc.resilience().GetBulkhead(r.id, {r.max_concurrent, std::chrono::milliseconds(0)});
      svc.resilience().GetCircuitBreaker(r.id);  // visible on /actuator/circuitbreakers from the start
      routes_.push_back(std::move(rt));
    }
  }

  void Mount(http::Router& router) {
    for (auto& rt : routes_) {
      RouteRuntime* r = rt.get();
      std::vector<std::string> methods = r->route.methods;
      if (methods.empty()) methods = {"GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"};
      for (const auto& m : methods)
        router.AddAsync(m, r->route.path,
                        [this, r](http::Request& req, http::Respond respond) { Proxy(*r, req, std::move(respond)); });
    }
  }

 private:
  // Asynchronous: the upstream call runs on the server's event loop, so no
  // server thread waits for an upstream (docs/benchmarks.md). Everything
  // before it (limits, rate limit, bulkhead) answers at once.
  void Proxy(RouteRuntime& rt, http::Request& req, http::Respond respond) {
    const Route& route = rt.route;
    size_t header_bytes = 0;
    for (const auto& [k, v] : req.headers.All()) header_bytes += k.size() + v.size() + 4;
    if (header_bytes > 32 * 1024) return respond(Reject(route, "headers", Problem(431, "request headers exceed 32 KiB")));
    if (rt.limiter) {
      auto d = rt.limiter->TryAcquire(ClientKey(req));
      if (!d.permitted) {
        int64_t secs = std::max<int64_t>(1, int64_t(std::ceil(std::chrono::duration<double>(d.retry_after).count())));
        return respond(Reject(route, "rate_limited", Problem(429, "rate limit of route '" + route.id + "' exceeded", secs)));
      }
    }
    // Held until the upstream has answered (shared: the callback must be copyable).
    std::shared_ptr<resilience::Bulkhead::Permit> permit;
    if (rt.bulkhead) {
      permit = std::make_shared<resilience::Bulkhead::Permit>(rt.bulkhead->Acquire());
      if (!*permit)
        return respond(Reject(route, "bulkhead_full", Problem(503, "route '" + route.id + "' is at its concurrency limit", 1)));
    }

    http::ClientRequest up;
    up.method = req.method;
    up.url = route.Rewrite(req.path) + Query(req);
    up.body = std::move(req.body);
    up.timeout = route.timeout;
    std::string client_ip = req.remote.substr(0, req.remote.rfind(':'));
    auto xff = req.Header("x-forwarded-for");
    auto host = req.Header("host");
    up.headers = std::move(req.headers);  // the request's headers are not read after this
    StripHopByHop(up.headers, {"host", "content-length", "expect"});
    up.headers.Set("X-Forwarded-For", xff ? *xff + ", " + client_ip : client_ip);
    up.headers.Set("X-Forwarded-Proto", "http");
    if (host) up.headers.Set("X-Forwarded-Host", *host);

    auto start = std::chrono::steady_clock::now();
    auto answered = [this, &route, start, permit, respond = std::move(respond)](discovery::CallResult res) {
      respond(Answer(route, std::move(res), start));
    };
    if (!route.app.empty()) {
      svc_.services().CallAsync(route.app, std::move(up), {route.id, route.id, route.retry}, svc_.async_http(),
                                std::move(answered));
    } else {
      CallDirect(route, std::move(up), std::move(answered));
    }
  }

  // The client's answer to a finished upstream call.
  http::Response Answer(const Route& route, discovery::CallResult res, std::chrono::steady_clock::time_point start) {
    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::string outcome = res.ok() ? std::to_string(res.response.status) : "failed";
    if (!res.ok() && res.response.ok()) outcome = std::to_string(res.response.status);
    upstream_->Get({route.id, outcome}).Observe(secs);

    if (res.ok() || (res.failure == discovery::CallResult::Failure::kUpstream && res.response.ok())) {
      // the upstream answered (any status): pass it through
      http::Response out;
      out.status = res.response.status;
      out.headers = std::move(res.response.headers);
      StripHopByHop(out.headers, {"content-length"});
      out.body = std::move(res.response.body);
      return out;
    }
    switch (res.failure) {
      case discovery::CallResult::Failure::kBreakerOpen: {
        auto wait = svc_.resilience().GetCircuitBreaker(route.id).RemainingOpenWait();
        int64_t s = std::max<int64_t>(1, int64_t(std::ceil(std::chrono::duration<double>(wait).count())));
        return Problem(503, "circuit breaker of route '" + route.id + "' is open: " + res.error, s);
      }
      case discovery::CallResult::Failure::kNoInstance:
        return Problem(503, "no available instance of " + route.app + " (" + res.error + ")", 1);
      default:
        if (res.response.error == http::ClientResponse::Error::kTimeout)
          return Problem(504, "upstream " + (route.app.empty() ? route.base_url : route.app) + " did not answer within " +
                                  std::to_string(route.timeout.count()) + " ms");
        return Problem(502, "upstream " + (route.app.empty() ? route.base_url : route.app) + " failed: " + res.error);
    }
  }

  // A route with a fixed upstream URL: the route's breaker, no load balancing.
  void CallDirect(const Route& route, http::ClientRequest up, std::function<void(discovery::CallResult)> done) {
    auto& breaker = svc_.resilience().GetCircuitBreaker(route.id);
    if (!breaker.TryAcquirePermission()) {
      discovery::CallResult out;
      out.failure = discovery::CallResult::Failure::kBreakerOpen;
      out.error = "circuit breaker '" + route.id + "' is OPEN";
      return done(std::move(out));
    }
    up.url = route.base_url + up.url;
    svc_.async_http().Send(std::move(up), [&breaker, &route, done = std::move(done)](http::ClientResponse response) {
      done(discovery::RecordOutcome(std::move(response), breaker, route.base_url));
    });
  }

  http::Response Reject(const Route& route, const std::string& reason, http::Response r) {
    rejected_->Add({{"route", route.id}, {"reason", reason}}).Increment();
    return r;
  }

  Service& svc_;
  std::vector<std::unique_ptr<RouteRuntime>> routes_;
  std::unique_ptr<metrics::Children<prometheus::Histogram>> upstream_;  // by route, outcome
  prometheus::Family<prometheus::Counter>* rejected_;
};

std::unique_ptr<ServiceState> Wire(Service& svc) {
  auto node = svc.config().GetYaml("gateway.routes");
  auto routes = node.IsDefined() && !node.IsNull() ? ParseRoutes(node) : DefaultRoutes();
  for (const auto& r : routes)
    log::Info("route", {{"id", r.id}, {"path", r.path}, {"uri", r.app.empty() ? r.base_url : "lb://" + r.app},
                        {"timeoutMs", r.timeout.count()}, {"retry", r.retry}});
  auto gw = std::make_unique<Gateway>(svc, std::move(routes));
  gw->Mount(svc.router());
  return gw;
}

}  // namespace
}  // namespace op::gateway

int main(int argc, char** argv) {
  op::ServiceSpec spec;
  spec.name = "api-gateway";
  spec.default_port = 8080;
  // The data path: Asio/Beast costs half of Pistache's system calls per
  // proxied request (docs/benchmarks.md); server.engine=pistache still works
  // (each request then waits on a Pistache thread for the upstream's answer).
  spec.server_engine = "asio";
  // Its handlers never block (upstream calls are asynchronous; the actuator
  // endpoints only read memory): one event-loop thread per CPU, each with a
  // loop of its own that owns the connections dealt to it and their upstream
  // calls, as nginx's and Envoy's workers do. No hand-offs between threads and
  // no strands: it serves more than one loop shared by the threads
  // (docs/benchmarks.md).
  spec.server_threads = 0;
  spec.nonblocking_handlers = true;
  spec.loop_per_thread = true;
  spec.declare_config = [](op::config::Schema& s) {
    s.Add("gateway.routes", op::config::Type::kYaml, std::nullopt, "routes (default: the platform's four APIs)");
  };
  return op::Service::Run(spec, argc, argv, op::gateway::Wire);
}
