#include "dashboard/dashboard.h"

#include "dashboard/views.h"
#include "dashboard/web_assets.h"
#include "runtime/core/json.h"
#include "runtime/logging/log.h"

namespace op::dashboard {
namespace {

using http::HttpError;
using http::Request;
using http::Response;
using Json = nlohmann::json;
// Who may call what (sessions.h): a signed-in viewer or admin reads; admin
// acts, from the page itself; sign-in and sign-out come from the page too.
// The session's user is the request's principal.
http::Access SignedIn(Dashboard* d) {
  return http::Access::Custom([d](Request& req) { req.principal = RequireSession(d->sessions, req).AsPrincipal(); });
}
http::Access AdminAction(Dashboard* d) {
  return http::Access::Custom([d](Request& req) { req.principal = RequireAdminAction(d->sessions, req).AsPrincipal(); });
}
http::Access FromThePage() { return http::Access::Custom([](Request& req) { RequireSameOriginJson(req); }); }

// Passes an upstream's answer through, or a 502/503 problem naming it.
Response Relay(const discovery::CallResult& r, const std::string& app) {
  if (!r.ok() && r.failure != discovery::CallResult::Failure::kUpstream)
    throw HttpError(503, app + " is unavailable: " + r.error);
  if (!r.response.ok()) throw HttpError(502, app + " did not answer: " + r.response.error_message);
  Response out;
  out.status = r.response.status;
  out.body = r.response.body;
  out.headers.Set("Content-Type", r.response.headers.Get("content-type").value_or("application/json"));
  return out;
}

// The page and its assets, compiled in.
void AddPage(http::Router& router) {
  for (const auto& asset : WebAssets()) {
    auto serve = [&asset](Request&) {
      auto r = Response::Text(200, std::string(asset.body), std::string(asset.content_type));
      r.headers.Set("Cache-Control", "no-cache");
      return r;
    };
    router.Get(std::string(asset.path), op::http::Access::Public(), serve);
    if (asset.path == "/index.html") router.Get("/", op::http::Access::Public(), serve);
  }
}

// Sign-in: identity-service checks the credentials (the password grant);
// viewer and admin get a session, anyone else a 403.
Response SignIn(Dashboard* d, Request& req) {
  auto body = req.JsonBody();
  http::Validation v;
  if (!body.contains("username") || !body["username"].is_string() || body["username"].get<std::string>().empty() ||
      body["username"].get<std::string>().size() > 64)
    v.Add("username", "is required (1 to 64 characters)");
  if (!body.contains("password") || !body["password"].is_string() || body["password"].get<std::string>().empty() ||
      body["password"].get<std::string>().size() > 1024)
    v.Add("password", "is required");
  v.ThrowIfInvalid();
  http::ClientRequest token{"POST", "/oauth2/token", {},
                            "grant_type=password&username=" + http::PercentEncode(body["username"].get<std::string>()) +
                                "&password=" + http::PercentEncode(body["password"].get<std::string>()),
                            {}};
  token.headers.Set("Content-Type", "application/x-www-form-urlencoded");
  // the sign-in throttle counts the person's address, not the dashboard's
  token.headers.Set("X-Forwarded-For", req.remote.substr(0, req.remote.rfind(':')));
  discovery::ServiceClient::Options no_token;
  no_token.with_token = false;
  auto r = d->svc.services().Call("identity-service", std::move(token), no_token);
  if (!r.ok()) throw HttpError(503, "identity-service is unavailable: " + r.error);
  if (r.response.status == 429) {
    http::Problem p = http::MakeProblem(429, "too many failed sign-ins: wait and try again");
    p.headers.Set("Retry-After", r.response.headers.Get("retry-after").value_or("60"));
    throw HttpError(std::move(p));
  }
  if (r.response.status == 400 || r.response.status == 401) throw HttpError(401, "wrong user name or password");
  if (r.response.status != 200) throw HttpError(502, "identity-service answered " + std::to_string(r.response.status));
  auto tokens = ParseJsonOrDiscarded(r.response.body);
  if (!tokens.is_object() || !tokens.contains("access_token") || !tokens["access_token"].is_string())
    throw HttpError(502, "identity-service answered no token");
  auto verified = d->svc.auth().verifier().Verify(tokens["access_token"].get<std::string>());
  if (!verified.principal) throw HttpError(502, "identity-service's token did not verify: " + verified.error);
  const auto& who = *verified.principal;
  if (!who.HasRole(auth::kAdmin) && !who.HasRole(auth::kViewer))
    throw HttpError(403, "the dashboard is for viewer and admin identities");
  auto id = d->sessions.Create(who.subject, who.roles);
  log::Info("dashboard sign-in", {{"user", who.subject}, {"admin", who.HasRole(auth::kAdmin)}});
  auto out = Response::Json(200, {{"username", who.subject}, {"roles", who.roles}});
  out.headers.Set("Set-Cookie", SessionCookie(id, d->sessions.limits(), OverTls(req)));
  out.headers.Set("Cache-Control", "no-store");
  return out;
}

void AddSession(http::Router& router, Dashboard* d) {
  router.Post("/api/session", FromThePage(), [d](Request& req) { return SignIn(d, req); });
  router.Get("/api/session", SignedIn(d), [](Request& req) {
    const auto& who = *req.principal;
    return Response::Json(200, {{"username", who.subject}, {"roles", who.roles}, {"admin", who.HasRole(auth::kAdmin)}});
  });
  router.Delete("/api/session", FromThePage(), [d](Request& req) {
    if (auto id = SessionIdOf(req)) d->sessions.Remove(*id);
    auto out = Response::Empty(204);
    out.headers.Set("Set-Cookie", EndedSessionCookie(OverTls(req)));
    return out;
  });
}

// Read-only: the snapshot, an order's saga as a timeline, order search.
void AddReads(http::Router& router, Dashboard* d) {
  router.Get("/api/snapshot", SignedIn(d), [d](Request&) {
    Response r = Response::Text(200, d->collector->Snapshot(), "application/json");
    r.headers.Set("Cache-Control", "no-store");
    return r;
  });
  // One order with its saga as a timeline (order history + notifications).
  router.Get("/api/orders/{id}", SignedIn(d), [d](Request& req) {
    const std::string& id = req.PathParam("id");
    auto order = d->svc.services().Call("order-service", {"GET", "/api/orders/" + id, {}, {}, {}});
    if (!order.ok() || order.response.status != 200) return Relay(order, "order-service");
    Json o = ParseJsonOrDiscarded(order.response.body);
    if (o.is_discarded()) throw HttpError(502, "order-service answered no JSON");
    Json notes = Json::object();
    std::string notes_error;
    auto n = d->svc.services().Call("notification-service", {"GET", "/api/notifications?orderId=" + id, {}, {}, {}});
    if (n.ok() && n.response.status == 200) notes = ParseJsonOrDiscarded(n.response.body);
    else notes_error = n.ok() ? "notification-service answered " + std::to_string(n.response.status) : n.error;
    if (notes.is_discarded()) notes = Json::object();
    return Response::Json(200, {{"order", o},
                                {"notifications", notes.value("items", Json::array())},
                                {"notificationsError", notes_error.empty() ? Json(nullptr) : Json(notes_error)},
                                {"timeline", Timeline(o, notes)}});
  });
  // Search: by customer and/or status, through order-service's list.
  router.Get("/api/orders", SignedIn(d), [d](Request& req) {
    std::string q = "/api/orders?limit=" + req.Query("limit").value_or("25");
    for (const char* k : {"customerId", "status", "cursor"})
      if (auto v = req.Query(k)) q += std::string("&") + k + "=" + http::PercentEncode(*v);
    return Relay(d->svc.services().Call("order-service", {"GET", q, {}, {}, {}}), "order-service");
  });

}

// Actions: dev-broker faults, dead-letter replay.
void AddActions(http::Router& router, Dashboard* d) {
  // Dev-broker faults, forwarded to its admin API.
  auto forward = [d](const std::string& path, const Json& body) {
    const auto& base = d->collector->options().devbroker_url;
    if (base.empty()) throw HttpError(404, "no dev broker configured (dashboard.devbroker-url)");
    auto r = d->svc.http_client().PostJson(base + path, body);
    if (!r.ok()) throw HttpError(502, "dev broker did not answer: " + r.error_message);
    Response out;
    out.status = r.status;
    out.body = r.body;
    out.headers.Set("Content-Type", r.headers.Get("content-type").value_or("application/json"));
    return out;
  };
  router.Post("/api/kafka/brokers/{id}/{action}", AdminAction(d), [forward](Request& req) {
    const auto& action = req.PathParam("action");
    if (action == "rtt") return forward("/faults/brokers/" + req.PathParam("id") + "/rtt", req.JsonBody());
    if (action != "down" && action != "up")
      throw HttpError(404, "no broker action '" + action + "' (down, up, rtt)");
    return forward("/faults/brokers/" + req.PathParam("id") + "/" + action, Json::object());
  });
  router.Post("/api/kafka/partitions/{topic}/{partition}/leader", AdminAction(d), [forward](Request& req) {
    return forward("/faults/partitions/" + http::PercentEncode(req.PathParam("topic")) + "/" + req.PathParam("partition") +
                       "/leader",
                   req.JsonBody());
  });
  router.Post("/api/dead-letters/replay", AdminAction(d), [d](Request& req) {
    auto body = req.JsonBody();
    http::Validation v;
    if (!body.contains("topic") || !body["topic"].is_string()) v.Add("topic", "must be the dead-letter topic");
    if (!body.contains("partition") || !body["partition"].is_number_integer()) v.Add("partition", "must be an integer");
    if (!body.contains("offset") || !body["offset"].is_number_integer()) v.Add("offset", "must be an integer");
    v.ThrowIfInvalid();
    std::optional<Json> done;
    try {
      done = d->dead_letters->Replay(body["topic"], body["partition"], body["offset"]);
    } catch (const std::runtime_error& e) {
      throw HttpError(503, e.what());
    }
    if (!done) throw HttpError(404, "no dead letter at that topic/partition/offset (only the newest are kept)");
    log::Info("dead letter replayed", {{"by", req.principal->subject}, {"topic", body["topic"]}, {"offset", body["offset"]}});
    return Response::Json(202, *done);
  });
}

}  // namespace

void AddRoutes(http::Router& router, Dashboard* d) {
  AddPage(router);
  AddSession(router, d);
  AddReads(router, d);
  AddActions(router, d);
}

}  // namespace op::dashboard
