#include "runtime/resilience/registry.h"

#include <gtest/gtest.h>

namespace op::resilience {
namespace {

using namespace std::chrono_literals;

config::Config Load(const std::string& yaml) {
  static config::Schema schema = [] {
    config::Schema s;
    ResilienceRegistry::DeclareSchema(s);
    return s;
  }();
  return config::Config::Load(schema, yaml, {});
}

TEST(ResilienceRegistry, InstanceThenBaseConfigThenBuiltInDefault) {
  auto cfg = Load(R"(
resilience:
  circuitbreaker:
    configs:
      default: {sliding-window-size: 20, minimum-number-of-calls: 5}
      strict: {failure-rate-threshold: 10}
    instances:
      inventory: {failure-rate-threshold: 25, waitDurationInOpenState: 2s}
      payments: {base-config: strict}
)");
  ManualClock clock;
  ResilienceRegistry reg(&cfg, clock);
  auto inv = reg.GetCircuitBreaker("inventory").Config();
  EXPECT_EQ(inv.failure_rate_threshold, 25);
  EXPECT_EQ(inv.wait_duration_in_open_state, 2s);
  EXPECT_EQ(inv.sliding_window_size, 20);      // from configs.default
  EXPECT_EQ(inv.minimum_number_of_calls, 5);
  EXPECT_EQ(inv.permitted_calls_in_half_open, 10);  // built-in
  auto pay = reg.GetCircuitBreaker("payments").Config();
  EXPECT_EQ(pay.failure_rate_threshold, 10);
  EXPECT_EQ(pay.sliding_window_size, 100) << "strict does not inherit from default";
  auto other = reg.GetCircuitBreaker("unconfigured").Config();
  EXPECT_EQ(other.sliding_window_size, 20);
  EXPECT_EQ(&reg.GetCircuitBreaker("inventory"), &reg.GetCircuitBreaker("inventory"));
  auto per_instance = reg.GetCircuitBreaker("inventory@127.0.0.1:8084").Config();
  EXPECT_EQ(per_instance.failure_rate_threshold, 25) << "APP@instance inherits APP's config";
  EXPECT_EQ(reg.GetCircuitBreaker("a.b@c").Config().sliding_window_size, 20);
}

TEST(ResilienceRegistry, BadValuesFailAtConstructionNamingTheKey) {
  auto bad_type = Load("resilience: {circuitbreaker: {instances: {x: {sliding-window-type: ROLLING}}}}");
  try {
    ResilienceRegistry reg(&bad_type);
    FAIL();
  } catch (const config::ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("resilience.circuitbreaker.instances.x.sliding-window-type"), std::string::npos);
  }
  auto bad_base = Load("resilience: {retry: {instances: {x: {base-config: nope}}}}");
  EXPECT_THROW(ResilienceRegistry reg(&bad_base), config::ConfigError);
  EXPECT_THROW(Load("resilience: {bulkhead: {instances: {x: {max-concurrent-calls: 0}}}}"), config::ConfigError);
  EXPECT_THROW(Load("resilience: {bulkhead: {instances: {x: {max-concurent-calls: 3}}}}"), config::ConfigError);
}

TEST(ResilienceRegistry, ExportsResilience4jMetricNames) {
  auto cfg = Load(R"(
resilience:
  circuitbreaker: {instances: {inventory: {minimum-number-of-calls: 2, sliding-window-size: 2}}}
  bulkhead: {instances: {orders: {max-concurrent-calls: 4}}}
  retry: {instances: {registry: {max-attempts: 2}}}
)");
  ManualClock clock;
  ResilienceRegistry reg(&cfg, clock);
  auto& cb = reg.GetCircuitBreaker("inventory");
  for (int i = 0; i < 2; ++i) {
    ASSERT_TRUE(cb.TryAcquirePermission());
    cb.OnError(5ms);
  }
  EXPECT_FALSE(cb.TryAcquirePermission());
  auto bh = reg.GetBulkhead("orders").Acquire();
  reg.GetRetry("registry").Execute([] { return 1; }, [](int) { return false; });

  metrics::MetricsRegistry m;
  m.AddCollector([&](metrics::Families& out) { reg.Collect(out); });
  std::string text = m.Scrape();
  for (const char* line : {
           "resilience4j_circuitbreaker_state{name=\"inventory\",state=\"open\"} 1",
           "resilience4j_circuitbreaker_state{name=\"inventory\",state=\"closed\"} 0",
           "resilience4j_circuitbreaker_calls_seconds_count{kind=\"failed\",name=\"inventory\"} 2",
           "resilience4j_circuitbreaker_not_permitted_calls_total{kind=\"not_permitted\",name=\"inventory\"} 1",
           "resilience4j_circuitbreaker_failure_rate{name=\"inventory\"} 100",
           "resilience4j_circuitbreaker_slow_call_rate{name=\"inventory\"} 0",
           "resilience4j_bulkhead_available_concurrent_calls{name=\"orders\"} 3",
           "resilience4j_bulkhead_max_allowed_concurrent_calls{name=\"orders\"} 4",
           "resilience4j_retry_calls_total{kind=\"successful_without_retry\",name=\"registry\"} 1",
           "bulkhead_calls_rejected_total{name=\"orders\"} 0",
       }) {
    EXPECT_NE(text.find(line), std::string::npos) << line << "\n" << text;
  }
  // Only the names Resilience4j's own Micrometer binders export carry its prefix.
  for (const char* ours : {"resilience4j_bulkhead_calls_rejected", "resilience4j_ratelimiter_calls_total"})
    EXPECT_EQ(text.find(ours), std::string::npos) << ours;
  auto json = reg.CircuitBreakersJson();
  EXPECT_EQ(json["circuitBreakers"]["inventory"]["state"], "OPEN");
  EXPECT_EQ(json["circuitBreakers"]["inventory"]["failureRate"], "100.0%");
  EXPECT_EQ(json["circuitBreakers"]["inventory"]["notPermittedCalls"], 1);
  EXPECT_EQ(reg.BulkheadsJson()["bulkheads"]["orders"]["availableConcurrentCalls"], 3);
  EXPECT_EQ(reg.RetriesJson()["retries"]["registry"]["successfulCallsWithoutRetry"], 1);
}

TEST(ResilienceRegistry, WorksWithoutConfig) {
  ResilienceRegistry reg(nullptr);
  EXPECT_EQ(reg.GetCircuitBreaker("x").Config().failure_rate_threshold, 50);
  EXPECT_EQ(reg.GetRetry("x").Config().max_attempts, 3);
  EXPECT_EQ(reg.GetBulkhead("x").MaxAllowedConcurrentCalls(), 25);
  EXPECT_EQ(reg.GetTimeLimiter("x").Timeout(), 1s);
  EXPECT_EQ(reg.GetRateLimiter("x").Config().limit_for_period, 50);
}

}  // namespace
}  // namespace op::resilience
