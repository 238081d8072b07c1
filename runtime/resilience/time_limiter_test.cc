#include "runtime/resilience/time_limiter.h"

#include <gtest/gtest.h>

#include <atomic>

namespace op::resilience {
namespace {

using namespace std::chrono_literals;

TEST(TimeLimiter, ReturnsTheResultInTime) {
  TimeLimiter tl("t", {1s, true});
  EXPECT_EQ(tl.Execute([] { return 42; }), 42);
  EXPECT_EQ(tl.Successes(), 1u);
}

TEST(TimeLimiter, PropagatesTheWorksException) {
  TimeLimiter tl("t", {1s, true});
  EXPECT_THROW(tl.Execute([]() -> int { throw std::logic_error("boom"); }), std::logic_error);
  EXPECT_EQ(tl.Failures(), 1u);
}

TEST(TimeLimiter, TimesOutAndCancelsCooperativeWork) {
  TimeLimiter tl("slow-call", {20ms, true});
  auto stopped = std::make_shared<std::atomic<bool>>(false);
  try {
    tl.Execute([stopped](std::stop_token st) {
      while (!st.stop_requested()) std::this_thread::sleep_for(1ms);
      *stopped = true;
    });
    FAIL() << "expected a timeout";
  } catch (const TimeoutError& e) {
    EXPECT_NE(std::string(e.what()).find("'slow-call'"), std::string::npos);
  }
  EXPECT_EQ(tl.Timeouts(), 1u);
  // the work sees the stop request and ends (polled, bounded)
  for (int i = 0; i < 5000 && !*stopped; ++i) std::this_thread::sleep_for(1ms);
  EXPECT_TRUE(*stopped);
}

}  // namespace
}  // namespace op::resilience
