// The saga while Apache Kafka's brokers fail (a 3-node KRaft cluster,
// replication factor 3, min.insync.replicas 2): a crashed partition leader,
// a rolling restart of every broker, and two instances of payment-service
// and inventory-service sharing the partitions when one of them is killed.
// After each, every accepted order is decided, stock and money are conserved
// and each notification was sent once (testing/fixtures/saga_run.h).
#include <gtest/gtest.h>

#include <algorithm>
#include <iostream>
#include <map>
#include <sstream>

#include "testing/fixtures/platform.h"
#include "testing/fixtures/saga_run.h"

namespace op {
namespace {

using namespace std::chrono_literals;
using testing::WaitUntil;

class BrokerFaultTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    testing::Platform::Options o;
    o.broker = testing::Broker::Kind::kApache;
    o.saga_timeout = 60s;
    o.smtp = false;  // notifications go to the log channel
    platform_ = new testing::Platform(o);
    platform_->Start();
  }
  static void TearDownTestSuite() { delete platform_; }
  static testing::KafkaCluster& Cluster() { return *platform_->kafka().apache(); }
  void TearDown() override {  // the next test starts with every broker up and in sync
    for (int i = 0; i < Cluster().NodeCount(); ++i) Cluster().StartNode(i);
    EXPECT_TRUE(Cluster().WaitForIsr(3, 180s));
  }
  // kafka_consumer_coordinator_assigned_partitions of one instance; -1 when unreadable.
  static int Assigned(const std::string& instance) {
    testing::ApiClient http(platform_->Token("admin"));
    auto r = http.Get(platform_->Url(instance) + "/actuator/prometheus");
    if (r.status != 200) return -1;
    std::istringstream in(r.body);
    for (std::string line; std::getline(in, line);)
      if (line.rfind("kafka_consumer_coordinator_assigned_partitions{", 0) == 0) return std::stoi(line.substr(line.rfind(' ') + 1));
    return -1;
  }
  static testing::Platform* platform_;
};
testing::Platform* BrokerFaultTest::platform_ = nullptr;

TEST_F(BrokerFaultTest, KillingTheLeaderOfMostOrderEventsPartitionsMidStreamLosesNothing) {
  auto world = testing::MakeWorld(*platform_, "LEADER", 400, 100, 10, 30'000);
  std::map<int, int> led;  // node -> partitions of order.events it leads
  for (int p = 0; p < 6; ++p) ++led[Cluster().LeaderOf("order.events", p)];
  auto victim = std::max_element(led.begin(), led.end(), [](auto& a, auto& b) { return a.second < b.second; })->first;
  ASSERT_GE(victim, 0);
  testing::OrderStream stream(*platform_, world, {.pacing = 50ms, .limit = 300});
  ASSERT_TRUE(stream.WaitForMore(50, 60s)) << stream.Refusals();
  Cluster().StopNode(victim, SIGKILL);
  auto led_by_victim = [&] {
    int n = 0;
    for (int p = 0; p < 6; ++p) n += Cluster().LeaderOf("order.events", p) == victim;
    return n;
  };
  ASSERT_TRUE(stream.WaitForMore(100, 90s)) << "orders go on with one broker down" << stream.Refusals();
  EXPECT_TRUE(WaitUntil([&] { return led_by_victim() == 0; }, 60s)) << "its partitions have new leaders";
  Cluster().StartNode(victim);
  ASSERT_TRUE(Cluster().WaitForIsr(3, 180s)) << "the restarted broker caught up";
  ASSERT_TRUE(WaitUntil([&] { return stream.Done(); }, 120s));
  EXPECT_EQ(stream.Accepted(), 300u) << stream.Refusals();
  testing::ExpectInvariants(*platform_, world, stream.Ids());
}

TEST_F(BrokerFaultTest, ARollingRestartOfEveryBrokerMidStreamLosesNothing) {
  auto world = testing::MakeWorld(*platform_, "ROLLING", 1000, 100, 10, 100'000);
  testing::OrderStream stream(*platform_, world, {.pacing = 50ms});
  for (int i = 0; i < Cluster().NodeCount(); ++i) {
    ASSERT_TRUE(stream.WaitForMore(20, 90s)) << "before restarting node " << i + 1 << stream.Refusals();
    Cluster().StopNode(i, SIGTERM);  // a controlled shutdown moves its leaders first
    Cluster().StartNode(i);
    ASSERT_TRUE(Cluster().WaitForIsr(3, 180s)) << "node " << i + 1 << " caught up";
  }
  ASSERT_TRUE(stream.WaitForMore(20, 90s)) << stream.Refusals();
  stream.Stop();
  EXPECT_EQ(stream.Accepted(), size_t(stream.Sent())) << stream.Refusals();
  testing::ExpectInvariants(*platform_, world, stream.Ids());
}

TEST_F(BrokerFaultTest, TwoInstancesSplitThePartitionsAndTheSurvivorTakesOverFromAKilledOne) {
  std::map<std::string, int> all;  // service -> partitions its group consumes
  for (std::string s : {"payment-service", "inventory-service"}) {
    ASSERT_TRUE(WaitUntil([&] { return (all[s] = Assigned(s)) > 0; }, 30s)) << s;
  }
  std::map<std::string, std::string> second;
  for (const auto& [s, n] : all) second[s] = platform_->AddInstance(s);
  for (const auto& [s, n] : all) {
    int a = 0, b = 0;
    EXPECT_TRUE(WaitUntil([&] {
      a = Assigned(s), b = Assigned(second[s]);
      return a > 0 && b > 0 && a + b == n;
    }, 60s)) << s << ": " << a << " + " << b << " of " << n << " partitions";
  }
  auto world = testing::MakeWorld(*platform_, "PAIR", 1000, 100, 10, 100'000);
  testing::OrderStream stream(*platform_, world, {.pacing = 50ms});
  ASSERT_TRUE(stream.WaitForMore(40, 60s)) << stream.Refusals();
  // One of each pair dies (the second: the checks below read through the first).
  for (const auto& [s, instance] : second) platform_->Kill(instance);
  const auto killed_at = std::chrono::steady_clock::now();
  for (const auto& [s, n] : all)
    EXPECT_TRUE(WaitUntil([&] { return Assigned(s) == n; }, 40s)) << s << " took every partition back";
  const auto takeover = std::chrono::steady_clock::now() - killed_at;
  // the session timeout (10 s) runs out, then one rebalance
  EXPECT_LT(takeover, 25s) << std::chrono::duration_cast<std::chrono::milliseconds>(takeover).count() << " ms";
  std::cout << "takeover after SIGKILL: " << std::chrono::duration_cast<std::chrono::milliseconds>(takeover).count() << " ms\n";
  ASSERT_TRUE(stream.WaitForMore(40, 60s)) << stream.Refusals();
  stream.Stop();
  testing::ExpectInvariants(*platform_, world, stream.Ids());
}

}  // namespace
}  // namespace op
