// The supervisor's restart policy on a fake unit and a clock the test drives.
#include "ops/stack/supervisor.h"

#include <gtest/gtest.h>

namespace op::stack {
namespace {

using namespace std::chrono_literals;

class FakeUnit : public Unit {
 public:
  const std::string& name() const override { return name_; }
  void Launch() override {
    ++launches;
    running = true;
  }
  bool Running() override { return running; }
  void Stop() override { running = false; }
  bool running = true;
  int launches = 0;

 private:
  const std::string name_ = "order-service";
};

TEST(Supervisor, BacksOffOnRepeatedCrashesAndStartsAfreshAfterAHealthyMinute) {
  Supervisor s;
  auto owned = std::make_unique<FakeUnit>();
  FakeUnit& unit = *owned;
  s.Add(std::move(owned));
  const auto t0 = Supervisor::Clock::time_point(1000s);
  s.Tick(t0);
  EXPECT_EQ(s.NextBackoff("order-service"), 1s);

  unit.running = false;  // crash: restarted after 1 s
  s.Tick(t0 + 1s);
  EXPECT_EQ(unit.launches, 0) << "not before its backoff";
  s.Tick(t0 + 2s);
  EXPECT_EQ(unit.launches, 1);
  unit.running = false;  // again at once: 2 s this time
  s.Tick(t0 + 3s);
  s.Tick(t0 + 4s);
  EXPECT_EQ(unit.launches, 1);
  s.Tick(t0 + 5s);
  EXPECT_EQ(unit.launches, 2);
  EXPECT_EQ(s.NextBackoff("order-service"), 4s) << "doubling";

  s.Tick(t0 + 6s);    // up, and seen up
  s.Tick(t0 + 65s);   // 59 s: not yet
  EXPECT_EQ(s.NextBackoff("order-service"), 4s);
  s.Tick(t0 + 66s);   // a healthy minute
  EXPECT_EQ(s.NextBackoff("order-service"), 1s) << "the backoff starts afresh";

  auto programs = s.Programs();
  ASSERT_EQ(programs.size(), 1u);
  EXPECT_EQ(programs[0].name, "order-service");
  EXPECT_EQ(programs[0].state, "UP");
  EXPECT_EQ(programs[0].restarts, 2) << "the count shown to people is not reset";

  EXPECT_TRUE(s.Hold("order-service"));
  EXPECT_EQ(s.Programs()[0].state, "DOWN");
  s.Tick(t0 + 200s);
  EXPECT_EQ(unit.launches, 2) << "held: stays down";
}

}  // namespace
}  // namespace op::stack
