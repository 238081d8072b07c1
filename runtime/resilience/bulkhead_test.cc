#include "runtime/resilience/bulkhead.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

namespace op::resilience {
namespace {

using namespace std::chrono_literals;

TEST(Bulkhead, RejectsBeyondMaxConcurrentCalls) {
  Bulkhead b("b", {2, 0ms});
  auto p1 = b.Acquire(), p2 = b.Acquire();
  EXPECT_TRUE(p1 && p2);
  EXPECT_EQ(b.AvailableConcurrentCalls(), 0);
  EXPECT_FALSE(b.Acquire());
  EXPECT_EQ(b.RejectedCalls(), 1u);
  { auto moved = std::move(p1); }
  EXPECT_EQ(b.AvailableConcurrentCalls(), 1);
  EXPECT_TRUE(b.Acquire());
  EXPECT_EQ(b.MaxAllowedConcurrentCalls(), 2);
}

TEST(Bulkhead, WaiterGetsTheSlotThatFreesUp) {
  Bulkhead b("b", {1, 10s});
  ASSERT_TRUE(b.TryAcquirePermission());
  std::atomic<bool> got{false};
  std::thread waiter([&] { got = b.TryAcquirePermission(); });
  while (b.WaitingCalls() == 0) std::this_thread::yield();  // poll: the waiter is blocked
  EXPECT_FALSE(got);
  b.OnComplete();  // frees the slot the waiter is blocked on
  waiter.join();
  EXPECT_TRUE(got);
  EXPECT_EQ(b.AvailableConcurrentCalls(), 0);
}

TEST(Bulkhead, WaiterGivesUpAfterMaxWait) {
  Bulkhead b("b", {1, 20ms});
  ASSERT_TRUE(b.TryAcquirePermission());
  auto start = std::chrono::steady_clock::now();
  EXPECT_FALSE(b.TryAcquirePermission());
  EXPECT_GE(std::chrono::steady_clock::now() - start, 20ms);
}

TEST(Bulkhead, NeverExceedsTheLimitUnderContention) {
  Bulkhead b("b", {3, 0ms});
  std::atomic<int> inside{0}, max_inside{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&] {
      for (int i = 0; i < 2000; ++i) {
        if (auto p = b.Acquire()) {
          int now = ++inside;
          int seen = max_inside.load();
          while (now > seen && !max_inside.compare_exchange_weak(seen, now)) {
          }
          --inside;
        }
      }
    });
  for (auto& t : threads) t.join();
  EXPECT_LE(max_inside.load(), 3);
  EXPECT_EQ(b.AvailableConcurrentCalls(), 3);
  EXPECT_EQ(b.PermittedCalls() + b.RejectedCalls(), 8000u);
}

}  // namespace
}  // namespace op::resilience
