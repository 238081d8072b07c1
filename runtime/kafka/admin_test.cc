// ClusterAdmin against the dev broker (3 mock brokers, real Kafka protocol).
#include "runtime/kafka/admin.h"

#include <gtest/gtest.h>

#include <atomic>

#include "runtime/kafka/consumer.h"
#include "runtime/kafka/producer.h"
#include "testing/fixtures/devbroker.h"

namespace op::kafka {
namespace {

using namespace std::chrono_literals;

int64_t TotalLag(const std::vector<GroupPartitionLag>& v) {
  int64_t n = 0;
  for (auto& l : v) n += l.lag;
  return n;
}

TEST(ClusterAdminTest, DescribesBrokersTopicsAndAGroupsLag) {
  testing::DevBroker::Options o;
  o.extra_topics = {"t.lag"};
  testing::DevBroker broker(o);
  broker.Start();
  ClusterAdmin admin(broker.Bootstrap());

  auto cluster = admin.Describe(5s);
  ASSERT_EQ(cluster.brokers.size(), 3u);
  EXPECT_EQ(cluster.brokers[0].id, 1);
  const TopicInfo* lag_topic = nullptr;
  for (auto& t : cluster.topics)
    if (t.name == "t.lag") lag_topic = &t;
  ASSERT_NE(lag_topic, nullptr);
  ASSERT_EQ(lag_topic->partitions.size(), 6u);
  for (auto& p : lag_topic->partitions) {
    EXPECT_GE(p.leader, 1);
    EXPECT_LE(p.leader, 3);
    EXPECT_EQ(p.replicas.size(), 3u);
    EXPECT_TRUE(p.error.empty()) << p.error;
  }
  bool has_order_events = false;
  for (auto& t : cluster.topics) has_order_events |= t.name == "order.events";
  EXPECT_TRUE(has_order_events);

  // Nothing committed yet: the group is behind by everything produced.
  ProducerOptions po;
  po.bootstrap_servers = broker.Bootstrap();
  Producer producer(po);
  for (int i = 0; i < 7; ++i) ASSERT_TRUE(producer.SendSync({"t.lag", "k" + std::to_string(i), "v", {}}).ok);
  auto lag = admin.GroupLag("g-lag", cluster, {"t.lag"}, admin.HighWatermarks(cluster, {"t.lag"}, 5s), 5s);
  ASSERT_EQ(lag.size(), 6u);
  EXPECT_EQ(TotalLag(lag), 7);
  for (auto& l : lag) EXPECT_EQ(l.committed, -1);

  // The group consumes and commits: lag drops to zero, committed = high watermark.
  std::atomic<int> seen{0};
  ConsumerOptions co;
  co.bootstrap_servers = broker.Bootstrap();
  co.group_id = "g-lag";
  co.topics = {"t.lag"};
  co.session_timeout = 6s;
  Consumer consumer(co, [&](const InRecord&) { ++seen; }, &producer);
  consumer.Start();
  ASSERT_TRUE(testing::WaitUntil([&] { return seen.load() == 7; }, 30s));
  ASSERT_TRUE(testing::WaitUntil([&] { return TotalLag(admin.GroupLag("g-lag", cluster, {"t.lag"}, admin.HighWatermarks(cluster, {"t.lag"}, 5s), 5s)) == 0; }, 30s));
  int64_t committed = 0;
  for (auto& l : admin.GroupLag("g-lag", cluster, {"t.lag"}, admin.HighWatermarks(cluster, {"t.lag"}, 5s), 5s)) committed += std::max<int64_t>(0, l.committed);
  EXPECT_EQ(committed, 7);
  consumer.Stop();
}

TEST(ClusterAdminTest, NoBrokerIsAClearError) {
  ClusterAdmin admin("127.0.0.1:1");
  try {
    admin.Describe(500ms);
    FAIL() << "expected an error";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("127.0.0.1:1"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace op::kafka
