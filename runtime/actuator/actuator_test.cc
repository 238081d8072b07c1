#include "runtime/actuator/actuator.h"

#include <gtest/gtest.h>

#include "runtime/actuator/metrics_endpoint.h"
#include "runtime/logging/log.h"

namespace op::actuator {
namespace {

http::Response Get(http::Router& r, const std::string& path) {
  http::Request req;
  req.method = "GET";
  req.path = path;
  return r.Handle(req);
}

TEST(Actuator, HealthComponentsLivenessAndReadiness) {
  HealthRegistry health(std::chrono::milliseconds(0));
  bool db_up = true;
  health.Add("db", [&] { return db_up ? Health::Up({{"database", "MariaDB"}}) : Health::Down({{"error", "refused"}}); });
  health.Add("registry", [] { return Health::Down({{"error", "unreachable"}}); }, /*readiness=*/false);
  metrics::MetricsRegistry metrics;
  resilience::ResilienceRegistry resilience(nullptr);
  http::Router router;
  Mount(router, health, metrics, resilience, {"order-service", "host:8081", "1.0.0", std::chrono::system_clock::now()});

  EXPECT_EQ(Get(router, "/actuator/health/readiness").status, 503) << "not ready before start";
  health.SetReady(true);
  EXPECT_EQ(Get(router, "/actuator/health/readiness").status, 200) << "registry does not gate readiness";
  auto overall = Get(router, "/actuator/health");
  EXPECT_EQ(overall.status, 503);
  auto body = nlohmann::json::parse(overall.body);
  EXPECT_EQ(body["status"], "DOWN");
  EXPECT_EQ(body["components"]["db"]["status"], "UP");
  EXPECT_EQ(body["components"]["db"]["details"]["database"], "MariaDB");
  EXPECT_EQ(body["components"]["registry"]["details"]["error"], "unreachable");

  db_up = false;
  auto ready = Get(router, "/actuator/health/readiness");
  EXPECT_EQ(ready.status, 503);
  EXPECT_EQ(nlohmann::json::parse(ready.body)["components"]["db"]["status"], "DOWN");
  EXPECT_EQ(Get(router, "/actuator/health/liveness").status, 200);
  health.SetReady(false);
  EXPECT_EQ(nlohmann::json::parse(Get(router, "/actuator/health/readiness").body)["status"], "OUT_OF_SERVICE");
}

TEST(Actuator, ChecksAreCachedAndExceptionsAreDown) {
  HealthRegistry health(std::chrono::hours(1));
  int calls = 0;
  health.Add("flaky", [&]() -> Health {
    ++calls;
    throw std::runtime_error("boom");
  });
  EXPECT_FALSE(health.Overall().up);
  EXPECT_FALSE(health.Overall().up);
  EXPECT_EQ(calls, 1);
}

TEST(Actuator, InfoPrometheusAndResilienceViews) {
  HealthRegistry health;
  metrics::MetricsRegistry metrics;
  resilience::ResilienceRegistry resilience(nullptr);
  resilience.GetCircuitBreaker("inventory");
  resilience.GetBulkhead("orders");
  resilience.GetRetry("registry");
  metrics.AddCollector([&](metrics::Families& out) { resilience.Collect(out); });
  http::Router router;
  Mount(router, health, metrics, resilience, {"payment-service", "h:8082", "1.2.3", std::chrono::system_clock::now()});
  auto info = nlohmann::json::parse(Get(router, "/actuator/info").body);
  EXPECT_EQ(info["app"]["name"], "payment-service");
  EXPECT_EQ(info["instance"]["id"], "h:8082");
  auto prom = Get(router, "/actuator/prometheus");
  EXPECT_EQ(prom.headers.Get("content-type"), "text/plain; version=0.0.4; charset=utf-8");
  EXPECT_NE(prom.body.find("resilience4j_circuitbreaker_state{name=\"inventory\",state=\"closed\"} 1"), std::string::npos);
  EXPECT_EQ(Get(router, "/metrics").body, prom.body);
  EXPECT_EQ(nlohmann::json::parse(Get(router, "/actuator/circuitbreakers").body)["circuitBreakers"]["inventory"]["state"], "CLOSED");
  EXPECT_EQ(nlohmann::json::parse(Get(router, "/actuator/bulkheads").body)["bulkheads"]["orders"]["maxAllowedConcurrentCalls"], 25);
  EXPECT_TRUE(nlohmann::json::parse(Get(router, "/actuator/retries").body)["retries"].contains("registry"));
  EXPECT_TRUE(nlohmann::json::parse(Get(router, "/actuator").body)["_links"].contains("prometheus"));
}

TEST(Actuator, LoggersReadOpenlyAndChangeOnlyForAdmin) {
  http::Router router;
  MountLoggers(router);
  router.SetAuthenticator([](std::string_view token) {
    auto p = std::make_shared<auth::Principal>();
    p->subject = std::string(token);
    if (token == "admin-token") p->roles = {"admin"};
    return http::Verdict{p, "", false};
  });
  log::SetLevel(log::Level::kInfo);
  auto all = nlohmann::json::parse(Get(router, "/actuator/loggers").body);
  EXPECT_EQ(all["loggers"]["ROOT"]["effectiveLevel"], "INFO");
  EXPECT_EQ(all["levels"].size(), 4u);
  EXPECT_THROW(Get(router, "/actuator/loggers/com.example"), http::HttpError) << "ROOT only";

  auto post = [&](const std::string& token, const std::string& body) {
    http::Request req;
    req.method = "POST";
    req.path = "/actuator/loggers/ROOT";
    req.body = body;
    if (!token.empty()) req.headers.Set("Authorization", "Bearer " + token);
    try {
      return router.Handle(req).status;
    } catch (const http::HttpError& e) {  // the server turns it into a problem
      return e.problem().status;
    }
  };
  EXPECT_EQ(post("", R"({"configuredLevel":"DEBUG"})"), 401);
  EXPECT_EQ(post("viewer-token", R"({"configuredLevel":"DEBUG"})"), 403);
  EXPECT_EQ(log::CurrentLevel(), log::Level::kInfo) << "nothing changed without admin";
  EXPECT_EQ(post("admin-token", R"({"configuredLevel":"LOUD"})"), 400);
  EXPECT_EQ(post("admin-token", R"({"configuredLevel":"DEBUG"})"), 204);
  EXPECT_EQ(log::CurrentLevel(), log::Level::kDebug);
  EXPECT_EQ(nlohmann::json::parse(Get(router, "/actuator/loggers/ROOT").body)["configuredLevel"], "DEBUG");
  log::SetLevel(log::Level::kInfo);
}

TEST(Actuator, CircuitBreakerStateChangesNeedAdmin) {
  HealthRegistry health(std::chrono::milliseconds(0));
  metrics::MetricsRegistry metrics;
  resilience::ResilienceRegistry resilience(nullptr);
  auto& cb = resilience.GetCircuitBreaker("inventory");
  http::Router router;
  Mount(router, health, metrics, resilience, {"order-service", "host:8081", "1.0.0", std::chrono::system_clock::now()});
  router.SetAuthenticator([](std::string_view token) {
    auto p = std::make_shared<auth::Principal>();
    p->subject = std::string(token);
    if (token == "admin-token") p->roles = {"admin"};
    return http::Verdict{p, "", false};
  });
  auto post = [&](const std::string& name, const std::string& token, const std::string& body) -> std::pair<int, std::string> {
    http::Request req;
    req.method = "POST";
    req.path = "/actuator/circuitbreakers/" + name;
    req.body = body;
    if (!token.empty()) req.headers.Set("Authorization", "Bearer " + token);
    try {
      auto r = router.Handle(req);
      return {r.status, r.body};
    } catch (const http::HttpError& e) {
      return {e.problem().status, e.what()};
    }
  };
  EXPECT_EQ(post("inventory", "", R"({"updateState":"FORCE_OPEN"})").first, 401);
  EXPECT_EQ(post("inventory", "viewer-token", R"({"updateState":"FORCE_OPEN"})").first, 403);
  EXPECT_EQ(cb.GetSnapshot().state, resilience::CircuitState::kClosed);
  auto forced = post("inventory", "admin-token", R"({"updateState":"FORCE_OPEN"})");
  ASSERT_EQ(forced.first, 200) << forced.second;
  EXPECT_EQ(nlohmann::json::parse(forced.second)["currentState"], "FORCED_OPEN");
  EXPECT_EQ(cb.GetSnapshot().state, resilience::CircuitState::kForcedOpen);
  EXPECT_FALSE(cb.TryAcquirePermission()) << "forced open refuses calls";
  EXPECT_EQ(post("inventory", "admin-token", R"({"updateState":"DISABLE"})").first, 200);
  EXPECT_EQ(cb.GetSnapshot().state, resilience::CircuitState::kDisabled);
  EXPECT_EQ(post("inventory", "admin-token", R"({"updateState":"CLOSE"})").first, 200);
  EXPECT_EQ(cb.GetSnapshot().state, resilience::CircuitState::kClosed);
  EXPECT_EQ(post("inventory", "admin-token", R"({"updateState":"SMASH"})").first, 400);
  EXPECT_EQ(post("payments", "admin-token", R"({"updateState":"CLOSE"})").first, 404) << "no breaker is made by asking";
  EXPECT_EQ(resilience.FindCircuitBreaker("payments"), nullptr);
}

TEST(Actuator, MetricsInSpringsShapeOverThePrometheusSeries) {
  metrics::MetricsRegistry reg;
  reg.SetCommonLabels({{"application", "order-service"}});
  auto& timer = prometheus::BuildHistogram().Name("http_server_requests_seconds").Help("HTTP server requests").Register(reg.Registry());
  timer.Add({{"uri", "/api/orders"}, {"status", "202"}}, metrics::MetricsRegistry::LatencyBuckets()).Observe(0.02);
  timer.Add({{"uri", "/api/orders"}, {"status", "202"}}, metrics::MetricsRegistry::LatencyBuckets()).Observe(0.04);
  timer.Add({{"uri", "/api/products"}, {"status", "200"}}, metrics::MetricsRegistry::LatencyBuckets()).Observe(0.5);
  reg.AddCollector([](metrics::Families& out) {
    auto max = metrics::Family("http_server_requests_seconds_max", "max", prometheus::MetricType::Gauge);
    metrics::AddSample(max, {{"uri", "/api/orders"}, {"status", "202"}}, 0.04);
    metrics::AddSample(max, {{"uri", "/api/products"}, {"status", "200"}}, 0.5);
    out.push_back(std::move(max));
  });
  prometheus::BuildCounter().Name("orders_total").Help("orders").Register(reg.Registry()).Add({{"status", "CONFIRMED"}}).Increment(3);
  prometheus::BuildGauge().Name("outbox_backlog").Help("rows").Register(reg.Registry()).Add({}).Set(7);
  http::Router router;
  MountMetrics(router, reg);

  auto names = nlohmann::json::parse(Get(router, "/actuator/metrics").body)["names"];
  EXPECT_EQ(names, nlohmann::json({"http.server.requests", "orders", "outbox.backlog"})) << "the _max gauge is part of the timer";

  auto all = nlohmann::json::parse(Get(router, "/actuator/metrics/http.server.requests").body);
  EXPECT_EQ(all["baseUnit"], "seconds");
  EXPECT_EQ(all["measurements"][0], nlohmann::json({{"statistic", "COUNT"}, {"value", 3.0}}));
  EXPECT_NEAR(all["measurements"][1]["value"].get<double>(), 0.56, 1e-9);
  EXPECT_EQ(all["measurements"][1]["statistic"], "TOTAL_TIME");
  EXPECT_EQ(all["measurements"][2], nlohmann::json({{"statistic", "MAX"}, {"value", 0.5}}));
  bool uri_listed = false;
  for (auto& t : all["availableTags"])
    if (t["tag"] == "uri") uri_listed = t["values"] == nlohmann::json({"/api/orders", "/api/products"});
  EXPECT_TRUE(uri_listed) << all.dump();

  http::Request one;
  one.method = "GET";
  one.path = "/actuator/metrics/http.server.requests";
  one.query["tag"] = "uri:/api/orders";
  auto orders = nlohmann::json::parse(router.Handle(one).body);
  EXPECT_EQ(orders["measurements"][0]["value"], 2.0);
  EXPECT_EQ(orders["measurements"][2]["value"], 0.04);

  EXPECT_EQ(nlohmann::json::parse(Get(router, "/actuator/metrics/orders").body)["measurements"][0],
            nlohmann::json({{"statistic", "COUNT"}, {"value", 3.0}}));
  EXPECT_EQ(nlohmann::json::parse(Get(router, "/actuator/metrics/outbox.backlog").body)["measurements"][0]["value"], 7.0);
  EXPECT_THROW(Get(router, "/actuator/metrics/nope"), http::HttpError);
  one.query["tag"] = "uri:/nowhere";
  EXPECT_THROW(router.Handle(one), http::HttpError) << "nothing with that tag: 404";
  one.query["tag"] = "no-colon";
  EXPECT_THROW(router.Handle(one), http::HttpError);
}

}  // namespace
}  // namespace op::actuator
