#include "runtime/resilience/rate_limiter.h"

#include <gtest/gtest.h>

namespace op::resilience {
namespace {

using namespace std::chrono_literals;

TEST(RateLimiter, BurstThenRefillsContinuously) {
  ManualClock clock;
  RateLimiter rl("rl", {10, 1s, 0ms}, clock);
  for (int i = 0; i < 10; ++i) EXPECT_TRUE(rl.TryAcquire().permitted) << i;
  auto d = rl.TryAcquire();
  EXPECT_FALSE(d.permitted);
  EXPECT_EQ(d.retry_after, 100ms);
  clock.Advance(50ms);
  EXPECT_EQ(rl.TryAcquire().retry_after, 50ms);
  clock.Advance(50ms);
  EXPECT_TRUE(rl.TryAcquire().permitted);
  EXPECT_FALSE(rl.TryAcquire().permitted);
  clock.Advance(1h);
  EXPECT_DOUBLE_EQ(rl.AvailablePermissions(), 10) << "bucket never holds more than one period";
  EXPECT_EQ(rl.PermittedCalls(), 11u);
  EXPECT_EQ(rl.RejectedCalls(), 3u);
}

TEST(RateLimiter, SustainedRateMatchesTheLimit) {
  ManualClock clock;
  RateLimiter rl("rl", {100, 1s, 0ms}, clock);
  int permitted = 0;
  for (int ms = 0; ms < 10'000; ++ms) {  // 10 s, 5 attempts per ms
    for (int i = 0; i < 5; ++i) permitted += rl.TryAcquire().permitted;
    clock.Advance(1ms);
  }
  EXPECT_GE(permitted, 100 + 1000 - 1);  // initial burst + 100/s x 10 s
  EXPECT_LE(permitted, 100 + 1000);
}

TEST(RateLimiter, AcquireWaitsForAReservationWithinTheTimeout) {
  ManualClock clock;
  RateLimiter rl("rl", {2, 1s, 600ms}, clock);
  std::vector<std::chrono::nanoseconds> waits;
  auto sleep = [&](std::chrono::nanoseconds d) { waits.push_back(d); };
  EXPECT_TRUE(rl.Acquire(sleep));
  EXPECT_TRUE(rl.Acquire(sleep));
  EXPECT_TRUE(rl.Acquire(sleep));   // reserves the permit due in 500 ms
  EXPECT_FALSE(rl.Acquire(sleep));  // the next is due in 1000 ms > 600 ms
  EXPECT_EQ(waits, (std::vector<std::chrono::nanoseconds>{500ms}));
}

}  // namespace
}  // namespace op::resilience

#include "runtime/resilience/keyed_rate_limiter.h"

#include <thread>
#include <vector>

namespace op::resilience {
namespace {

TEST(KeyedRateLimiter, LimitsEachClientSeparatelyAndBoundsItsKeys) {
  ManualClock clock;
  KeyedRateLimiter rl("edge", {2, std::chrono::seconds(1), std::chrono::milliseconds(0)}, clock, 64);
  EXPECT_TRUE(rl.TryAcquire("a").permitted);
  EXPECT_TRUE(rl.TryAcquire("a").permitted);
  EXPECT_FALSE(rl.TryAcquire("a").permitted);
  EXPECT_TRUE(rl.TryAcquire("b").permitted) << "another client has its own bucket";
  for (int i = 0; i < 1000; ++i) rl.TryAcquire("flood-" + std::to_string(i));
  EXPECT_LE(rl.Keys(), 64u) << "bounded however many keys come";
  EXPECT_EQ(rl.Rejected(), 1u);
}

TEST(KeyedRateLimiter, AClientThatKeepsCallingKeepsItsBucketThroughAFloodOfKeys) {
  ManualClock clock;
  KeyedRateLimiter rl("edge", {3, std::chrono::hours(1), std::chrono::milliseconds(0)}, clock, 160);
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(rl.TryAcquire("steady").permitted);
  for (int i = 0; i < 5000; ++i) {
    rl.TryAcquire("flood-" + std::to_string(i));
    if (i % 5 == 0) {
      EXPECT_FALSE(rl.TryAcquire("steady").permitted) << "its used-up bucket was not evicted (reset) at " << i;
    }
  }
}

// Many threads, many more keys than the bound: evictions happen while other
// threads use the evicted buckets (ASan and TSan run this).
TEST(KeyedRateLimiter, ConcurrentCallersAndEvictionsAreSafe) {
  KeyedRateLimiter rl("edge", {5, std::chrono::seconds(1), std::chrono::milliseconds(0)}, SystemClock::Instance(), 1000);
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t)
    threads.emplace_back([&rl, t] {
      for (int i = 0; i < 25'000; ++i) rl.TryAcquire(std::to_string((i * 8 + t) % 200'000));
    });
  for (auto& th : threads) th.join();
  EXPECT_EQ(rl.Permitted() + rl.Rejected(), 200'000u);
  EXPECT_LE(rl.Keys(), 1000u);
}

}  // namespace
}  // namespace op::resilience
