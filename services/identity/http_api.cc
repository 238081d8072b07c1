#include "services/identity/http_api.h"

#include <openssl/crypto.h>

#include "runtime/logging/log.h"
#include "services/identity/rules.h"
#include "services/identity/store.h"
#include "services/identity/tokens.h"

namespace op::identity {

namespace {

using http::Request;
using http::Response;
using Json = nlohmann::json;

int64_t NowSeconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

// RFC 6749 §5.1/§5.2: JSON, never cached.
Response OAuthJson(int status, Json body) {
  auto r = Response::Json(status, body);
  r.headers.Set("Cache-Control", "no-store");
  r.headers.Set("Pragma", "no-cache");
  return r;
}
Response OAuthFail(const OAuthError& e) {
  auto r = OAuthJson(e.status, {{"error", e.error}, {"error_description", e.description}});
  if (e.status == 401) r.headers.Set("WWW-Authenticate", "Basic realm=\"identity-service\"");
  return r;
}

// The client's address: the peer, or what a trusted proxy (the gateway) says it forwarded for.
std::string ClientAddress(const Identity& id, const Request& req) {
  std::string peer = req.remote.substr(0, req.remote.rfind(':'));
  auto xff = req.Header("x-forwarded-for");
  if (!xff || !id.options.trusted_proxies.count(peer)) return peer;
  auto last = xff->rfind(',');
  std::string hop = xff->substr(last == std::string::npos ? 0 : last + 1);
  while (!hop.empty() && hop.front() == ' ') hop.erase(0, 1);
  return hop.empty() || hop.size() > 64 ? peer : hop;
}

// Argon2id behind the bulkhead (on a hashing-pool thread, which holds it).
template <class F>
auto Hashing(Identity& id, F f) {
  auto permit = id.hashing.Acquire();
  if (!permit) {
    http::Problem p = http::MakeProblem(503, "too many sign-ins at once; try again shortly");
    p.headers.Set("Retry-After", "1");
    throw http::HttpError(p);
  }
  return f();
}

Response Issue(Identity& id, const std::string& subject, const std::string& customer_id, const std::set<std::string>& roles,
               const std::string& client_id, const std::optional<std::string>& family) {
  auto keys = id.Keys();
  const SigningKey* signer = Signer(keys);
  if (!signer) throw http::HttpError(503, "no signing key yet");
  const auto now = std::chrono::system_clock::now();
  AccessClaims claims{id.options.issuer, subject, customer_id, roles};
  std::string scope;
  for (const auto& r : roles) scope += (scope.empty() ? "" : " ") + r;
  Json body = {{"access_token", SignAccessToken(*signer, claims, now, id.options.access_ttl)},
               {"token_type", "Bearer"},
               {"expires_in", id.options.access_ttl.count()},
               {"scope", scope}};
  if (family) {
    std::string refresh = NewRefreshToken();
    id.svc.db().Transact([&](db::Session& s) {
      InsertRefreshToken(s, {TokenHash(refresh), *family, subject, client_id, NowSeconds() + id.options.refresh_ttl.count()});
    });
    body["refresh_token"] = refresh;
  }
  return OAuthJson(200, body);
}

// The 429 for a user name or address with too many failed sign-ins.
std::optional<Response> Throttled(Identity& id, const std::string& username, const std::string& address) {
  auto wait = id.throttle.RetryAfter(username, address);
  if (!wait) return std::nullopt;
  auto r = OAuthJson(429, {{"error", "slow_down"}, {"error_description", "too many failed sign-ins; try again later"}});
  r.headers.Set("Retry-After", std::to_string(wait->count()));
  return r;
}

// On the hashing pool; the throttle again, for failures while it queued.
Response PasswordGrant(Identity& id, const TokenRequest& t, const std::string& address) {
  if (auto refused = Throttled(id, t.username, address)) return *refused;
  auto user = FindUser(id.svc.db(), t.username);
  // The same work whether or not the user exists: no timing tells which.
  static const std::string kDummy = HashPassword("not-a-password-at-all", id.options.passwords);
  const bool ok = Hashing(id, [&] { return VerifyPassword(t.password, user ? user->password_hash : kDummy); }) && user;
  if (!ok) {
    id.throttle.Failed(t.username, address);
    log::Info("sign-in failed", {{"username", t.username}, {"address", address}});
    return OAuthFail({400, "invalid_grant", "invalid username or password"});
  }
  id.throttle.Succeeded(t.username);
  const std::string customer = user->roles.count("customer") ? user->username : "";
  return Issue(id, user->username, customer, user->roles, t.client_id, NewId());
}

Response RefreshGrant(Identity& id, const TokenRequest& t) {
  RefreshToken spent;
  auto use = id.svc.db().Transact([&](db::Session& s) { return SpendRefreshToken(s, TokenHash(t.refresh_token), NowSeconds(), &spent); });
  if (use == RefreshUse::kReused) log::Warn("a spent refresh token was used again: its family is revoked", {{"username", spent.username}});
  if (use != RefreshUse::kFirst) return OAuthFail({400, "invalid_grant", "the refresh token is invalid, expired or revoked"});
  auto user = FindUser(id.svc.db(), spent.username);
  if (!user) return OAuthFail({400, "invalid_grant", "the user no longer exists"});
  const std::string customer = user->roles.count("customer") ? user->username : "";
  return Issue(id, user->username, customer, user->roles, spent.client_id, spent.family);
}

Response ClientCredentialsGrant(Identity& id, const TokenRequest& t) {
  auto c = id.options.clients.find(t.client_id);
  const bool ok = c != id.options.clients.end() && c->second.secret.size() == t.client_secret.size() &&
                  CRYPTO_memcmp(c->second.secret.data(), t.client_secret.data(), t.client_secret.size()) == 0;
  if (!ok) return OAuthFail({401, "invalid_client", "unknown client or wrong secret"});
  return Issue(id, t.client_id, "", c->second.roles, t.client_id, std::nullopt);
}

// Runs `work` (which hashes) on the hashing pool and answers from there; a
// full queue is a 503 at once. The server thread is free meanwhile.
void OnHashingPool(Identity& id, Request& req, http::Respond respond, std::function<Response()> work) {
  auto job = [&req, respond, work = std::move(work)] {
    try {
      respond(work());
    } catch (const std::exception& e) {
      respond(http::ErrorResponse(e, req));
    }
  };
  if (!id.hashing_pool.Submit(std::move(job))) {
    http::Problem p = http::MakeProblem(503, "too many sign-ins at once; try again shortly");
    p.headers.Set("Retry-After", "1");
    respond(p.ToResponse(req.path));
  }
}

void Token(Identity& id, Request& req, http::Respond respond) {
  auto type = req.Header("content-type").value_or("");
  if (type.rfind("application/x-www-form-urlencoded", 0) != 0)
    return respond(OAuthFail({400, "invalid_request", "the body must be application/x-www-form-urlencoded"}));
  OAuthError error;
  auto t = ParseTokenRequest(http::ParseQuery(req.body), req.Header("authorization"), &error);
  if (!t) return respond(OAuthFail(error));
  if (t->grant_type == "refresh_token") return respond(RefreshGrant(id, *t));
  if (t->grant_type != "password") return respond(ClientCredentialsGrant(id, *t));
  // The throttle first: a blocked user or address costs no hash, nor a place in the queue.
  const std::string address = ClientAddress(id, req);
  if (auto refused = Throttled(id, t->username, address)) return respond(*refused);
  OnHashingPool(id, req, std::move(respond), [&id, grant = *t, address] { return PasswordGrant(id, grant, address); });
}

Response SignUp(Identity& id, Request& req) {
  auto body = req.JsonBody();
  http::Validation v;
  const bool has_user = body.contains("username") && body["username"].is_string();
  const bool has_password = body.contains("password") && body["password"].is_string();
  if (!has_user || !ValidUsername(body["username"])) v.Add("username", "3 to 64 of a-z 0-9 . _ -");
  if (!has_password || !ValidPassword(body["password"])) v.Add("password", "10 to 1024 characters");
  v.ThrowIfInvalid();
  const std::string username = body["username"];
  auto hash = Hashing(id, [&] { return HashPassword(body["password"].get<std::string>(), id.options.passwords); });
  if (!CreateUser(id.svc.db(), {username, hash, {"customer"}})) throw http::HttpError(409, "user name '" + username + "' is taken");
  auto r = Response::Json(201, {{"username", username}, {"customerId", username}, {"roles", {"customer"}}});
  r.headers.Set("Location", "/api/users/" + username);
  return r;
}

Response Me(Request& req) {
  const auto& p = *req.principal;
  return Response::Json(200, {{"username", p.subject}, {"customerId", p.customer_id.empty() ? Json(nullptr) : Json(p.customer_id)},
                              {"roles", p.roles}});
}

// What POST /api/users's Location names: the user itself, or any, for admin.
Response GetUser(Identity& id, Request& req) {
  auto user = FindUser(id.svc.db(), req.PathParam("username"));
  if (!user) throw http::HttpError(404, "no user " + req.PathParam("username"));
  const bool customer = user->roles.count(auth::kCustomer) > 0;
  return Response::Json(200, {{"username", user->username}, {"customerId", customer ? Json(user->username) : Json(nullptr)},
                              {"roles", user->roles}});
}

}  // namespace

void AddRoutes(Identity& id) {
  auto* i = &id;
  auto& router = id.svc.router();
  using http::Access;
  router.AddAsync("POST", "/api/users", Access::Public(), [i](Request& req, http::Respond respond) {
    OnHashingPool(*i, req, std::move(respond), [i, &req] { return SignUp(*i, req); });
  });
  router.Get("/api/users/me", Access::SignedIn(), [](Request& req) { return Me(req); });
  router.Get("/api/users/{username}", Access::OwnCustomerOr("username", {auth::kAdmin}),
             [i](Request& req) { return GetUser(*i, req); });
  router.AddAsync("POST", "/oauth2/token", Access::Public(), [i](Request& req, http::Respond respond) { Token(*i, req, std::move(respond)); });
  router.Post("/oauth2/revoke", Access::Public(), [i](Request& req) {
    auto form = http::ParseQuery(req.body);
    auto token = form.find("token");
    if (token == form.end() || token->second.empty() || token->second.size() > 128)
      return OAuthFail({400, "invalid_request", "token is required"});
    RevokeRefreshToken(i->svc.db(), TokenHash(token->second), NowSeconds());
    return OAuthJson(200, Json::object());  // RFC 7009 §2.2: also for unknown tokens
  });
  router.Get("/.well-known/jwks.json", Access::Public(), [i](Request&) {
    auto r = Response::Json(200, Jwks(i->Keys()));
    r.headers.Set("Cache-Control", "public, max-age=60");
    return r;
  });
  router.Get("/.well-known/openid-configuration", Access::Public(), [i](Request&) {
    const auto& iss = i->options.issuer;
    return Response::Json(200, {{"issuer", iss},
                                {"token_endpoint", iss + "/oauth2/token"},
                                {"revocation_endpoint", iss + "/oauth2/revoke"},
                                {"jwks_uri", iss + "/.well-known/jwks.json"},
                                {"userinfo_endpoint", iss + "/api/users/me"},
                                {"grant_types_supported", {"password", "refresh_token", "client_credentials"}},
                                {"token_endpoint_auth_methods_supported", {"client_secret_basic", "client_secret_post"}},
                                {"response_types_supported", {"token"}},
                                {"scopes_supported", {"customer", "admin", "viewer", "service"}},
                                {"id_token_signing_alg_values_supported", {"ES256"}},
                                {"subject_types_supported", {"public"}}});
  });
}

}  // namespace op::identity
