#include "runtime/core/backoff.h"

#include <gtest/gtest.h>

#include <set>

namespace op {
namespace {

using std::chrono::milliseconds;

TEST(BackoffTest, GrowsByTheMultiplierUpToTheCapAndResets) {
  Backoff b({milliseconds(100), milliseconds(1000), 2.0, false});
  EXPECT_EQ(b.Next(), milliseconds(100));
  EXPECT_EQ(b.Next(), milliseconds(200));
  EXPECT_EQ(b.Next(), milliseconds(400));
  EXPECT_EQ(b.Next(), milliseconds(800));
  EXPECT_EQ(b.Next(), milliseconds(1000));
  EXPECT_EQ(b.Next(), milliseconds(1000));
  EXPECT_EQ(b.attempts(), 6);
  b.Reset();
  EXPECT_EQ(b.Next(), milliseconds(100));
}

TEST(BackoffTest, NeverOverflowsHoweverManyAttempts) {
  BackoffPolicy p{milliseconds(200), milliseconds(10'000), 2.0, false};
  EXPECT_EQ(p.Cap(1), milliseconds(200));
  EXPECT_EQ(p.Cap(64), milliseconds(10'000));
  EXPECT_EQ(p.Cap(1'000'000), milliseconds(10'000));
  EXPECT_EQ(p.Cap(0), milliseconds(200)) << "attempts start at 1";
}

TEST(BackoffTest, FullJitterStaysWithinTheCapAndVaries) {
  Backoff b({milliseconds(1000), milliseconds(1000), 2.0, true}, /*seed=*/42);
  std::set<int64_t> seen;
  for (int i = 0; i < 200; ++i) {
    auto d = b.Next();
    ASSERT_GE(d.count(), 0);
    ASSERT_LE(d.count(), 1000);
    seen.insert(d.count());
  }
  EXPECT_GT(seen.size(), 50u) << "uniform in [0, cap], not a constant";
}

}  // namespace
}  // namespace op
