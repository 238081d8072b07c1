#pragma once
// What a route needs from its caller (DESIGN section 10), declared in the
// line that adds the route:
//
//   router.Get("/api/products", Access::Public(), ...);
//   router.Put("/api/products/{sku}", Access::Roles({auth::kAdmin}), ...);
//   router.Get("/api/accounts/{customerId}", Access::OwnCustomerOr("customerId", {kAdmin, kService}), ...);
//   router.Get("/api/orders", Access::SignedIn(), ...);   // the handler narrows what it reads
//   router.Get("/eureka/apps", Access::Custom(check), ...); // another scheme (HTTP Basic, a session)
//
// Before the handler runs, the router checks the request's bearer token
// with the program's Authenticator and the route's Access:
//   - no token, or one that is not valid → 401 with `WWW-Authenticate:
//     Bearer` (RFC 6750 §3: `error="invalid_token"` when one was sent);
//   - a valid token whose roles do not allow the route → 403 problem+json;
//   - a token that cannot be checked now (the identity service's keys cannot
//     be had) → 503 with Retry-After: the client's token may be fine, so
//     401 (sign in again) would be the wrong advice;
// and puts the caller on Request::principal. A program that has no
// Authenticator refuses every route that is not public: closed by default.
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>

#include "runtime/auth/principal.h"

namespace op::http {

struct Request;

struct Access {
  bool open = false;                // public: no token needed (one that is sent is ignored)
  std::set<std::string> roles;      // any one passes; empty (and !open): any valid token
  std::string own_customer_param;   // or a caller whose customer_id is this path parameter's value
  // Another scheme than bearer tokens: throws HttpError to refuse, may set
  // Request::principal. When set, it alone decides.
  std::function<void(Request&)> check;

  static Access Public() { return {true, {}, {}, {}}; }
  static Access SignedIn() { return {false, {}, {}, {}}; }
  static Access Roles(std::set<std::string> roles) { return {false, std::move(roles), {}, {}}; }
  static Access OwnCustomerOr(std::string path_param, std::set<std::string> roles) {
    return {false, std::move(roles), std::move(path_param), {}};
  }
  static Access Custom(std::function<void(Request&)> check) { return {false, {}, {}, std::move(check)}; }
};

// A bearer token checked: the caller, or why not (no secret in it).
struct Verdict {
  std::shared_ptr<const auth::Principal> principal;
  std::string error;
  bool unavailable = false;  // it could not be checked now (no keys to check it with)
};
using Authenticator = std::function<Verdict(std::string_view token)>;

// Throws HttpError (401, 403) unless `req` may use a route of `access`; sets
// req.principal when a token was verified. `authenticator` may be null.
void Authorize(Request& req, const Access& access, const Authenticator* authenticator);

// For handlers whose ownership rule is in a body or a query: whether the
// caller is `customer_id` itself or has one of `roles`.
bool ActsFor(const Request& req, const std::string& customer_id, const std::set<std::string>& roles);
// The same, throwing 403 problem+json when not.
void RequireActsFor(const Request& req, const std::string& customer_id, const std::set<std::string>& roles);
// The customer a list is for: what was asked (nullopt: everyone's) for a
// caller with one of `roles`; else the caller's own customer id, and 403 when
// it asked for another's or is no customer.
std::optional<std::string> CustomerScope(const Request& req, std::optional<std::string> asked, const std::set<std::string>& roles);

}  // namespace op::http
