#include "runtime/config/config.h"

#include <gtest/gtest.h>

namespace op::config {
namespace {

Schema TestSchema() {
  Schema s;
  s.Add("service.name", Type::kString, std::nullopt, "service name");
  s.Add("http.port", Type::kInt, "8080", "listen port");
  s.Add(KeySpec{"http.threads", Type::kInt, "2", "worker threads", 1, 64});
  s.Add("http.access-log", Type::kBool, "true", "log every request");
  s.Add("http.timeout", Type::kDuration, "5s", "request timeout");
  s.Add("kafka.bootstrap.servers", Type::kString, "", "bootstrap servers");
  s.Add("registry.urls", Type::kStringList, "", "registry base urls");
  s.Add("resilience.circuitbreaker.instances.*.failure-rate-threshold", Type::kDouble, "50",
        "percent");
  s.Add("resilience.circuitbreaker.instances.*.wait-duration-in-open-state", Type::kDuration,
        "60s", "open wait");
  s.Add("gateway.routes", Type::kYaml, std::nullopt, "routes");
  return s;
}

TEST(Config, DefaultsFileAndEnvironmentInThatOrder) {
  auto schema = TestSchema();
  auto cfg = Config::Load(schema, R"(
service:
  name: order-service
http:
  port: 9000
  timeout: 250ms
)",
                          {{"HTTP_PORT", "9100"}, {"UNRELATED", "x"}});
  EXPECT_EQ(cfg.GetString("service.name"), "order-service");
  EXPECT_EQ(cfg.GetInt("http.port"), 9100);  // env beats file
  EXPECT_EQ(cfg.GetInt("http.threads"), 2);   // default
  EXPECT_TRUE(cfg.GetBool("http.access-log"));
  EXPECT_EQ(cfg.GetDuration("http.timeout"), std::chrono::milliseconds(250));
}

TEST(Config, UnknownKeyFailsNamingItWithASuggestion) {
  auto schema = TestSchema();
  try {
    Config::Load(schema, "service: {name: a}\nhttp:\n  prot: 1\n", {});
    FAIL() << "expected ConfigError";
  } catch (const ConfigError& e) {
    std::string msg = e.what();
    EXPECT_NE(msg.find("unknown key 'http.prot'"), std::string::npos) << msg;
    EXPECT_NE(msg.find("did you mean 'http.port'"), std::string::npos) << msg;
  }
  auto suggestion = [&](const std::string& yaml) {
    try {
      Config::Load(schema, "service: {name: a}\n" + yaml, {});
    } catch (const ConfigError& e) {
      std::string msg = e.what();
      auto at = msg.find("did you mean '");
      return at == std::string::npos ? std::string() : msg.substr(at + 14, msg.find('\'', at + 14) - at - 14);
    }
    return std::string("no error");
  };
  EXPECT_EQ(suggestion("http: {timeuot: 1s}"), "http.timeout") << "two edits";
  EXPECT_EQ(suggestion("http: {acces-logg: true}"), "http.access-log") << "two edits, different lengths";
  EXPECT_EQ(suggestion("http: {tmo: 1s}"), "") << "too far from anything";
  EXPECT_EQ(suggestion("http: {" + std::string(5000, 'x') + ": 1}"), "") << "long, and cheap to refuse";
}

TEST(Config, InvalidValuesFailNamingKeyAndValue) {
  auto schema = TestSchema();
  auto expect_error = [&](const std::string& yaml, const Config::Env& env, const std::string& needle) {
    try {
      Config::Load(schema, yaml, env);
      ADD_FAILURE() << "expected ConfigError for " << yaml;
    } catch (const ConfigError& e) {
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
    }
  };
  expect_error("service: {name: a}\nhttp: {port: eighty}", {}, "key 'http.port' must be an integer: got 'eighty'");
  expect_error("service: {name: a}\nhttp: {threads: 0}", {}, "key 'http.threads' must be at least 1");
  expect_error("service: {name: a}\nhttp: {access-log: maybe}", {}, "'http.access-log' must be a boolean");
  expect_error("service: {name: a}\nhttp: {timeout: soon}", {}, "'http.timeout' must be a duration");
  expect_error("service: {name: a}", {{"HTTP_PORT", "x"}}, "environment HTTP_PORT: key 'http.port'");
  expect_error("", {}, "required key 'service.name' is missing");
  expect_error("service: {name: a}\nhttp: [1, 2]", {}, "unknown key 'http'");
  expect_error("service: {name: [a]}", {}, "'service.name' must be a string, not a list");
  expect_error("service: {name: a\nhttp: 1", {}, "invalid YAML at line");
  expect_error("- a\n- b", {}, "top level must be a mapping");
  // found by config_fuzzer: a complex key ("? ...") threw yaml-cpp's own exception through Load
  expect_error("http:\n  ? port: 1\n  : 2\n", {}, "is not a plain name");
  expect_error("service: {name: {a: 1}}", {}, "unknown key 'service.name.a'");
  std::string deep;
  for (int i = 0; i < 40; ++i) deep += std::string(i * 2, ' ') + "k" + std::to_string(i) + ":\n";
  expect_error(deep, {}, "nested deeper than 16 levels");
}

TEST(Config, NamedInstancesWithCamelCaseAndEnvOverride) {
  auto schema = TestSchema();
  auto cfg = Config::Load(schema, R"(
service: {name: a}
resilience:
  circuitbreaker:
    instances:
      inventory:
        failureRateThreshold: 25
      registry:
        wait-duration-in-open-state: 10s
)",
                          {{"RESILIENCE_CIRCUITBREAKER_INSTANCES_REGISTRY_FAILURE_RATE_THRESHOLD", "75"}});
  EXPECT_EQ(cfg.InstanceNames("resilience.circuitbreaker.instances"),
            (std::vector<std::string>{"inventory", "registry"}));
  EXPECT_DOUBLE_EQ(cfg.GetDouble("resilience.circuitbreaker.instances.inventory.failure-rate-threshold"), 25);
  EXPECT_DOUBLE_EQ(cfg.GetDouble("resilience.circuitbreaker.instances.registry.failure-rate-threshold"), 75);
  // unset instance key falls back to the declared default
  EXPECT_EQ(cfg.GetDuration("resilience.circuitbreaker.instances.inventory.wait-duration-in-open-state"),
            std::chrono::seconds(60));
}

