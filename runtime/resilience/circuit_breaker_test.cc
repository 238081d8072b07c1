#include "runtime/resilience/circuit_breaker.h"

#include <gtest/gtest.h>

#include <thread>

namespace op::resilience {
namespace {

using namespace std::chrono_literals;

CircuitBreakerConfig Small() {
  CircuitBreakerConfig c;
  c.failure_rate_threshold = 50;
  c.sliding_window_size = 10;
  c.minimum_number_of_calls = 4;
  c.wait_duration_in_open_state = 5s;
  c.permitted_calls_in_half_open = 2;
  c.slow_call_duration_threshold = 100ms;
  c.slow_call_rate_threshold = 100;
  return c;
}

void Calls(CircuitBreaker& cb, int ok, int failed, std::chrono::nanoseconds d = 1ms) {
  for (int i = 0; i < ok; ++i) {
    ASSERT_TRUE(cb.TryAcquirePermission());
    cb.OnSuccess(d);
  }
  for (int i = 0; i < failed; ++i) {
    ASSERT_TRUE(cb.TryAcquirePermission());
    cb.OnError(d);
  }
}

TEST(CircuitBreaker, StaysClosedUntilMinimumCalls) {
  ManualClock clock;
  CircuitBreaker cb("x", Small(), clock);
  Calls(cb, 0, 3);
  EXPECT_EQ(cb.State(), CircuitState::kClosed);
  EXPECT_EQ(cb.GetSnapshot().failure_rate, -1);
  Calls(cb, 0, 1);  // 4th call: 100% failures over the minimum
  EXPECT_EQ(cb.State(), CircuitState::kOpen);
}

TEST(CircuitBreaker, OpensAtThresholdNotBelow) {
  ManualClock clock;
  CircuitBreaker cb("x", Small(), clock);
  Calls(cb, 3, 2);  // 40%
  EXPECT_EQ(cb.State(), CircuitState::kClosed);
  EXPECT_FLOAT_EQ(cb.GetSnapshot().failure_rate, 40);
  Calls(cb, 0, 1);  // 3 of 6 = 50%
  EXPECT_EQ(cb.State(), CircuitState::kOpen);
}

TEST(CircuitBreaker, CountWindowForgetsOldestCalls) {
  ManualClock clock;
  auto cfg = Small();
  cfg.sliding_window_size = 4;
  CircuitBreaker cb("x", cfg, clock);
  Calls(cb, 0, 1);
  Calls(cb, 3, 0);  // 25% failures
  Calls(cb, 1, 0);  // the failure falls out of the window
  auto s = cb.GetSnapshot();
  EXPECT_EQ(s.buffered_calls, 4);
  EXPECT_EQ(s.failed_calls, 0);
  EXPECT_FLOAT_EQ(s.failure_rate, 0);
}

TEST(CircuitBreaker, OpenRejectsThenHalfOpensAfterWait) {
  ManualClock clock;
  CircuitBreaker cb("x", Small(), clock);
  Calls(cb, 0, 4);
  ASSERT_EQ(cb.State(), CircuitState::kOpen);
  EXPECT_FALSE(cb.TryAcquirePermission());
  EXPECT_EQ(cb.GetSnapshot().not_permitted_calls, 1u);
  EXPECT_EQ(cb.RemainingOpenWait(), 5s);
  clock.Advance(4999ms);
  EXPECT_FALSE(cb.TryAcquirePermission());
  EXPECT_EQ(cb.RemainingOpenWait(), 1ms);
  clock.Advance(1ms);
  EXPECT_TRUE(cb.TryAcquirePermission());
  EXPECT_EQ(cb.State(), CircuitState::kHalfOpen);
  EXPECT_TRUE(cb.TryAcquirePermission());
  EXPECT_FALSE(cb.TryAcquirePermission()) << "only 2 trial calls are permitted";
  cb.OnSuccess(1ms);
  EXPECT_EQ(cb.State(), CircuitState::kHalfOpen);
  cb.OnSuccess(1ms);
  EXPECT_EQ(cb.State(), CircuitState::kClosed);
  EXPECT_EQ(cb.GetSnapshot().buffered_calls, 0) << "a fresh window after closing";
}

TEST(CircuitBreaker, FailedTrialCallsReopen) {
  ManualClock clock;
  CircuitBreaker cb("x", Small(), clock);
  Calls(cb, 0, 4);
  clock.Advance(5s);
  ASSERT_TRUE(cb.TryAcquirePermission());
  ASSERT_TRUE(cb.TryAcquirePermission());
  cb.OnSuccess(1ms);
  cb.OnError(1ms);  // 50% >= 50%
  EXPECT_EQ(cb.State(), CircuitState::kOpen);
  EXPECT_FALSE(cb.TryAcquirePermission());
}

TEST(CircuitBreaker, IgnoredTrialCallGivesItsPermitBack) {
  ManualClock clock;
  CircuitBreaker cb("x", Small(), clock);
  Calls(cb, 0, 4);
  clock.Advance(5s);
  ASSERT_TRUE(cb.TryAcquirePermission());
  ASSERT_TRUE(cb.TryAcquirePermission());
  cb.OnIgnored(1ms);
  EXPECT_TRUE(cb.TryAcquirePermission());
}

TEST(CircuitBreaker, HalfOpenMaxWaitReopens) {
  ManualClock clock;
  auto cfg = Small();
  cfg.max_wait_in_half_open = 2s;
  CircuitBreaker cb("x", cfg, clock);
  Calls(cb, 0, 4);
  clock.Advance(5s);
  ASSERT_TRUE(cb.TryAcquirePermission());
  clock.Advance(2s);
  EXPECT_FALSE(cb.TryAcquirePermission());
  EXPECT_EQ(cb.State(), CircuitState::kOpen);
}

TEST(CircuitBreaker, SlowCallsTripTheBreaker) {
  ManualClock clock;
  auto cfg = Small();
  cfg.slow_call_rate_threshold = 50;
  CircuitBreaker cb("x", cfg, clock);
  Calls(cb, 2, 0, 1ms);
  Calls(cb, 1, 0, 150ms);
  EXPECT_EQ(cb.State(), CircuitState::kClosed);
  Calls(cb, 1, 0, 100ms);  // slow means >= threshold; 2 of 4 slow
  EXPECT_EQ(cb.State(), CircuitState::kOpen);
  EXPECT_FLOAT_EQ(cb.GetSnapshot().slow_call_rate, 50);
  EXPECT_FLOAT_EQ(cb.GetSnapshot().failure_rate, 0);
}

TEST(CircuitBreaker, TimeWindowDropsCallsOlderThanTheWindow) {
  ManualClock clock;
  auto cfg = Small();
  cfg.window_type = CircuitBreakerConfig::WindowType::kTimeBased;
  cfg.sliding_window_size = 10;  // seconds
  CircuitBreaker cb("x", cfg, clock);
  Calls(cb, 0, 3);
  clock.Advance(10s);  // the three failures age out
  Calls(cb, 3, 1);
  EXPECT_EQ(cb.State(), CircuitState::kClosed);
  auto s = cb.GetSnapshot();
  EXPECT_EQ(s.buffered_calls, 4);
  EXPECT_FLOAT_EQ(s.failure_rate, 25);
  clock.Advance(9s);
  Calls(cb, 0, 1);  // 2 of 5 failed within the last 10 s
  EXPECT_EQ(cb.State(), CircuitState::kClosed);
  Calls(cb, 0, 1);  // 3 of 6
  EXPECT_EQ(cb.State(), CircuitState::kOpen);
  EXPECT_EQ(cb.GetSnapshot().buffered_calls, 6);
  clock.Advance(1s);  // the calls at t=10 age out, those at t=19 stay
  EXPECT_EQ(cb.GetSnapshot().buffered_calls, 2);
}

TEST(CircuitBreaker, ForcedStatesAndListeners) {
  ManualClock clock;
  CircuitBreaker cb("inventory", Small(), clock);
  std::vector<std::string> seen;
  cb.AddListener([&](const std::string& n, CircuitState from, CircuitState to) {
    seen.push_back(n + ":" + StateName(from) + "->" + StateName(to));
  });
  cb.TransitionToForcedOpen();
  EXPECT_FALSE(cb.TryAcquirePermission());
  clock.Advance(1h);
  EXPECT_FALSE(cb.TryAcquirePermission()) << "forced open never half-opens";
  cb.TransitionToDisabled();
  Calls(cb, 0, 20);
  EXPECT_EQ(cb.State(), CircuitState::kDisabled);
  cb.TransitionToMetricsOnly();
  Calls(cb, 0, 20);
  EXPECT_EQ(cb.State(), CircuitState::kMetricsOnly);
  EXPECT_FLOAT_EQ(cb.GetSnapshot().failure_rate, 100);
  cb.Reset();
  EXPECT_EQ(cb.State(), CircuitState::kClosed);
  EXPECT_EQ(seen, (std::vector<std::string>{"inventory:closed->forced_open", "inventory:forced_open->disabled",
                                            "inventory:disabled->metrics_only",
                                            "inventory:metrics_only->closed"}));
}

TEST(CircuitBreaker, TimersCountEveryOutcome) {
  ManualClock clock;
  CircuitBreaker cb("x", Small(), clock);
  Calls(cb, 3, 1, 2ms);
  ASSERT_TRUE(cb.TryAcquirePermission());
  cb.OnIgnored(1ms);
  EXPECT_EQ(cb.SuccessfulCalls().Read().count, 3u);
  EXPECT_EQ(cb.FailedCalls().Read().count, 1u);
  EXPECT_EQ(cb.IgnoredCalls().Read().count, 1u);
  EXPECT_NEAR(cb.SuccessfulCalls().Read().sum_seconds, 0.006, 1e-9);
  EXPECT_GT(cb.SuccessfulCalls().Read().Quantile(0.5), 0.001);
  EXPECT_LE(cb.SuccessfulCalls().Read().Quantile(0.5), 0.0025);
}

TEST(CircuitBreaker, ConcurrentCallersKeepCountsConsistent) {
  CircuitBreakerConfig cfg = Small();
  cfg.failure_rate_threshold = 100;
  cfg.sliding_window_size = 1000;
  CircuitBreaker cb("x", cfg);
  auto worker = [&] {
    for (int i = 0; i < 5000; ++i) {
      if (cb.TryAcquirePermission()) (i % 4 == 0) ? cb.OnError(1us) : cb.OnSuccess(1us);
    }
  };
  std::thread a(worker), b(worker);
  a.join();
  b.join();
  auto s = cb.GetSnapshot();
  EXPECT_EQ(s.buffered_calls, 1000);
  EXPECT_EQ(cb.SuccessfulCalls().Read().count + cb.FailedCalls().Read().count, 10000u);
  EXPECT_EQ(cb.FailedCalls().Read().count, 2500u);
}

}  // namespace
}  // namespace op::resilience
