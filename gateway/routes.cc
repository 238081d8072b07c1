#include "gateway/routes.h"

#include <algorithm>

#include "runtime/config/config.h"

namespace op::gateway {

bool Route::Matches(const std::string& method, const std::string& p) const {
  if (!methods.empty() && std::find(methods.begin(), methods.end(), method) == methods.end()) {
    if (!(method == "HEAD" && std::find(methods.begin(), methods.end(), "GET") != methods.end())) return false;
  }
  if (exact) return p == prefix;
  if (p.size() < prefix.size() || p.compare(0, prefix.size(), prefix) != 0) return false;
  // "/api/orders/**" matches /api/orders, /api/orders/ and /api/orders/x, not /api/ordersx
  return p.size() == prefix.size() || p[prefix.size()] == '/' || prefix == "/";
}

std::string Route::Rewrite(const std::string& p) const {
  std::string out = p;
  for (int i = 0; i < strip_prefix; ++i) {
    auto next = out.find('/', 1);
    out = next == std::string::npos ? "/" : out.substr(next);
  }
  if (rewrite && out.compare(0, rewrite->first.size(), rewrite->first) == 0)
    out = rewrite->second + out.substr(rewrite->first.size());
  if (out.empty() || out[0] != '/') out = "/" + out;
  return out;
}

namespace {
[[noreturn]] void Bad(size_t i, const std::string& field, const std::string& why) {
  throw config::ConfigError("key 'gateway.routes[" + std::to_string(i) + "]." + field + "' " + why);
}

// id, path (exact, or a prefix with /**) and uri (lb://APP or http(s)://).
void ParseTarget(const YAML::Node& r, size_t i, Route& route) {
  route.id = r["id"] ? r["id"].as<std::string>() : "route" + std::to_string(i);
  if (!r["path"] || !r["path"].IsScalar()) Bad(i, "path", "is required (e.g. /api/orders/**)");
  route.path = r["path"].as<std::string>();
  if (route.path.empty() || route.path[0] != '/') Bad(i, "path", "must start with '/': got '" + route.path + "'");
  if (route.path.size() >= 3 && route.path.compare(route.path.size() - 3, 3, "/**") == 0) {
    route.prefix = route.path.substr(0, route.path.size() - 3);
    if (route.prefix.empty()) route.prefix = "/";
  } else if (route.path.find('*') != std::string::npos) {
    Bad(i, "path", "supports only a trailing /**: got '" + route.path + "'");
  } else {
    route.prefix = route.path;
    route.exact = true;
  }
  if (!r["uri"] || !r["uri"].IsScalar()) Bad(i, "uri", "is required (lb://APP or http://host:port)");
  std::string uri = r["uri"].as<std::string>();
  if (uri.rfind("lb://", 0) == 0 && uri.size() > 5) route.app = uri.substr(5);
  else if (uri.rfind("http://", 0) == 0 || uri.rfind("https://", 0) == 0) {
    route.base_url = uri;
    while (!route.base_url.empty() && route.base_url.back() == '/') route.base_url.pop_back();
  } else Bad(i, "uri", "must be lb://APP or http(s)://host:port: got '" + uri + "'");
}

// Integers and durations of a route's settings, refused naming the setting.
int Integer(const YAML::Node& n, size_t i, const std::string& field, int lo, int hi) {
  int v = 0;
  try {
    v = n.as<int>();
  } catch (const YAML::Exception&) {
    Bad(i, field, "must be an integer");
  }
  if (v < lo || v > hi) Bad(i, field, "must be from " + std::to_string(lo) + " to " + std::to_string(hi));
  return v;
}
std::chrono::milliseconds Duration(const YAML::Node& n, size_t i, const std::string& field) {
  auto d = config::ParseDuration(n.as<std::string>());
  if (!d || d->count() <= 0) Bad(i, field, "must be a duration such as 500ms or 5s");
  return *d;
}

// methods, rewriting, timeout, retry, rate limit, bulkhead.
void ParsePolicies(const YAML::Node& r, size_t i, Route& route) {
  if (r["methods"]) {
    if (!r["methods"].IsSequence()) Bad(i, "methods", "must be a list such as [GET, POST]");
    for (const auto& m : r["methods"]) {
      std::string method = m.as<std::string>();
      std::transform(method.begin(), method.end(), method.begin(), ::toupper);
      static const std::vector<std::string> ok = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"};
      if (std::find(ok.begin(), ok.end(), method) == ok.end()) Bad(i, "methods", "has an unknown method '" + method + "'");
      route.methods.push_back(method);
    }
  }
  if (r["strip-prefix"]) route.strip_prefix = Integer(r["strip-prefix"], i, "strip-prefix", 0, 10);
  if (r["rewrite"]) {
    if (!r["rewrite"].IsMap() || !r["rewrite"]["from"]) Bad(i, "rewrite", "must be {from: /prefix, to: /other}");
    route.rewrite = std::make_pair(r["rewrite"]["from"].as<std::string>(),
                                   r["rewrite"]["to"] ? r["rewrite"]["to"].as<std::string>() : std::string());
  }
  if (r["timeout"]) route.timeout = Duration(r["timeout"], i, "timeout");
  if (r["retry"]) {
    try {
      route.retry = r["retry"].as<bool>();
    } catch (const YAML::Exception&) {
      Bad(i, "retry", "must be true or false");
    }
  }
  if (r["rate-limit"]) {
    const auto rl = r["rate-limit"];
    if (!rl.IsMap() || !rl["limit-for-period"]) Bad(i, "rate-limit", "must be {limit-for-period: N, limit-refresh-period: 1s}");
    route.rate_limit = Integer(rl["limit-for-period"], i, "rate-limit.limit-for-period", 1, 100000000);
    if (rl["limit-refresh-period"]) route.rate_period = Duration(rl["limit-refresh-period"], i, "rate-limit.limit-refresh-period");
  }
  if (r["bulkhead"]) {
    if (!r["bulkhead"].IsMap() || !r["bulkhead"]["max-concurrent-calls"]) Bad(i, "bulkhead", "must be {max-concurrent-calls: N}");
    route.max_concurrent = Integer(r["bulkhead"]["max-concurrent-calls"], i, "bulkhead.max-concurrent-calls", 1, 1000000);
  }
}
}  // namespace

std::vector<Route> ParseRoutes(const YAML::Node& routes) {
  if (!routes.IsSequence()) throw config::ConfigError("key 'gateway.routes' must be a list of routes");
  std::vector<Route> out;
  static const std::vector<std::string> known = {"id", "path", "uri", "methods", "strip-prefix", "rewrite", "timeout",
                                                 "retry", "rate-limit", "bulkhead"};
  for (size_t i = 0; i < routes.size(); ++i) {
    const YAML::Node r = routes[i];
    if (!r.IsMap()) Bad(i, "", "must be a mapping");
    for (auto it = r.begin(); it != r.end(); ++it) {
      std::string k = config::ToKebab(it->first.as<std::string>());
      if (std::find(known.begin(), known.end(), k) == known.end()) Bad(i, k, "is not a route setting");
    }
    Route route;
    ParseTarget(r, i, route);
    ParsePolicies(r, i, route);
    out.push_back(std::move(route));
  }
  return out;
}

std::vector<Route> DefaultRoutes() {
  return ParseRoutes(YAML::Load(R"(
- {id: orders, path: /api/orders/**, uri: lb://order-service, timeout: 10s}
- {id: products, path: /api/products/**, uri: lb://inventory-service}
- {id: accounts, path: /api/accounts/**, uri: lb://payment-service}
- {id: notifications, path: /api/notifications/**, uri: lb://notification-service}
- {id: users, path: /api/users/**, uri: lb://identity-service}
- {id: oauth2, path: /oauth2/**, uri: lb://identity-service}
- {id: well-known, path: /.well-known/**, uri: lb://identity-service}
)"));
}

const Route* FindRoute(const std::vector<Route>& routes, const std::string& method, const std::string& path) {
  for (const auto& r : routes)
    if (r.Matches(method, path)) return &r;
  return nullptr;
}

}  // namespace op::gateway
