// The original system's own client libraries against the platform, on Apache
// Kafka: a Spring Boot application with spring-cloud-starter-netflix-eureka-
// client registers with the registry (credentials in its service URL), renews,
// discovers order-service and calls it by name; a Spring Kafka listener
// container reads a record that a platform service dead-lettered and finds its
// origin through KafkaHeaders.DLT_*. The Java sources (testing/spring/src) are
// compiled here with javac against the jars ops/setup.sh fetched.
#include <gtest/gtest.h>
#include <signal.h>

#include <filesystem>
#include <sstream>

#include "runtime/core/uuid.h"
#include "runtime/kafka/producer.h"
#include "testing/fixtures/platform.h"

namespace op {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;
using testing::Process;
using testing::WaitUntil;

// The JSON lines a program printed (its log lines are skipped).
std::vector<json> Events(const std::string& output) {
  std::vector<json> out;
  std::istringstream in(output);
  for (std::string line; std::getline(in, line);)
    if (line.rfind("{\"event\"", 0) == 0) out.push_back(json::parse(line, nullptr, false));
  return out;
}
std::optional<json> Find(const std::string& output, const std::string& event) {
  for (auto& e : Events(output))
    if (e.is_object() && e["event"] == event) return e;
  return std::nullopt;
}

class SpringInteropTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    testing::Platform::Options o;
    o.front_door = true;
    o.broker = testing::Broker::Kind::kApache;  // the Java client needs a real broker's API versions
    o.smtp = false;
    platform_ = new testing::Platform(o);
    platform_->Start();
    classes_ = testing::MakeTempDir("spring") + "/classes";
    std::filesystem::create_directories(classes_);
    std::vector<std::string> argv = {"/usr/bin/javac", "-d", classes_, "-cp", Lib()};
    for (const auto& f : std::filesystem::recursive_directory_iterator(Src()))
      if (f.path().extension() == ".java") argv.push_back(f.path().string());
    Process javac({argv, {}, classes_ + "/../javac.log"});
    javac.Start();
    ASSERT_EQ(javac.Wait(120s), 0) << javac.Output();
  }
  static void TearDownTestSuite() {
    delete platform_;
    testing::RemoveTree(std::filesystem::path(classes_).parent_path());
  }
  static std::string Src() { return testing::Runfile("testing/spring/src/orderplatform"); }
  static std::string Lib() {
    return std::filesystem::path(testing::Runfile("testing/spring/pom.xml")).parent_path().string() + "/lib/*";
  }
  static Process Java(const std::string& main, std::vector<std::string> args, const std::string& log) {
    std::vector<std::string> argv = {"/usr/bin/java", "-Xmx256m", "-XX:TieredStopAtLevel=1", "-cp",
                                     classes_ + ":" + Lib(), main};
    argv.insert(argv.end(), args.begin(), args.end());
    return Process({argv, {}, std::filesystem::path(classes_).parent_path().string() + "/" + log});
  }
  static testing::Platform* platform_;
  static std::string classes_;
};
testing::Platform* SpringInteropTest::platform_ = nullptr;
std::string SpringInteropTest::classes_;

