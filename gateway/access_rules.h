#pragma once
// Who may call what through the gateway, checked before a request is
// forwarded (DESIGN section 10): the services check the same rules again,
// and the ownership of a customer's data is theirs to decide. Configured the
// way Spring Security's path matchers read:
//
//   gateway:
//     access:
//       - {path: /api/products/**, methods: [GET, HEAD], access: public}
//       - {path: /api/accounts/*/deposit, roles: [admin]}
//       - {path: /**, access: authenticated}
//
// `*` is one path segment, a trailing `/**` any rest. The first rule whose
// path and methods match decides; a request no rule matches needs a valid
// token (closed by default).
#include <yaml-cpp/yaml.h>

#include <string>
#include <vector>

#include "runtime/http/access.h"

namespace op::gateway {

struct AccessRule {
  std::string path;                   // as configured
  std::vector<std::string> segments;  // without a trailing "**"
  bool any_rest = false;              // a trailing /**
  std::vector<std::string> methods;   // empty: any
  http::Access access;

  bool Matches(const std::string& method, const std::vector<std::string>& segments) const;
};

// Throws config::ConfigError naming gateway.access[i].field.
std::vector<AccessRule> ParseAccessRules(const YAML::Node& rules);
// DESIGN section 10's rules.
std::vector<AccessRule> DefaultAccessRules();
// What the first matching rule asks; a valid token when none matches. The
// path comes split (http::SplitPath), once per request.
const http::Access& AccessFor(const std::vector<AccessRule>& rules, const std::string& method,
                              const std::vector<std::string>& segments);
const http::Access& AccessFor(const std::vector<AccessRule>& rules, const std::string& method, const std::string& path);

}  // namespace op::gateway
