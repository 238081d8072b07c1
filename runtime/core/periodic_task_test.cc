#include "runtime/core/periodic_task.h"

#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <stdexcept>

namespace op {
namespace {

using namespace std::chrono_literals;

// Polls `cond` for up to 10 s.
template <typename F>
bool Eventually(F cond) {
  auto deadline = std::chrono::steady_clock::now() + 10s;
  while (std::chrono::steady_clock::now() < deadline) {
    if (cond()) return true;
    std::this_thread::sleep_for(1ms);
  }
  return cond();
}

TEST(PeriodicTaskTest, RunsRepeatedlyUntilStopped) {
  std::atomic<int> runs{0};
  PeriodicTask t("test-tick", [&] {
    ++runs;
    return 1ms;
  });
  t.Start();
  EXPECT_TRUE(Eventually([&] { return runs >= 3; }));
  t.Stop();
  int after = runs;
  std::this_thread::sleep_for(20ms);  // a stopped task must stay stopped: nothing to poll for
  EXPECT_EQ(runs, after);
}

TEST(PeriodicTaskTest, WakeCutsALongWaitShort) {
  std::atomic<int> runs{0};
  PeriodicTask t("test-wake", [&] {
    ++runs;
    return std::chrono::milliseconds(std::chrono::hours(1));
  });
  t.Start();
  ASSERT_TRUE(Eventually([&] { return runs == 1; }));
  t.Wake();
  EXPECT_TRUE(Eventually([&] { return runs == 2; }));
}

TEST(PeriodicTaskTest, StopInterruptsAWaitAtOnce) {
  PeriodicTask t("test-stop", [] { return std::chrono::milliseconds(std::chrono::hours(1)); });
  t.Start();
  auto stopped = std::async(std::launch::async, [&] { t.Stop(); });
  EXPECT_EQ(stopped.wait_for(5s), std::future_status::ready);
}

TEST(PeriodicTaskTest, AFailingStepIsRunAgainAfterTheErrorWait) {
  std::atomic<int> runs{0};
  PeriodicTask t("test-error", [&]() -> std::chrono::milliseconds {
    if (++runs < 3) throw std::runtime_error("boom");
    return std::chrono::milliseconds(std::chrono::hours(1));
  }, 1ms);
  t.Start();
  EXPECT_TRUE(Eventually([&] { return runs == 3; }));
}

TEST(PeriodicTaskTest, SleepForReturnsFalseOnceStopping) {
  std::promise<bool> slept;
  PeriodicTask t("test-sleep", [&] {
    slept.set_value(t.SleepFor(std::chrono::hours(1)));
    return std::chrono::milliseconds(std::chrono::hours(1));
  });
  t.Start();
  auto f = slept.get_future();
  t.Stop();
  ASSERT_EQ(f.wait_for(5s), std::future_status::ready);
  EXPECT_FALSE(f.get());
}

}  // namespace
}  // namespace op