TEST_F(SpringInteropTest, SpringCloudEurekaClientRegistersRenewsDiscoversAndCalls) {
  const uint16_t port = testing::FreePort();
  Process app = Java("orderplatform.interop.eureka.EurekaInterop",
                     {"--server.port=" + std::to_string(port), "--spring.application.name=spring-interop",
                      "--spring.main.banner-mode=off",
                      // the way a Spring service is given the registry: credentials in the URL
                      "--eureka.client.service-url.defaultZone=" + platform_->RegistryServiceUrl() + "/",
                      "--eureka.client.registry-fetch-interval-seconds=1",
                      "--eureka.instance.lease-renewal-interval-in-seconds=1",
                      "--eureka.instance.prefer-ip-address=true", "--eureka.instance.ip-address=127.0.0.1",
                      "--interop.target=order-service", "--interop.path=/actuator/health/readiness"},
                     "eureka-app.log");
  app.Start();
  // It called order-service by name, through Spring Cloud LoadBalancer over
  // what it discovered in the registry.
  ASSERT_TRUE(WaitUntil([&] { return Find(app.Output(), "called") || Find(app.Output(), "failed") || !app.Running(); },
                        120s, 200ms))
      << app.Output();
  auto discovered = Find(app.Output(), "discovered");
  ASSERT_TRUE(discovered) << app.Output();
  const std::string order_url = platform_->Url("order-service");
  EXPECT_EQ((*discovered)["port"].get<int>(), std::stoi(order_url.substr(order_url.rfind(':') + 1)));
  auto called = Find(app.Output(), "called");
  ASSERT_TRUE(called) << app.Output();
  EXPECT_NE((*called)["body"].get<std::string>().find("\"UP\""), std::string::npos) << called->dump();

  // The registry holds it, UP, and its lease is renewed.
  testing::ApiClient registry(testing::ApiClient::Basic(testing::Platform::kRegistryUser,
                                                        testing::Platform::kRegistryPassword));
  const std::string apps = platform_->Url("service-registry") + "/eureka/apps/SPRING-INTEROP";
  auto instance = [&]() -> json {
    http::ClientRequest get{"GET", apps, {}, {}, {}};
    get.headers.Set("Accept", "application/json");
    auto r = registry.Send(get);
    if (r.status != 200) return nullptr;
    auto list = r.Json()["application"]["instance"];
    return list.is_array() && !list.empty() ? list[0] : json(nullptr);
  };
  ASSERT_TRUE(WaitUntil([&] { return !instance().is_null(); }, 30s));
  auto first = instance();
  EXPECT_EQ(first["status"], "UP");
  EXPECT_EQ(first["port"]["$"].get<int>(), port);
  const auto renewed = first["leaseInfo"]["lastRenewalTimestamp"].get<int64_t>();
  EXPECT_TRUE(WaitUntil([&] {
    auto i = instance();
    return !i.is_null() && i["leaseInfo"]["lastRenewalTimestamp"].get<int64_t>() > renewed;
  }, 30s)) << "the client's heartbeats renew its lease";

  // A clean stop cancels the lease (Spring's shutdown deregisters).
  app.Signal(SIGTERM);
  app.Wait(60s);
  EXPECT_TRUE(WaitUntil([&] { return instance().is_null(); }, 30s)) << app.Output();
}

TEST_F(SpringInteropTest, SpringKafkaReadsOurDeadLettersThroughItsOwnHeaders) {
  // A record no service can decode: each consumer group of order.events
  // dead-letters it, with its origin in the kafka_dlt-* headers.
  kafka::ProducerOptions po;
  po.bootstrap_servers = platform_->kafka().Bootstrap();
  kafka::Producer producer(po);
  const std::string key = "interop-" + NewUuid().substr(0, 8);
  auto sent = producer.SendSync({"order.events", key, "not an envelope", {{"event_type", "OrderCreated"}}});
  ASSERT_TRUE(sent.ok) << sent.error;

  Process reader = Java("orderplatform.interop.dlt.DltInterop", {platform_->kafka().Bootstrap(), "order.events.DLT"},
                        "dlt-reader.log");
  reader.Start();
  ASSERT_EQ(reader.Wait(150s), 0) << reader.Output();
  auto dlt = Find(reader.Output(), "dead-letter");
  ASSERT_TRUE(dlt) << reader.Output();
  EXPECT_EQ((*dlt)["originalTopic"], "order.events");
  EXPECT_EQ((*dlt)["originalPartition"].get<int>(), sent.partition);
  EXPECT_EQ((*dlt)["originalOffset"].get<int64_t>(), sent.offset);
  const auto now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                          std::chrono::system_clock::now().time_since_epoch()).count();
  EXPECT_GT((*dlt)["originalTimestamp"].get<int64_t>(), now_ms - 600'000);
  EXPECT_LE((*dlt)["originalTimestamp"].get<int64_t>(), now_ms);
  EXPECT_EQ((*dlt)["timestampType"], "CreateTime");
  const std::string group = (*dlt)["group"];
  EXPECT_TRUE(group == "payment-service" || group == "inventory-service" || group == "notification-service" ||
              group == "order-service")
      << group;
  EXPECT_EQ((*dlt)["exceptionClass"], "PoisonRecord");
  EXPECT_GT((*dlt)["exceptionMessageLength"].get<int>(), 0);
  EXPECT_TRUE((*dlt)["stacktracePresent"].get<bool>());
}

}  // namespace
}  // namespace op
