// The dev broker's admin API does what it says, seen through the Kafka
// protocol itself (metadata, produce) rather than through the API's answers.
#include <gtest/gtest.h>

#include <fstream>
#include <set>

#include "runtime/http/client.h"
#include "runtime/kafka/admin.h"
#include "runtime/kafka/producer.h"
#include "testing/fixtures/devbroker.h"

namespace {

using namespace std::chrono_literals;
using op::testing::WaitUntil;

class DevBrokerTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    broker_ = new op::testing::DevBroker();
    broker_->Start();
  }
  static void TearDownTestSuite() { delete broker_; }
  std::string Admin(const std::string& path) { return broker_->AdminUrl() + path; }
  op::http::HttpClient http_;
  static op::testing::DevBroker* broker_;
};
op::testing::DevBroker* DevBrokerTest::broker_ = nullptr;

TEST_F(DevBrokerTest, ServesThePlatformTopicsWithSixPartitionsAndThreeReplicas) {
  auto topics = http_.Get(Admin("/topics"));
  ASSERT_EQ(topics.status, 200) << topics.body;
  op::kafka::ClusterAdmin admin(broker_->Bootstrap());
  auto cluster = admin.Describe(5s);
  EXPECT_EQ(cluster.brokers.size(), 3u);
  std::set<std::string> names;
  for (auto& t : cluster.topics) {
    names.insert(t.name);
    EXPECT_EQ(t.partitions.size(), 6u) << t.name;
    for (auto& p : t.partitions) EXPECT_EQ(p.replicas.size(), 3u) << t.name;
  }
  for (auto t : {"order.events", "payment.events", "inventory.events", "order.events.DLT", "payment.events.DLT",
                 "inventory.events.DLT"})
    EXPECT_TRUE(names.count(t)) << t;
}

TEST_F(DevBrokerTest, MovesAPartitionLeader) {
  op::kafka::ClusterAdmin admin(broker_->Bootstrap());
  int before = admin.Describe(5s).topics.front().partitions.at(2).leader;
  int target = before % 3 + 1;
  std::string topic = admin.Describe(5s).topics.front().name;
  auto r = http_.PostJson(Admin("/faults/partitions/" + topic + "/2/leader"), {{"broker", target}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_TRUE(WaitUntil([&] {
    for (auto& t : admin.Describe(5s).topics)
      if (t.name == topic) return t.partitions.at(2).leader == target;
    return false;
  }, 10s));
}

TEST_F(DevBrokerTest, BrokerDownAndUpIsReportedAndProducersRideThroughRequestErrors) {
  auto down = http_.PostJson(Admin("/faults/brokers/2/down"), nlohmann::json::object());
  ASSERT_EQ(down.status, 200) << down.body;
  auto brokers = http_.Get(Admin("/brokers")).Json()["brokers"];
  ASSERT_EQ(brokers.size(), 3u);
  EXPECT_EQ(brokers[1]["state"], "DOWN");
  EXPECT_EQ(brokers[0]["state"], "UP");
  ASSERT_EQ(http_.PostJson(Admin("/faults/brokers/2/up"), nlohmann::json::object()).status, 200);
  EXPECT_EQ(http_.Get(Admin("/brokers")).Json()["brokers"][1]["state"], "UP");

  // Two retriable errors on Produce (api key 0; 6 = NOT_LEADER_OR_FOLLOWER):
  // the idempotent producer retries and the record is delivered once.
  auto errs = http_.PostJson(Admin("/faults/request-errors"), {{"apiKey", 0}, {"errors", {6, 6}}});
  ASSERT_EQ(errs.status, 200) << errs.body;
  op::kafka::ProducerOptions po;
  po.bootstrap_servers = broker_->Bootstrap();
  op::kafka::Producer producer(po);
  auto rep = producer.SendSync({"order.events", "k", "v", {}});
  EXPECT_TRUE(rep.ok) << rep.error;

  auto rtt = http_.PostJson(Admin("/faults/brokers/1/rtt"), {{"ms", 50}});
  ASSERT_EQ(rtt.status, 200);
  EXPECT_EQ(http_.Get(Admin("/brokers")).Json()["brokers"][0]["rttMs"], 50);
  ASSERT_EQ(http_.PostJson(Admin("/faults/brokers/1/rtt"), {{"ms", 0}}).status, 200);
}

// Any Kafka client works against it: kcat lists the cluster, produces and consumes.
TEST_F(DevBrokerTest, KcatProducesAndConsumes) {
  ASSERT_EQ(http_.PostJson(Admin("/topics"), {{"name", "kcat.check"}, {"partitions", 1}}).status, 201);
  std::string dir = op::testing::MakeTempDir("kcat");
  auto run = [&](std::vector<std::string> argv, const std::string& name) {
    op::testing::Process p({argv, {}, dir + "/" + name + ".log"});
    p.Start();
    auto code = p.Wait(30s);
    EXPECT_EQ(code, 0) << name << ": " << p.Output();
    return p.Output();
  };
  auto meta = nlohmann::json::parse(run({"/usr/bin/kcat", "-b", broker_->Bootstrap(), "-L", "-J"}, "list"));
  EXPECT_EQ(meta["brokers"].size(), 3u);
  std::ofstream(dir + "/in.txt") << "k1:hello from kcat\n";
  run({"/usr/bin/kcat", "-b", broker_->Bootstrap(), "-t", "kcat.check", "-P", "-K", ":", "-l", dir + "/in.txt"}, "produce");
  auto out = run({"/usr/bin/kcat", "-b", broker_->Bootstrap(), "-t", "kcat.check", "-C", "-o", "beginning", "-c", "1",
                  "-e", "-f", "%k=%s\\n"},
                 "consume");
  EXPECT_NE(out.find("k1=hello from kcat"), std::string::npos) << out;
}

TEST_F(DevBrokerTest, BadFaultRequestsAreClearClientErrors) {
  auto r = http_.PostJson(Admin("/faults/brokers/9/down"), nlohmann::json::object());
  EXPECT_EQ(r.status, 404);
  EXPECT_NE(r.body.find("1..3"), std::string::npos) << r.body;
  r = http_.PostJson(Admin("/faults/brokers/1/rtt"), {{"ms", -5}});
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("\"ms\""), std::string::npos) << r.body;
  r = http_.PostJson(Admin("/faults/request-errors"), {{"apiKey", "produce"}});
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("apiKey"), std::string::npos);
  EXPECT_NE(r.body.find("errors"), std::string::npos);
}

}  // namespace
