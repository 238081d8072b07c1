#include "gateway/routes.h"
#include "gateway/access_rules.h"

#include <gtest/gtest.h>

#include "runtime/config/config.h"

namespace op::gateway {
namespace {

TEST(Routes, DefaultsCoverThePlatformApis) {
  auto routes = DefaultRoutes();
  EXPECT_EQ(FindRoute(routes, "POST", "/api/orders")->app, "order-service");
  EXPECT_EQ(FindRoute(routes, "GET", "/api/orders/123")->app, "order-service");
  EXPECT_EQ(FindRoute(routes, "POST", "/api/orders/123/cancel")->app, "order-service");
  EXPECT_EQ(FindRoute(routes, "PUT", "/api/products/SKU-1")->app, "inventory-service");
  EXPECT_EQ(FindRoute(routes, "POST", "/api/accounts/alice/deposit")->app, "payment-service");
  EXPECT_EQ(FindRoute(routes, "GET", "/api/notifications")->app, "notification-service");
  EXPECT_EQ(FindRoute(routes, "POST", "/api/users")->app, "identity-service");
  EXPECT_EQ(FindRoute(routes, "GET", "/api/users/me")->app, "identity-service");
  EXPECT_EQ(FindRoute(routes, "POST", "/oauth2/token")->app, "identity-service");
  EXPECT_EQ(FindRoute(routes, "GET", "/.well-known/jwks.json")->app, "identity-service");
  EXPECT_EQ(FindRoute(routes, "GET", "/api/ordersx"), nullptr);
  EXPECT_EQ(FindRoute(routes, "GET", "/other"), nullptr);
}

TEST(Routes, MethodPredicatesRewriteAndStripPrefix) {
  auto routes = ParseRoutes(YAML::Load(R"(
- id: ro
  path: /legacy/**
  uri: http://127.0.0.1:9000/
  methods: [get]
  strip-prefix: 1
- id: v2
  path: /v2/orders/**
  uri: lb://order-service
  rewrite: {from: /v2, to: /api}
  timeout: 250ms
  retry: false
  rate-limit: {limit-for-period: 5, limit-refresh-period: 2s}
  bulkhead: {max-concurrent-calls: 3}
- {path: /health, uri: lb://x}
)"));
  auto* ro = FindRoute(routes, "GET", "/legacy/a/b");
  ASSERT_TRUE(ro);
  EXPECT_EQ(ro->base_url, "http://127.0.0.1:9000");
  EXPECT_EQ(ro->Rewrite("/legacy/a/b"), "/a/b");
  EXPECT_EQ(ro->Rewrite("/legacy"), "/");
  EXPECT_TRUE(FindRoute(routes, "HEAD", "/legacy/a")) << "HEAD goes where GET goes";
  EXPECT_EQ(FindRoute(routes, "POST", "/legacy/a"), nullptr);
  auto* v2 = FindRoute(routes, "POST", "/v2/orders/1/cancel");
  ASSERT_TRUE(v2);
  EXPECT_EQ(v2->Rewrite("/v2/orders/1/cancel"), "/api/orders/1/cancel");
  EXPECT_EQ(v2->timeout, std::chrono::milliseconds(250));
  EXPECT_FALSE(v2->retry);
  EXPECT_EQ(v2->rate_limit, 5);
  EXPECT_EQ(v2->rate_period, std::chrono::seconds(2));
  EXPECT_EQ(v2->max_concurrent, 3);
  EXPECT_TRUE(FindRoute(routes, "GET", "/health"));
  EXPECT_EQ(FindRoute(routes, "GET", "/health/x"), nullptr) << "exact path";
  EXPECT_EQ(routes[2].id, "route2");
}

TEST(Routes, BadRoutesFailNamingTheField) {
  auto expect = [](const char* yaml, const std::string& needle) {
    try {
      ParseRoutes(YAML::Load(yaml));
      ADD_FAILURE() << yaml;
    } catch (const config::ConfigError& e) {
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
    }
  };
  expect("- {uri: lb://x}", "gateway.routes[0].path");
  expect("- {path: /a/**, uri: ftp://x}", "gateway.routes[0].uri");
  expect("- {path: /a/*/b, uri: lb://x}", "gateway.routes[0].path");
  expect("- {path: /a, uri: lb://x, methods: [FETCH]}", "gateway.routes[0].methods");
  expect("- {path: /a, uri: lb://x}\n- {path: /b, uri: lb://x, timeout: soon}", "gateway.routes[1].timeout");
  expect("- {path: /a, uri: lb://x, bulkhead: {max-concurrent-calls: 0}}", "bulkhead.max-concurrent-calls");
  expect("- {path: /a, uri: lb://x, colour: red}", "gateway.routes[0].colour");
  expect("{path: /a}", "must be a list");
}

}  // namespace
}  // namespace op::gateway

namespace op::gateway {
namespace {

TEST(AccessRules, DefaultsAreDesignSection10) {
  auto rules = DefaultAccessRules();
  auto open = [&](const char* m, const char* p) { return AccessFor(rules, m, p).open; };
  auto roles = [&](const char* m, const char* p) { return AccessFor(rules, m, p).roles; };
  EXPECT_TRUE(open("GET", "/api/products"));
  EXPECT_TRUE(open("GET", "/api/products/SKU-1"));
  EXPECT_TRUE(open("HEAD", "/api/products/SKU-1"));
  EXPECT_EQ(roles("PUT", "/api/products/SKU-1"), std::set<std::string>{"admin"});
  EXPECT_EQ(roles("PUT", "/api/accounts/alice"), std::set<std::string>{"admin"});
  EXPECT_EQ(roles("POST", "/api/accounts/alice/deposit"), std::set<std::string>{"admin"});
  EXPECT_FALSE(open("GET", "/api/accounts/alice")) << "a token; the service decides whose";
  EXPECT_TRUE(roles("GET", "/api/accounts/alice").empty());
  EXPECT_TRUE(open("POST", "/api/users"));
  EXPECT_FALSE(open("GET", "/api/users/me"));
  EXPECT_TRUE(open("POST", "/oauth2/token"));
  EXPECT_TRUE(open("GET", "/.well-known/jwks.json"));
  EXPECT_FALSE(open("POST", "/api/orders"));
  EXPECT_FALSE(open("GET", "/anything/else")) << "closed by default";
}

TEST(AccessRules, BadRulesAreRefusedNamingTheSetting) {
  auto error = [](const char* yaml) {
    try {
      ParseAccessRules(YAML::Load(yaml));
    } catch (const config::ConfigError& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  EXPECT_NE(error("[{path: /a/**, access: everyone}]").find("gateway.access[0].access"), std::string::npos);
  EXPECT_NE(error("[{path: a, access: public}]").find("gateway.access[0].path"), std::string::npos);
  EXPECT_NE(error("[{path: /a/x*, access: public}]").find("gateway.access[0].path"), std::string::npos);
  EXPECT_NE(error("[{path: /a, roles: []}]").find("gateway.access[0].roles"), std::string::npos);
  EXPECT_NE(error("[{path: /a, access: public, roles: [admin]}]").find("gateway.access[0].roles"), std::string::npos);
  EXPECT_NE(error("[{path: /a, acess: public}]").find("gateway.access[0].acess"), std::string::npos);
  EXPECT_EQ(error("[{path: /a/*/b, methods: [get], roles: [admin, service]}]"), "");
}

}  // namespace
}  // namespace op::gateway
