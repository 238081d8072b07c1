#include "runtime/http/access.h"

#include <strings.h>

#include "runtime/http/types.h"

namespace op::http {

namespace {
constexpr const char* kRealm = "Bearer realm=\"order-platform\"";

HttpError Unauthorized(std::string challenge, const std::string& detail) {
  Problem p = MakeProblem(401, detail);
  p.headers.Set("WWW-Authenticate", std::move(challenge));
  return HttpError(std::move(p));
}

// error_description is a quoted-string: keep it to plain printable characters.
std::string Quotable(std::string_view s) {
  std::string out;
  for (char c : s.substr(0, 120))
    if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') out += c;
  return out;
}

std::string RolesText(const std::set<std::string>& roles) {
  std::string out;
  for (const auto& r : roles) out += (out.empty() ? "" : " or ") + r;
  return out;
}
}  // namespace

void Authorize(Request& req, const Access& access, const Authenticator* authenticator) {
  if (access.check) return access.check(req);
  if (access.open) return;
  auto header = req.Header("authorization");
  // RFC 6750 §2.1: the scheme is case-insensitive, one space, then the token.
  if (!header || header->size() < 7 || strncasecmp(header->c_str(), "Bearer ", 7) != 0)
    throw Unauthorized(kRealm, header ? "the Authorization header must be a Bearer token" : "a bearer token is required");
  const std::string_view token = std::string_view(*header).substr(7);
  Verdict verdict{nullptr, "this program cannot verify tokens", false};
  if (authenticator && *authenticator) verdict = (*authenticator)(token);
  if (verdict.unavailable) {
    Problem p = MakeProblem(503, "the token cannot be checked now: " + verdict.error);
    p.headers.Set("Retry-After", "1");
    throw HttpError(std::move(p));
  }
  const auto& who = verdict.principal;
  if (!who)
    throw Unauthorized(std::string(kRealm) + ", error=\"invalid_token\", error_description=\"" + Quotable(verdict.error) + "\"",
                       "invalid token: " + verdict.error);
  req.principal = who;
  if (access.roles.empty() && access.own_customer_param.empty()) return;
  if (who->HasAnyRole(access.roles)) return;
  if (!access.own_customer_param.empty()) {
    auto it = req.path_params.find(access.own_customer_param);
    if (it != req.path_params.end() && !who->customer_id.empty() && it->second == who->customer_id) return;
    throw HttpError(403, "only the customer itself" + std::string(access.roles.empty() ? "" : " or " + RolesText(access.roles)) +
                             " may do this");
  }
  throw HttpError(403, "this needs the role " + RolesText(access.roles));
}

bool ActsFor(const Request& req, const std::string& customer_id, const std::set<std::string>& roles) {
  if (!req.principal) return false;
  if (req.principal->HasAnyRole(roles)) return true;
  return !req.principal->customer_id.empty() && req.principal->customer_id == customer_id;
}

std::optional<std::string> CustomerScope(const Request& req, std::optional<std::string> asked, const std::set<std::string>& roles) {
  if (ActsFor(req, "", roles)) return asked;
  if (asked) RequireActsFor(req, *asked, {});
  if (!req.principal || req.principal->customer_id.empty()) throw HttpError(403, "this lists a customer's own data: sign in as one");
  return req.principal->customer_id;
}

void RequireActsFor(const Request& req, const std::string& customer_id, const std::set<std::string>& roles) {
  if (!ActsFor(req, customer_id, roles))
    throw HttpError(403, "a customer may act only for itself (customerId '" + customer_id.substr(0, 64) + "' is not the caller)");
}

}  // namespace op::http
