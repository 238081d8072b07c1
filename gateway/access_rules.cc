#include "gateway/access_rules.h"

#include <algorithm>

#include "runtime/config/config.h"
#include "runtime/http/router.h"

namespace op::gateway {

bool AccessRule::Matches(const std::string& method, const std::vector<std::string>& parts) const {
  if (!methods.empty() && std::find(methods.begin(), methods.end(), method) == methods.end()) return false;
  if (parts.size() < segments.size() || (!any_rest && parts.size() != segments.size())) return false;
  for (size_t i = 0; i < segments.size(); ++i)
    if (segments[i] != "*" && segments[i] != parts[i]) return false;
  return true;
}

namespace {
[[noreturn]] void Bad(size_t i, const std::string& field, const std::string& why) {
  throw config::ConfigError("key 'gateway.access[" + std::to_string(i) + "]." + field + "' " + why);
}

AccessRule ParseRule(const YAML::Node& r, size_t i) {
  AccessRule rule;
  if (!r.IsMap()) Bad(i, "", "must be a mapping such as {path: /api/**, access: authenticated}");
  for (auto it = r.begin(); it != r.end(); ++it) {
    const std::string k = it->first.as<std::string>();
    if (k != "path" && k != "methods" && k != "access" && k != "roles") Bad(i, k, "is not an access setting (path, methods, access, roles)");
  }
  if (!r["path"] || !r["path"].IsScalar() || r["path"].as<std::string>().empty() || r["path"].as<std::string>()[0] != '/')
    Bad(i, "path", "is required and starts with '/'");
  rule.path = r["path"].as<std::string>();
  rule.segments = http::SplitPath(rule.path);
  if (!rule.segments.empty() && rule.segments.back() == "**") {
    rule.segments.pop_back();
    rule.any_rest = true;
  }
  for (const auto& s : rule.segments)
    if (s == "**" || (s.find('*') != std::string::npos && s != "*")) Bad(i, "path", "supports '*' segments and a trailing '/**' only");
  if (r["methods"]) {
    if (!r["methods"].IsSequence()) Bad(i, "methods", "must be a list such as [GET, HEAD]");
    for (const auto& m : r["methods"]) {
      std::string method = m.as<std::string>();
      std::transform(method.begin(), method.end(), method.begin(), ::toupper);
      rule.methods.push_back(method);
    }
  }
  const bool has_roles = bool(r["roles"]);
  const std::string access = r["access"] ? r["access"].as<std::string>() : (has_roles ? "roles" : "");
  if (access == "public") rule.access = http::Access::Public();
  else if (access == "authenticated") rule.access = http::Access::SignedIn();
  else if (access == "roles" && has_roles) {
    if (!r["roles"].IsSequence() || r["roles"].size() == 0) Bad(i, "roles", "must be a non-empty list such as [admin]");
    std::set<std::string> roles;
    for (const auto& role : r["roles"]) roles.insert(role.as<std::string>());
    rule.access = http::Access::Roles(std::move(roles));
  } else {
    Bad(i, "access", "must be public or authenticated, or roles must be given");
  }
  if (has_roles && access != "roles") Bad(i, "roles", "goes without access (roles: [admin] alone)");
  return rule;
}
}  // namespace

std::vector<AccessRule> ParseAccessRules(const YAML::Node& rules) {
  if (!rules.IsSequence()) throw config::ConfigError("key 'gateway.access' must be a list of rules");
  std::vector<AccessRule> out;
  for (size_t i = 0; i < rules.size(); ++i) out.push_back(ParseRule(rules[i], i));
  return out;
}

std::vector<AccessRule> DefaultAccessRules() {
  return ParseAccessRules(YAML::Load(R"(
- {path: /api/products/**, methods: [GET, HEAD], access: public}
- {path: /api/products/**, roles: [admin]}
- {path: /api/accounts/*, methods: [PUT], roles: [admin]}
- {path: /api/accounts/*/deposit, roles: [admin]}
- {path: /api/users, methods: [POST], access: public}
- {path: /oauth2/**, access: public}
- {path: /.well-known/**, access: public}
- {path: /**, access: authenticated}
)"));
}

const http::Access& AccessFor(const std::vector<AccessRule>& rules, const std::string& method,
                              const std::vector<std::string>& segments) {
  static const http::Access kSignedIn = http::Access::SignedIn();
  for (const auto& r : rules)
    if (r.Matches(method, segments)) return r.access;
  return kSignedIn;
}

const http::Access& AccessFor(const std::vector<AccessRule>& rules, const std::string& method, const std::string& path) {
  return AccessFor(rules, method, http::SplitPath(path));
}

}  // namespace op::gateway
