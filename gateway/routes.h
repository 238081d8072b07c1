#pragma once
// Gateway routes, configured like Spring Cloud Gateway's:
//
//   gateway:
//     routes:
//       - id: orders
//         path: /api/orders/**          # a prefix with /** (or an exact path)
//         uri: lb://order-service       # lb://APP (discovery) or http://host:port
//         methods: [GET, POST]          # optional predicate
//         strip-prefix: 0               # drop N leading path segments
//         rewrite: {from: /api, to: ""} # optional prefix rewrite
//         timeout: 5s
//         retry: true                   # idempotent methods (and POST with Idempotency-Key)
//         rate-limit: {limit-for-period: 100, limit-refresh-period: 1s}   # per client key
//         bulkhead: {max-concurrent-calls: 200}
#include <yaml-cpp/yaml.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace op::gateway {

struct Route {
  std::string id;
  std::string path;         // as configured
  std::string prefix;       // "/api/orders" for "/api/orders/**"; the path itself when exact
  bool exact = false;
  std::string app;          // for lb://APP
  std::string base_url;     // for http(s)://host:port
  std::vector<std::string> methods;  // empty: any
  int strip_prefix = 0;
  std::optional<std::pair<std::string, std::string>> rewrite;
  std::chrono::milliseconds timeout{5000};
  bool retry = true;
  int rate_limit = 0;  // permits per period per client; 0: no limit
  std::chrono::milliseconds rate_period{1000};
  int max_concurrent = 0;  // 0: no bulkhead

  bool Matches(const std::string& method, const std::string& path) const;
  std::string Rewrite(const std::string& path) const;  // the upstream path
};

// Throws config::ConfigError naming gateway.routes[i].field.
std::vector<Route> ParseRoutes(const YAML::Node& routes);
// The platform's routes when none are configured.
std::vector<Route> DefaultRoutes();
// First route matching method and path (routes are tried in order).
const Route* FindRoute(const std::vector<Route>& routes, const std::string& method, const std::string& path);

}  // namespace op::gateway
