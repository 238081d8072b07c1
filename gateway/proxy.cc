#include "gateway/proxy.h"

#include <algorithm>
#include <cmath>
#include <set>

#include "runtime/logging/log.h"

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

// Whom a rate limit counts: the verified caller, else its address. Never a
// header the client chooses (a new value per request would be a new bucket).
std::string ClientKey(const http::Request& req) {
  if (req.principal) return "sub:" + req.principal->subject;
  return "ip:" + req.remote.substr(0, req.remote.rfind(':'));
}

// A path whose meaning a later hop could change: dot segments, encoded dots
// and slashes, backslashes (what Spring Security's StrictHttpFirewall
// refuses). /api/products/../orders must not pass the products' public rule.
bool AmbiguousPath(const std::string& path, const std::vector<std::string>& segments) {
  for (const auto& seg : segments)
    if (seg == "." || seg == "..") return true;
  std::string lower = path;
  std::transform(lower.begin(), lower.end(), lower.begin(), ::tolower);
  return lower.find("%2e") != std::string::npos || lower.find("%2f") != std::string::npos ||
         lower.find("%5c") != std::string::npos || lower.find('\\') != std::string::npos || lower.find("//") != std::string::npos;
}

// Headers that claim an identity. The services trust only a verified token,
// but a client's claims are dropped here all the same, so no upstream (or a
// log that shows headers) can mistake one for the gateway's word.
bool IdentityHeader(const std::string& name) {
  static const char* kPrefixes[] = {"x-user", "x-auth", "x-principal", "x-customer", "x-role", "x-forwarded-user",
                                    "x-remote-user", "remote-user", "x-consumer", "x-jwt", "x-subject", "x-identity"};
  for (const char* p : kPrefixes)
    if (name.rfind(p, 0) == 0) return true;
  return false;
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

}  // namespace

Gateway::Gateway(Service& svc, std::vector<Route> routes, std::vector<AccessRule> access)
    : svc_(svc), access_(std::move(access)) {
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

void Gateway::Mount(http::Router& router) {
  for (auto& rt : routes_) {
    RouteRuntime* r = rt.get();
    std::vector<std::string> methods = r->route.methods;
    if (methods.empty()) methods = {"GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"};
    for (const auto& m : methods)
      router.AddAsync(m, r->route.path, http::Access::Public(),  // the gateway's rules decide, in Proxy
                      [this, r](http::Request& req, http::Respond respond) { Proxy(*r, req, std::move(respond)); });
  }
}

void Gateway::Proxy(RouteRuntime& rt, http::Request& req, http::Respond respond) {
  const Route& route = rt.route;
  const auto segments = http::SplitPath(req.path);  // once, for both checks
  if (AmbiguousPath(req.path, segments))
    return respond(Reject(route, "bad_path", Problem(400, "the path has dot segments or encoded separators")));
  try {
    svc_.router().Authorize(req, AccessFor(access_, req.method, segments));
  } catch (const http::HttpError& e) {
    return respond(Reject(route, e.problem().status == 401 ? "unauthorized" : "forbidden", e.problem().ToResponse(req.path)));
  }
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
  up.headers.RemoveIf(IdentityHeader);
  up.headers.Set("X-Forwarded-For", xff ? *xff + ", " + client_ip : client_ip);
  up.headers.Set("X-Forwarded-Proto", req.secure ? "https" : "http");
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
http::Response Gateway::Answer(const Route& route, discovery::CallResult res, std::chrono::steady_clock::time_point start) {
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
void Gateway::CallDirect(const Route& route, http::ClientRequest up, std::function<void(discovery::CallResult)> done) {
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

http::Response Gateway::Reject(const Route& route, const std::string& reason, http::Response r) {
  rejected_->Add({{"route", route.id}, {"reason", reason}}).Increment();
  return r;
}

}  // namespace op::gateway
