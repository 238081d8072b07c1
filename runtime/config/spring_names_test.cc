#include "runtime/config/spring_names.h"

#include <gtest/gtest.h>

namespace op::config {
namespace {

Schema TestSchema() {
  Schema s;
  s.Add("service.name", Type::kString, "x", "");
  s.Add("eureka.client.service-url", Type::kStringList, "", "");
  s.Add("kafka.bootstrap.servers", Type::kString, "", "");
  s.Add("logging.level", Type::kString, "info", "");
  s.Add("mysql.host", Type::kString, "127.0.0.1", "");
  s.Add("mysql.port", Type::kInt, "3306", "");
  s.Add("mysql.database", Type::kString, "", "");
  s.Add("mysql.user", Type::kString, "", "");
  s.Add("mysql.password", Type::kString, "", "");
  s.Add("eureka.instance.hostname", Type::kString, "", "");
  s.Add("resilience.circuitbreaker.instances.*.sliding-window-size", Type::kInt, "10", "");
  return s;
}

bool Mentions(const std::vector<std::string>& warnings, const std::string& what) {
  for (const auto& w : warnings)
    if (w.find(what) != std::string::npos) return true;
  return false;
}

TEST(SpringNames, SpringsVariablesBecomeTheRuntimesOwn) {
  auto r = TranslateSpringEnv({{"SPRING_APPLICATION_NAME", "order-service"},
                               {"EUREKA_CLIENT_SERVICEURL_DEFAULTZONE", "http://u:p@reg:8761/eureka/"},
                               {"SPRING_KAFKA_BOOTSTRAP_SERVERS", "k1:9092,k2:9092"},
                               {"LOGGING_LEVEL_ROOT", "TRACE"},
                               {"SPRING_DATASOURCE_URL", "jdbc:mysql://db.internal:3307/orders_db?useSSL=true"},
                               {"SPRING_DATASOURCE_USERNAME", "app"},
                               {"SPRING_DATASOURCE_PASSWORD", "s3cret"}},
                              TestSchema());
  ASSERT_EQ(r.warnings.size(), 1u);
  EXPECT_NE(r.warnings[0].find("parameters (after '?') are not read"), std::string::npos) << r.warnings[0];
  EXPECT_EQ(r.warnings[0].find("useSSL"), std::string::npos) << "named, not echoed";
  EXPECT_EQ(r.env["SERVICE_NAME"], "order-service");
  EXPECT_EQ(r.env["EUREKA_CLIENT_SERVICE_URL"], "http://u:p@reg:8761/eureka/");
  EXPECT_EQ(r.env["KAFKA_BOOTSTRAP_SERVERS"], "k1:9092,k2:9092");
  EXPECT_EQ(r.env["LOGGING_LEVEL"], "debug") << "Spring's TRACE is our most verbose level";
  EXPECT_EQ(r.env["MYSQL_HOST"], "db.internal");
  EXPECT_EQ(r.env["MYSQL_PORT"], "3307");
  EXPECT_EQ(r.env["MYSQL_DATABASE"], "orders_db");
  EXPECT_EQ(r.env["MYSQL_USER"], "app");
  EXPECT_EQ(r.env["MYSQL_PASSWORD"], "s3cret");
  // and the result loads as configuration
  auto cfg = Config::Load(TestSchema(), "", r.env);
  EXPECT_EQ(cfg.GetString("service.name"), "order-service");
  EXPECT_EQ(cfg.GetList("eureka.client.service-url").size(), 1u);
}

TEST(SpringNames, TheRuntimesOwnNameWinsAndSaysSo) {
  auto r = TranslateSpringEnv({{"SPRING_APPLICATION_NAME", "spring-name"}, {"SERVICE_NAME", "own-name"}}, TestSchema());
  EXPECT_EQ(r.env["SERVICE_NAME"], "own-name");
  EXPECT_TRUE(Mentions(r.warnings, "SPRING_APPLICATION_NAME is ignored: SERVICE_NAME is set too")) << r.warnings.size();
}

TEST(SpringNames, UnknownSpringEurekaAndManagementVariablesAreNamedNotSilentlyDropped) {
  auto r = TranslateSpringEnv({{"MANAGEMENT_SERVER_PORT", "9000"},
                               {"EUREKA_CLIENT_SERVICEURL_ZONE2", "http://x"},
                               {"SPRING_PROFILES_ACTIVE", "prod"},
                               {"EUREKA_INSTANCE_HOSTNAME", "ok"},  // the runtime's own: no warning
                               {"HOME", "/root"}},                  // not Spring's: none either
                              TestSchema());
  EXPECT_TRUE(Mentions(r.warnings, "MANAGEMENT_SERVER_PORT is not a setting of this program"));
  EXPECT_TRUE(Mentions(r.warnings, "EUREKA_CLIENT_SERVICEURL_ZONE2"));
  EXPECT_TRUE(Mentions(r.warnings, "SPRING_PROFILES_ACTIVE"));
  EXPECT_EQ(r.warnings.size(), 3u);
  for (const auto& w : r.warnings) EXPECT_EQ(w.find("9000"), std::string::npos) << "values are never echoed: " << w;
}

TEST(SpringNames, AProgramWithoutTheSettingWarnsAndAnUnusableValueIsReported) {
  Schema registry;
  registry.Add("service.name", Type::kString, "x", "");
  auto r = TranslateSpringEnv({{"SPRING_KAFKA_BOOTSTRAP_SERVERS", "k:9092"},
                               {"SPRING_DATASOURCE_URL", "jdbc:postgresql://h/db"},
                               {"LOGGING_LEVEL_ROOT", "chatty"}},
                              registry);
  EXPECT_TRUE(Mentions(r.warnings, "SPRING_KAFKA_BOOTSTRAP_SERVERS is ignored: this program has no setting kafka.bootstrap.servers"));
  EXPECT_TRUE(Mentions(r.warnings, "SPRING_DATASOURCE_URL is set but its value cannot be used"));
  EXPECT_TRUE(Mentions(r.warnings, "LOGGING_LEVEL_ROOT is set but its value cannot be used"));
  EXPECT_FALSE(r.env.count("KAFKA_BOOTSTRAP_SERVERS"));
}

TEST(SpringNames, Resilience4jsNamesInYamlAndEnvironment) {
  auto r = TranslateSpringEnv({{"RESILIENCE4J_CIRCUITBREAKER_INSTANCES_PAY_SLIDING_WINDOW_SIZE", "7"}}, TestSchema());
  EXPECT_TRUE(r.warnings.empty());
  EXPECT_EQ(r.env["RESILIENCE_CIRCUITBREAKER_INSTANCES_PAY_SLIDING_WINDOW_SIZE"], "7");
  auto cfg = Config::Load(TestSchema(), "resilience4j:\n  circuitbreaker:\n    instances:\n      inventory:\n        slidingWindowSize: 5\n", {});
  EXPECT_EQ(cfg.GetInt("resilience.circuitbreaker.instances.inventory.sliding-window-size"), 5);
}

}  // namespace
}  // namespace op::config