TEST(Config, ListsAndYamlSubtrees) {
  auto schema = TestSchema();
  auto cfg = Config::Load(schema, R"(
service: {name: a}
registry:
  urls: [http://a:8761/eureka, http://b:8761/eureka]
gateway:
  routes:
    - id: orders
      path: /api/orders/**
)",
                          {});
  EXPECT_EQ(cfg.GetList("registry.urls"),
            (std::vector<std::string>{"http://a:8761/eureka", "http://b:8761/eureka"}));
  auto routes = cfg.GetYaml("gateway.routes");
  ASSERT_TRUE(routes.IsSequence());
  EXPECT_EQ(routes[0]["path"].as<std::string>(), "/api/orders/**");

  auto from_env = Config::Load(schema, "service: {name: a}", {{"REGISTRY_URLS", "http://x, http://y"}});
  EXPECT_EQ(from_env.GetList("registry.urls"), (std::vector<std::string>{"http://x", "http://y"}));

  // A structure from one variable (containers configure by environment), over the file's.
  auto yaml_env = Config::Load(schema, "service: {name: a}\ngateway: {routes: [{id: file}]}",
                               {{"GATEWAY_ROUTES", R"([{"id": "env", "path": "/x/**"}])"}});
  EXPECT_EQ(yaml_env.GetYaml("gateway.routes")[0]["id"].as<std::string>(), "env");
  try {
    Config::Load(schema, "service: {name: a}", {{"GATEWAY_ROUTES", "[{id: "}});
    ADD_FAILURE() << "bad YAML in a variable is refused";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("GATEWAY_ROUTES"), std::string::npos) << e.what();
  }
}

TEST(Config, Durations) {
  EXPECT_EQ(ParseDuration("1500"), std::chrono::milliseconds(1500));
  EXPECT_EQ(ParseDuration("1.5s"), std::chrono::milliseconds(1500));
  EXPECT_EQ(ParseDuration("2m"), std::chrono::minutes(2));
  EXPECT_EQ(ParseDuration("24h"), std::chrono::hours(24));
  EXPECT_FALSE(ParseDuration("-1"));
  EXPECT_FALSE(ParseDuration("5 s"));
  EXPECT_FALSE(ParseDuration("s"));
  EXPECT_EQ(EnvNameOf("kafka.bootstrap-servers"), "KAFKA_BOOTSTRAP_SERVERS");
  EXPECT_EQ(ToKebab("waitDurationInOpenState"), "wait-duration-in-open-state");
}

}  // namespace
}  // namespace op::config
