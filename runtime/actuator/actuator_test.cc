#include "runtime/actuator/actuator.h"

#include <gtest/gtest.h>

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

}  // namespace
}  // namespace op::actuator
