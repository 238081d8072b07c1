#include "runtime/resilience/retry.h"

#include <gtest/gtest.h>

#include <vector>

namespace op::resilience {
namespace {

using namespace std::chrono_literals;

struct RecordingSleeper {
  std::vector<std::chrono::nanoseconds> waits;
  Retry::Sleeper fn() { return [this](std::chrono::nanoseconds d) { waits.push_back(d); }; }
};

RetryConfig NoJitter() {
  RetryConfig c;
  c.max_attempts = 4;
  c.wait_duration = 100ms;
  c.exponential_multiplier = 2;
  c.max_wait_duration = 300ms;
  c.full_jitter = false;
  return c;
}

TEST(Retry, BacksOffExponentiallyUpToTheCap) {
  Retry retry("r", NoJitter());
  RecordingSleeper s;
  int calls = 0;
  int result = retry.Execute([&] { return ++calls; }, [](int) { return true; }, s.fn());
  EXPECT_EQ(result, 4);
  EXPECT_EQ(s.waits, (std::vector<std::chrono::nanoseconds>{100ms, 200ms, 300ms}));
  EXPECT_EQ(retry.GetCounts().failed_with_retry, 1u);
}

TEST(Retry, FullJitterStaysWithinTheBackoff) {
  auto cfg = NoJitter();
  cfg.full_jitter = true;
  cfg.max_wait_duration = 10s;
  Retry retry("r", cfg, /*seed=*/42);
  std::chrono::nanoseconds min = 1h, max{0};
  for (int i = 0; i < 2000; ++i) {
    auto w = retry.NextWait(3);  // backoff 400ms
    EXPECT_GE(w.count(), 0);
    EXPECT_LE(w, 400ms);
    min = std::min(min, w);
    max = std::max(max, w);
  }
  EXPECT_LT(min, 40ms) << "jitter should spread waits over the whole range";
  EXPECT_GT(max, 360ms);
}

TEST(Retry, StopsOnSuccessAndCountsKinds) {
  Retry retry("r", NoJitter());
  RecordingSleeper s;
  int calls = 0;
  auto ok_third = [&] { return ++calls >= 3; };
  EXPECT_TRUE(retry.Execute(ok_third, [](bool ok) { return !ok; }, s.fn()));
  EXPECT_EQ(calls, 3);
  EXPECT_TRUE(retry.Execute([] { return true; }, [](bool ok) { return !ok; }, s.fn()));
  auto c = retry.GetCounts();
  EXPECT_EQ(c.successful_with_retry, 1u);
  EXPECT_EQ(c.successful_without_retry, 1u);
  EXPECT_EQ(c.failed_with_retry, 0u);
}

TEST(Retry, RetriesExceptionsThenRethrowsTheLast) {
  Retry retry("r", NoJitter());
  RecordingSleeper s;
  int calls = 0;
  EXPECT_THROW(retry.Execute([&]() -> int { throw std::runtime_error("attempt " + std::to_string(++calls)); },
                             [](int) { return false; }, s.fn()),
               std::runtime_error);
  EXPECT_EQ(calls, 4);
  EXPECT_EQ(retry.GetCounts().failed_with_retry, 1u);
}

TEST(Retry, NonRetryableResultIsReturnedAtOnce) {
  Retry retry("r", NoJitter());
  RecordingSleeper s;
  int calls = 0;
  EXPECT_EQ(retry.Execute([&] { ++calls; return 404; }, [](int status) { return status >= 500; }, s.fn()), 404);
  EXPECT_EQ(calls, 1);
  EXPECT_TRUE(s.waits.empty());
}

TEST(Retry, BudgetCapsRetriesAtAFractionOfTraffic) {
  auto cfg = NoJitter();
  cfg.max_attempts = 3;
  cfg.budget_ratio = 0.1;
  cfg.budget_min_retries = 5;
  Retry retry("r", cfg);
  RecordingSleeper s;
  int attempts = 0;
  const int calls = 1000;
  for (int i = 0; i < calls; ++i)
    retry.Execute([&] { return ++attempts; }, [](int) { return true; }, s.fn());
  int retries = attempts - calls;
  // at most 5 (initial burst) + 10% of 1000 calls; without the budget: 2000
  EXPECT_LE(retries, 5 + 100);
  EXPECT_GE(retries, 100);
  EXPECT_GT(retry.GetCounts().budget_exhausted, 0u);
}

TEST(Retry, NonBlockingStepsMakeTheSameDecisionsAsExecute) {
  Retry retry("r", NoJitter());  // 4 attempts, 100/200/300 ms
  retry.OnCall();
  EXPECT_EQ(retry.OnFailure(1), std::optional<std::chrono::nanoseconds>(100ms));
  EXPECT_EQ(retry.OnFailure(2), std::optional<std::chrono::nanoseconds>(200ms));
  retry.OnSuccess(3);
  retry.OnCall();
  EXPECT_EQ(retry.OnFailure(3), std::optional<std::chrono::nanoseconds>(300ms));
  EXPECT_EQ(retry.OnFailure(4), std::nullopt);  // the last attempt
  retry.OnCall();
  retry.OnSuccess(1);
  auto c = retry.GetCounts();
  EXPECT_EQ(c.successful_with_retry, 1u);
  EXPECT_EQ(c.failed_with_retry, 1u);
  EXPECT_EQ(c.successful_without_retry, 1u);
  EXPECT_EQ(c.failed_without_retry, 0u);
}

}  // namespace
}  // namespace op::resilience
