// A real Eureka client, unchanged (npm eureka-js-client 4.5.0), against the
// registry binary: it registers, renews, discovers another application and
// deregisters on shutdown.
#include <gtest/gtest.h>
#include <signal.h>

#include <fstream>

#include "runtime/http/client.h"
#include "testing/fixtures/api_client.h"
#include "testing/fixtures/process.h"

namespace op {
namespace {

using namespace std::chrono_literals;
using testing::Process;
using testing::WaitUntil;

TEST(EurekaJsClient, RegistersRenewsDiscoversAndDeregisters) {
  std::string dir = testing::MakeTempDir("ejs");
  uint16_t port = testing::FreePort();
  std::ofstream(dir + "/r.yaml") << "server: {port: " << port << ", host: 127.0.0.1, access-log: false}\n"
                                 << "registry.security.password: eureka-secret\n";
  Process registry({{testing::Runfile("registry/service-registry"), "--config", dir + "/r.yaml"}, {}, dir + "/r.log"});
  registry.Start();
  std::string base = "http://127.0.0.1:" + std::to_string(port);
  ASSERT_TRUE(testing::WaitForHttp(base + "/actuator/health/readiness", 200, 30s, &registry));

  testing::ApiClient http(testing::ApiClient::Basic("eureka", "eureka-secret"));
  http::ClientRequest reg{"POST", base + "/eureka/apps/ORDER-SERVICE", {},
                          R"({"instance":{"instanceId":"o1","hostName":"127.0.0.1","app":"ORDER-SERVICE","status":"UP",
                             "port":{"$":8081,"@enabled":"true"},"vipAddress":"order-service",
                             "dataCenterInfo":{"@class":"com.netflix.appinfo.InstanceInfo$MyDataCenterInfo","name":"MyOwn"}}})",
                          {}};
  reg.headers.Set("Content-Type", "application/json");
  ASSERT_EQ(http.Send(reg).status, 204);

  // the npm client, credentials in its service URL
  const std::string service_url = "http://eureka:eureka-secret@127.0.0.1:" + std::to_string(port) + "/eureka/apps/";
  Process client({{"/usr/bin/node", testing::Runfile("testing/eureka_client/client.js"), service_url, "9999"},
                  {},
                  dir + "/client.log"});
  client.Start();
  auto lines = [&] { return client.Output(); };
  ASSERT_TRUE(WaitUntil([&] { return lines().find("\"event\":\"registered\"") != std::string::npos || !client.Running(); }, 30s))
      << lines();
  // discovers ORDER-SERVICE through its registry fetches
  ASSERT_TRUE(WaitUntil([&] { return lines().find("\"orderService\":[\"127.0.0.1:8081\"]") != std::string::npos; }, 30s)) << lines();
  // renews: heartbeats succeed and the registry sees the lease renewed
  http::ClientRequest get{"GET", base + "/eureka/apps/JSAPP/js-client-1", {}, {}, {}};
  get.headers.Set("Accept", "application/json");
  auto first = http.Send(get).Json()["instance"]["leaseInfo"]["lastRenewalTimestamp"].get<int64_t>();
  ASSERT_TRUE(WaitUntil([&] { return lines().find("\"event\":\"heartbeat\"") != std::string::npos; }, 30s)) << lines();
  ASSERT_TRUE(WaitUntil([&] {
    return http.Send(get).Json()["instance"]["leaseInfo"]["lastRenewalTimestamp"].get<int64_t>() > first;
  }, 30s));
  auto inst = http.Send(get).Json()["instance"];
  EXPECT_EQ(inst["app"], "JSAPP");
  EXPECT_EQ(inst["port"]["$"], 9999);
  EXPECT_EQ(inst["metadata"]["language"], "javascript");

  client.Signal(SIGTERM);
  EXPECT_EQ(client.Wait(30s), 0) << lines();
  EXPECT_NE(lines().find("\"event\":\"deregistered\""), std::string::npos);
  EXPECT_EQ(http.Send(get).status, 404) << "the client cancelled its lease";
  testing::RemoveTree(dir);
}

}  // namespace
}  // namespace op
