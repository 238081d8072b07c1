#include "runtime/http/router.h"

#include <gtest/gtest.h>

#include "runtime/core/unavailable.h"

namespace op::http {
namespace {

Request Req(std::string method, std::string path) {
  Request r;
  r.method = std::move(method);
  r.path = std::move(path);
  return r;
}

Router TestRouter() {
  Router r;
  r.Get("/api/orders/{id}", Access::Public(), [](Request& q) { return Response::Text(200, "get " + q.PathParam("id")); });
  r.Get("/api/orders/search", Access::Public(), [](Request&) { return Response::Text(200, "search"); });
  r.Post("/api/orders/{id}/cancel", Access::Public(), [](Request& q) { return Response::Text(202, "cancel " + q.PathParam("id")); });
  r.Get("/api/orders", Access::Public(), [](Request&) { return Response::Text(200, "list"); });
  r.Get("/static/**", Access::Public(), [](Request& q) { return Response::Text(200, "file " + q.PathParam("**")); });
  return r;
}

TEST(Router, MatchesTemplatesAndCapturesParameters) {
  Router r = TestRouter();
  auto q = Req("GET", "/api/orders/o%2D1");
  EXPECT_EQ(r.Handle(q).body, "get o-1");
  EXPECT_EQ(q.route, "/api/orders/{id}");
  q = Req("POST", "/api/orders/42/cancel");
  EXPECT_EQ(r.Handle(q).body, "cancel 42");
  q = Req("GET", "/api/orders/");
  EXPECT_EQ(r.Handle(q).body, "list");
  q = Req("GET", "/static/css/site.css");
  EXPECT_EQ(r.Handle(q).body, "file css/site.css");
  EXPECT_EQ(q.route, "/static/**");
  q = Req("HEAD", "/api/orders");
  EXPECT_EQ(r.Handle(q).body, "list");
}

TEST(Router, LiteralSegmentsWinOverParameters) {
  Router r = TestRouter();
  auto q = Req("GET", "/api/orders/search");
  EXPECT_EQ(r.Handle(q).body, "search");
}

TEST(Router, NotFoundAndMethodNotAllowedAreProblems) {
  Router r = TestRouter();
  auto q = Req("GET", "/api/nothing");
  auto resp = r.Handle(q);
  EXPECT_EQ(resp.status, 404);
  EXPECT_EQ(resp.headers.Get("content-type"), "application/problem+json");
  q = Req("DELETE", "/api/orders/1");
  resp = r.Handle(q);
  EXPECT_EQ(resp.status, 405);
  EXPECT_EQ(resp.headers.Get("allow"), "GET");
  auto body = nlohmann::json::parse(resp.body);
  EXPECT_EQ(body["status"], 405);
  EXPECT_EQ(body["title"], "Method Not Allowed");
}

TEST(Router, AnErrorCaughtElsewhereBecomesTheSameProblem) {
  Request req;
  req.path = "/api/orders";
  req.headers.Set("x-request-id", "req-7");
  auto caught = [](auto thrown) {
    try {
      thrown();
    } catch (...) {
      return std::current_exception();
    }
    return std::exception_ptr();
  };
  auto conflict = ErrorResponse(caught([] { throw HttpError(409, "taken"); }), req);
  EXPECT_EQ(conflict.status, 409);
  EXPECT_EQ(conflict.headers.Get("content-type"), "application/problem+json");
  auto boom = ErrorResponse(caught([] { throw std::runtime_error("secret detail"); }), req);
  EXPECT_EQ(boom.status, 500);
  EXPECT_EQ(boom.body.find("secret detail"), std::string::npos) << "internals must not leak";
  EXPECT_NE(boom.body.find("req-7"), std::string::npos) << "the request id names it instead";
  EXPECT_EQ(ErrorResponse(caught([] { throw 42; }), req).status, 500);
  // A dependency that cannot serve now (the database): 503, when to retry, and no internals.
  struct DatabaseDown : std::runtime_error, Unavailable {
    DatabaseDown() : std::runtime_error("Can't connect to server on 10.0.0.7") {}
    const char* dependency() const override { return "the database"; }
  };
  auto down = ErrorResponse(caught([] { throw DatabaseDown(); }), req);
  EXPECT_EQ(down.status, 503);
  EXPECT_EQ(down.headers.Get("retry-after"), "2");
  EXPECT_NE(down.body.find("the database is unavailable"), std::string::npos) << down.body;
  EXPECT_EQ(down.body.find("10.0.0.7"), std::string::npos) << "internals must not leak";
}

// Tokens as a program's Authenticator would vouch for them.
Router GuardedRouter() {
  Router r;
  r.SetAuthenticator([](std::string_view token) -> Verdict {
    if (token == "alice") return {std::make_shared<auth::Principal>(auth::Principal{"alice", "alice", {"customer"}, "j1", {}}), ""};
    if (token == "admin") return {std::make_shared<auth::Principal>(auth::Principal{"admin", "", {"admin"}, "j2", {}}), ""};
    if (token == "while-identity-is-down") return {nullptr, "no signing keys", true};
    return {nullptr, "bad \"signature\"\r\n"};
  });
  auto who = [](Request& q) { return Response::Text(200, q.principal ? q.principal->subject : "nobody"); };
  r.Get("/open", Access::Public(), who);
  r.Get("/me", Access::SignedIn(), who);
  r.Put("/catalog", Access::Roles({"admin"}), who);
  r.Get("/accounts/{customerId}", Access::OwnCustomerOr("customerId", {"admin"}), who);
  return r;
}

Request WithToken(std::string method, std::string path, std::string authorization) {
  auto q = Req(std::move(method), std::move(path));
  q.headers.Set("Authorization", std::move(authorization));
  return q;
}

TEST(Access, NoOrABadTokenIs401WithABearerChallenge) {
  Router r = GuardedRouter();
  auto q = Req("GET", "/me");
  auto none = r.Handle(q);
  EXPECT_EQ(none.status, 401);
  EXPECT_EQ(none.headers.Get("www-authenticate"), "Bearer realm=\"order-platform\"") << "RFC 6750 §3.1: no error code without a token";
  EXPECT_EQ(none.headers.Get("content-type"), "application/problem+json");
  q = WithToken("GET", "/me", "Basic YWxpY2U6eA==");
  EXPECT_EQ(r.Handle(q).status, 401) << "another scheme";
  q = WithToken("GET", "/me", "Bearer forged");
  auto bad = r.Handle(q);
  EXPECT_EQ(bad.status, 401);
  EXPECT_EQ(bad.headers.Get("www-authenticate"),
            "Bearer realm=\"order-platform\", error=\"invalid_token\", error_description=\"bad signature\"")
      << "the reason, made safe for a quoted-string";
  q = WithToken("GET", "/me", "Bearer while-identity-is-down");
  auto unavailable = r.Handle(q);
  EXPECT_EQ(unavailable.status, 503) << "not the client's fault: no 401";
  EXPECT_EQ(unavailable.headers.Get("retry-after"), "1");
  q = WithToken("GET", "/me", "bearer alice");
  EXPECT_EQ(r.Handle(q).body, "alice") << "the scheme is case-insensitive";
  q = Req("GET", "/open");
  EXPECT_EQ(r.Handle(q).body, "nobody") << "public routes need nothing";
}

TEST(Access, RolesAndTheCustomersOwnIdAre403WhenTheyDoNotMatch) {
  Router r = GuardedRouter();
  auto q = WithToken("PUT", "/catalog", "Bearer alice");
  auto refused = r.Handle(q);
  EXPECT_EQ(refused.status, 403);
  EXPECT_EQ(refused.headers.Get("content-type"), "application/problem+json");
  q = WithToken("PUT", "/catalog", "Bearer admin");
  EXPECT_EQ(r.Handle(q).status, 200);
  q = WithToken("GET", "/accounts/alice", "Bearer alice");
  EXPECT_EQ(r.Handle(q).body, "alice") << "its own";
  q = WithToken("GET", "/accounts/bob", "Bearer alice");
  EXPECT_EQ(r.Handle(q).status, 403) << "another's";
  q = WithToken("GET", "/accounts/bob", "Bearer admin");
  EXPECT_EQ(r.Handle(q).status, 200);
}

TEST(Access, WithoutAnAuthenticatorEveryRouteButThePublicOnesIsRefused) {
  Router r;
  r.Get("/me", Access::SignedIn(), [](Request&) { return Response::Text(200, "in"); });
  auto q = WithToken("GET", "/me", "Bearer alice");
  auto refused = r.Handle(q);
  EXPECT_EQ(refused.status, 401);
  EXPECT_NE(refused.body.find("cannot verify tokens"), std::string::npos);
}

TEST(Access, CustomerScopeNarrowsAListToTheCallersOwn) {
  Request q;
  q.principal = std::make_shared<auth::Principal>(auth::Principal{"alice", "alice", {"customer"}, "j", {}});
  EXPECT_EQ(CustomerScope(q, std::nullopt, {"admin"}), "alice") << "everyone's becomes hers";
  EXPECT_EQ(CustomerScope(q, "alice", {"admin"}), "alice");
  EXPECT_THROW(CustomerScope(q, "bob", {"admin"}), HttpError);
  q.principal = std::make_shared<auth::Principal>(auth::Principal{"admin", "", {"admin"}, "j", {}});
  EXPECT_EQ(CustomerScope(q, std::nullopt, {"admin"}), std::nullopt) << "admin lists everyone's";
  EXPECT_EQ(CustomerScope(q, "bob", {"admin"}), "bob");
  q.principal = std::make_shared<auth::Principal>(auth::Principal{"viewer", "", {"viewer"}, "j", {}});
  EXPECT_THROW(CustomerScope(q, std::nullopt, {"admin"}), HttpError) << "no customer, no role: nothing";
}

TEST(Access, ACustomCheckAloneDecidesAndMayNameTheCaller) {
  Router r;
  r.Get("/basic", Access::Custom([](Request& q) {
    if (q.Header("authorization") != "Basic ok") throw HttpError(401, "credentials");
    q.principal = std::make_shared<auth::Principal>(auth::Principal{"peer", "", {"peer"}, "", {}});
  }), [](Request& q) { return Response::Text(200, q.principal->subject); });
  auto q = Req("GET", "/basic");
  EXPECT_EQ(r.Handle(q).status, 401) << "no bearer token is asked for: the check refuses";
  q = WithToken("GET", "/basic", "Basic ok");
  EXPECT_EQ(r.Handle(q).body, "peer");
}

TEST(Access, ActsForIsTheCustomerItselfOrOneOfTheRoles) {
  Request q;
  EXPECT_FALSE(ActsFor(q, "alice", {"admin"})) << "nobody signed in";
  q.principal = std::make_shared<auth::Principal>(auth::Principal{"alice", "alice", {"customer"}, "j", {}});
  EXPECT_TRUE(ActsFor(q, "alice", {}));
  EXPECT_FALSE(ActsFor(q, "bob", {"admin"}));
  EXPECT_THROW(RequireActsFor(q, "bob", {"admin"}), HttpError);
  q.principal = std::make_shared<auth::Principal>(auth::Principal{"ops", "", {"service"}, "j", {}});
  EXPECT_TRUE(ActsFor(q, "bob", {"admin", "service"}));
  EXPECT_FALSE(ActsFor(q, "", {"admin"})) << "an empty customer id is nobody's";
}

TEST(Types, QueryParsingAndPercentCoding) {
  auto q = ParseQuery("?customerId=alice%40x.com&status=PENDING&empty=&a+b=c+d&dup=1&dup=2");
  EXPECT_EQ(q["customerId"], "alice@x.com");
  EXPECT_EQ(q["status"], "PENDING");
  EXPECT_EQ(q["empty"], "");
  EXPECT_EQ(q["a b"], "c d");
  EXPECT_EQ(q["dup"], "1");
  EXPECT_EQ(PercentDecode("100%"), "100%");
  EXPECT_EQ(PercentDecode("%zz"), "%zz");
  EXPECT_EQ(PercentEncode("a b/ü"), "a%20b%2F%C3%BC");
}

TEST(Types, ValidationListsEveryField) {
  Validation v;
  v.Add("customerId", "must not be empty").Add("items[0].quantity", "must be at least 1");
  try {
    v.ThrowIfInvalid(400);
    FAIL();
  } catch (const HttpError& e) {
    auto body = nlohmann::json::parse(e.problem().ToResponse("/api/orders").body);
    EXPECT_EQ(body["status"], 400);
    EXPECT_EQ(body["instance"], "/api/orders");
    ASSERT_EQ(body["errors"].size(), 2u);
    EXPECT_EQ(body["errors"][1]["field"], "items[0].quantity");
  }
}

TEST(Types, JsonBodyRejectsNonObjectsAndWrongContentType) {
  Request r;
  r.body = "[1,2]";
  EXPECT_THROW(r.JsonBody(), HttpError);
  r.body = "{\"a\":";
  try {
    r.JsonBody();
    FAIL();
  } catch (const HttpError& e) {
    EXPECT_EQ(e.problem().status, 400);
    EXPECT_EQ(e.problem().errors.at(0).first, "body");
  }
  r.body = "{}";
  r.headers.Set("Content-Type", "text/plain");
  try {
    r.JsonBody();
    FAIL();
  } catch (const HttpError& e) {
    EXPECT_EQ(e.problem().status, 415);
  }
}

TEST(Headers, NamesAreCaseInsensitiveAndSetReplacesEveryValue) {
  Headers h;
  h.Add("X-Request-Id", "a");
  h.Add("Set-Cookie", "1");
  h.Add("set-cookie", "2");
  EXPECT_EQ(h.Get("x-request-id"), "a");
  EXPECT_EQ(h.Get("X-REQUEST-ID"), "a");
  EXPECT_EQ(h.All()[0].first, "x-request-id") << "stored lower-case";
  EXPECT_EQ(h.Get("x-request-i"), std::nullopt);
  h.Set("SET-COOKIE", "3");
  EXPECT_EQ(h.All().size(), 2u);
  EXPECT_EQ(h.Get("set-cookie"), "3");
  h.Remove("X-Request-ID");
  EXPECT_EQ(h.Get("x-request-id"), std::nullopt);
  EXPECT_EQ(h.All().size(), 1u);
}

}  // namespace
}  // namespace op::http
