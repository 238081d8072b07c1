#include "runtime/http/router.h"

#include <gtest/gtest.h>

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
  r.Get("/api/orders/{id}", [](Request& q) { return Response::Text(200, "get " + q.PathParam("id")); });
  r.Get("/api/orders/search", [](Request&) { return Response::Text(200, "search"); });
  r.Post("/api/orders/{id}/cancel", [](Request& q) { return Response::Text(202, "cancel " + q.PathParam("id")); });
  r.Get("/api/orders", [](Request&) { return Response::Text(200, "list"); });
  r.Get("/static/**", [](Request& q) { return Response::Text(200, "file " + q.PathParam("**")); });
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
