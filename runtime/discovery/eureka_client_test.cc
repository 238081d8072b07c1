// The Eureka client against the real registry binary over loopback.
#include "runtime/discovery/eureka_client.h"

#include <gtest/gtest.h>

#include <fstream>

#include "testing/fixtures/api_client.h"
#include "testing/fixtures/process.h"

namespace op::discovery {
namespace {

using namespace std::chrono_literals;
using testing::Process;
using testing::WaitUntil;

class EurekaClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = testing::MakeTempDir("eur");
    port_ = testing::FreePort();
    StartRegistry();
  }
  void TearDown() override {
    registry_.reset();
    testing::RemoveTree(dir_);
  }
  void StartRegistry() {
    std::ofstream(dir_ + "/r.yaml") << "server: {port: " << port_ << ", host: 127.0.0.1, access-log: false}\n"
                                    << "registry.security.password: eureka-secret\n";
    registry_ = std::make_unique<Process>(Process::Options{
        {testing::Runfile("registry/service-registry"), "--config", dir_ + "/r.yaml"}, {}, dir_ + "/r.log"});
    registry_->Start();
    ASSERT_TRUE(testing::WaitForHttp(Url() + "/actuator/health/readiness", 200, 30s, registry_.get()));
  }
  std::string Url() { return "http://127.0.0.1:" + std::to_string(port_); }
  EurekaClientOptions Options(const std::string& app, const std::string& id, uint16_t port) {
    EurekaClientOptions o;
    // the first is dead; the second has the registry's credentials in it, as configured
    auto live = SplitCredentials("http://eureka:eureka-secret@127.0.0.1:" + std::to_string(port_) + "/eureka");
    o.service_urls = {"http://127.0.0.1:" + std::to_string(testing::FreePort()) + "/eureka", live.url};
    o.authorizations = {"", live.authorization};
    o.app = app;
    o.instance_id = id;
    o.port = port;
    o.renewal_interval = 1s;
    o.lease_duration = 5s;
    o.fetch_interval = 200ms;
    o.metadata = {{"version", "9.9"}};
    return o;
  }
  int RegistryCount(const std::string& app) {
    http::ClientRequest r{"GET", Url() + "/eureka/apps/" + app, {}, {}, {}};
    r.headers.Set("Accept", "application/json");
    auto resp = registry_api_.Send(r);
    return resp.status == 200 ? int(resp.Json()["application"]["instance"].size()) : 0;
  }

  std::string dir_;
  uint16_t port_ = 0;
  std::unique_ptr<Process> registry_;
  http::HttpClient http_;  // the clients'
  testing::ApiClient registry_api_{testing::ApiClient::Basic("eureka", "eureka-secret")};  // the test's own look
};

TEST_F(EurekaClientTest, RegistersDiscoversThroughDeltasAndCancelsOnStop) {
  EurekaClient a(Options("inventory-service", "h:inventory:1", 8084), http_);
  a.Start();
  EXPECT_TRUE(a.Registered()) << "registered through the second URL: the first is dead";
  EXPECT_EQ(RegistryCount("INVENTORY-SERVICE"), 1);
  EurekaClient watcher(Options("order-service", "h:order:1", 8081), http_);
  watcher.Start();
  ASSERT_TRUE(WaitUntil([&] { return watcher.Instances("inventory-service").size() == 1; }, 10s));
  auto i = watcher.Instances("inventory-service")[0];
  EXPECT_EQ(i.base_url, "http://127.0.0.1:8084");
  EXPECT_EQ(i.status, "UP");
  EXPECT_EQ(i.metadata["version"], "9.9");
  {
    EurekaClient b(Options("inventory-service", "h:inventory:2", 8094), http_);
    b.Start();
    ASSERT_TRUE(WaitUntil([&] { return watcher.Instances("INVENTORY-SERVICE").size() == 2; }, 10s)) << "a delta brings it";
    b.SetStatus("OUT_OF_SERVICE");
    ASSERT_TRUE(WaitUntil([&] {
      for (auto& x : watcher.Instances("inventory-service"))
        if (x.id == "h:inventory:2") return x.status == "OUT_OF_SERVICE";
      return false;
    }, 10s));
  }  // b stops: cancels its lease
  ASSERT_TRUE(WaitUntil([&] { return watcher.Instances("inventory-service").size() == 1; }, 10s));
  EXPECT_EQ(RegistryCount("INVENTORY-SERVICE"), 1);
}

TEST_F(EurekaClientTest, KeepsItsViewThroughAnOutageAndReRegistersWithARestartedRegistry) {
  EurekaClient a(Options("payment-service", "h:payment:1", 8082), http_);
  a.Start();
  ASSERT_TRUE(WaitUntil([&] { return a.Instances("payment-service").size() == 1; }, 10s));
  registry_->Stop(10s);  // outage: the client serves its last view
  EXPECT_TRUE(WaitUntil([&] { return !a.LastError().empty(); }, 10s));
  EXPECT_EQ(a.Instances("payment-service").size(), 1u);
  StartRegistry();  // a new registry knows nobody: the next renew gets 404 and re-registers
  ASSERT_TRUE(WaitUntil([&] { return RegistryCount("PAYMENT-SERVICE") == 1; }, 15s));
}

}  // namespace
}  // namespace op::discovery
