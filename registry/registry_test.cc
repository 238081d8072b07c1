// Registry binaries over loopback: Eureka API, replication between two peers,
// re-sync after a restart, lease eviction, and a real Prometheus discovering
// scrape targets through eureka_sd_configs.
#include <gtest/gtest.h>

#include <fstream>

#include "runtime/core/time_format.h"
#include "runtime/http/client.h"
#include "testing/fixtures/api_client.h"
#include "testing/fixtures/process.h"

namespace op {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;
using testing::Process;
using testing::WaitUntil;

class RegistryTest : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = testing::MakeTempDir("reg"); }
  void TearDown() override {
    nodes_.clear();
    testing::RemoveTree(dir_);
  }
  // Starts a registry node on `port` with the given extra YAML.
  Process& Start(uint16_t port, const std::string& extra) {
    std::string cfg = dir_ + "/r" + std::to_string(port) + ".yaml";
    std::ofstream(cfg) << "server: {port: " << port << ", host: 127.0.0.1, access-log: false}\n"
                       << "registry.security.password: eureka-secret\n"
                       << "registry.peer-security.password: peer-secret-123\n" << extra;
    auto p = std::make_unique<Process>(Process::Options{
        {testing::Runfile("registry/service-registry"), "--config", cfg}, {}, dir_ + "/r" + std::to_string(port) + ".log"});
    p->Start();
    EXPECT_TRUE(testing::WaitForHttp(Url(port) + "/actuator/health/readiness", 200, 30s, p.get())) << p->Output();
    nodes_[port] = std::move(p);
    return *nodes_[port];
  }
  static std::string Url(uint16_t port) { return "http://127.0.0.1:" + std::to_string(port); }
  static json Instance(const std::string& app, const std::string& id, uint16_t port, int lease = 90) {
    return {{"instance",
             {{"instanceId", id}, {"hostName", "127.0.0.1"}, {"app", app}, {"ipAddr", "127.0.0.1"}, {"status", "UP"},
              {"port", {{"$", port}, {"@enabled", "true"}}}, {"vipAddress", app},
              {"dataCenterInfo", {{"@class", "com.netflix.appinfo.InstanceInfo$MyDataCenterInfo"}, {"name", "MyOwn"}}},
              {"leaseInfo", {{"renewalIntervalInSecs", 1}, {"durationInSecs", lease}}},
              {"metadata", {{"version", "1.2.3"}}}}}};
  }
  http::ClientResponse Register(uint16_t node, const std::string& app, const std::string& id, uint16_t port, int lease = 90) {
    http::ClientRequest r{"POST", Url(node) + "/eureka/apps/" + app, {}, Instance(app, id, port, lease).dump(), {}};
    r.headers.Set("Content-Type", "application/json");
    return http_.Send(r);
  }
  json Apps(uint16_t node) {
    http::ClientRequest r{"GET", Url(node) + "/eureka/apps", {}, {}, {}};
    r.headers.Set("Accept", "application/json");
    return http_.Send(r).Json();
  }
  int Count(uint16_t node, const std::string& app) {
    http::ClientRequest r{"GET", Url(node) + "/eureka/apps/" + app, {}, {}, {}};
    r.headers.Set("Accept", "application/json");
    auto resp = http_.Send(r);
    return resp.status == 200 ? int(resp.Json()["application"]["instance"].size()) : 0;
  }

  std::string dir_;
  std::map<uint16_t, std::unique_ptr<Process>> nodes_;
  testing::ApiClient http_{testing::ApiClient::Basic("eureka", "eureka-secret")};  // a client's credential
};

TEST_F(RegistryTest, EurekaApiRegisterRenewQueryStatusCancel) {
  uint16_t n = testing::FreePort();
  Start(n, "");
  EXPECT_EQ(Register(n, "order-service", "h:order-service:8081", 8081).status, 204);
  EXPECT_EQ(http_.Send({"PUT", Url(n) + "/eureka/apps/ORDER-SERVICE/h:order-service:8081", {}, "", {}}).status, 200);
  EXPECT_EQ(http_.Send({"PUT", Url(n) + "/eureka/apps/ORDER-SERVICE/unknown", {}, "", {}}).status, 404);
  auto apps = Apps(n);
  EXPECT_EQ(apps["applications"]["application"][0]["name"], "ORDER-SERVICE");
  EXPECT_EQ(apps["applications"]["application"][0]["instance"][0]["metadata"]["version"], "1.2.3");
  auto xml = http_.Get(Url(n) + "/eureka/apps");
  EXPECT_EQ(*xml.headers.Get("content-type"), "application/xml") << "XML unless JSON is asked for, like Eureka";
  EXPECT_NE(xml.body.find("<port enabled=\"true\">8081</port>"), std::string::npos);
  EXPECT_EQ(http_.Send({"PUT", Url(n) + "/eureka/apps/ORDER-SERVICE/h:order-service:8081/status?value=OUT_OF_SERVICE", {}, "", {}}).status, 200);
  EXPECT_EQ(Apps(n)["applications"]["application"][0]["instance"][0]["status"], "OUT_OF_SERVICE");
  EXPECT_EQ(http_.Send({"PUT", Url(n) + "/eureka/apps/ORDER-SERVICE/h:order-service:8081/status?value=HAPPY", {}, "", {}}).status, 400);
  EXPECT_EQ(http_.Send({"DELETE", Url(n) + "/eureka/apps/ORDER-SERVICE/h:order-service:8081/status?value=UP", {}, "", {}}).status, 200);
  EXPECT_EQ(Apps(n)["applications"]["application"][0]["instance"][0]["status"], "UP");
  http::ClientRequest delta{"GET", Url(n) + "/eureka/apps/delta", {}, {}, {}};
  delta.headers.Set("Accept", "application/json");
  EXPECT_FALSE(http_.Send(delta).Json()["applications"]["application"].empty());
  auto bad = http_.Send({"POST", Url(n) + "/eureka/apps/x", {}, "{\"instance\":{}}", {}});
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(bad.Json()["errors"][0]["field"], "instance.hostName");
  // 200,000 nested arrays in a registration: refused while parsing, before a
  // value that deep exists (copying one overflowed the stack).
  const std::string deep = "{\"instance\":" + std::string(200'000, '[') + std::string(200'000, ']') + "}";
  auto too_deep = http_.Send({"POST", Url(n) + "/eureka/apps/x", {}, deep, {}});
  EXPECT_EQ(too_deep.status, 400);
  EXPECT_NE(too_deep.body.find("deeper than 64"), std::string::npos) << too_deep.body;
  EXPECT_EQ(http_.Send({"DELETE", Url(n) + "/eureka/apps/ORDER-SERVICE/h:order-service:8081", {}, "", {}}).status, 200);
  EXPECT_EQ(Count(n, "ORDER-SERVICE"), 0);
  EXPECT_EQ(http_.Get(Url(n) + "/registry/view").Json()["recentEvents"][0]["kind"], "CANCELLED");
}

TEST_F(RegistryTest, StatusPageAtTheRootLikeEurekasWithEveryValueEscaped) {
  uint16_t n = testing::FreePort();
  Start(n, "");
  auto inst = Instance("ORDER-SERVICE", "h:order-service:8081", 8081);
  inst["instance"]["metadata"] = {{"note", "<script>alert(1)</script>"}};
  http::ClientRequest reg{"POST", Url(n) + "/eureka/apps/ORDER-SERVICE", {}, inst.dump(), {}};
  reg.headers.Set("Content-Type", "application/json");
  ASSERT_EQ(http_.Send(reg).status, 204);
  auto evil = Instance("PAY<B>MENT", "x\"<i>:1", 8082);
  http::ClientRequest reg2{"POST", Url(n) + "/eureka/apps/PAY%3CB%3EMENT", {}, evil.dump(), {}};
  reg2.headers.Set("Content-Type", "application/json");
  http_.Send(reg2);  // refused or stored: either way never rendered raw

  auto page = http_.Get(Url(n) + "/");
  ASSERT_EQ(page.status, 200) << page.body;
  EXPECT_EQ(page.headers.Get("content-type"), "text/html; charset=utf-8");
  for (const char* part : {"System Status", "Renews threshold", "Renews (last min)", "DS Replicas",
                           "Instances currently registered", "ORDER-SERVICE", "UP (1) - h:order-service:8081",
                           "General Info"})
    EXPECT_NE(page.body.find(part), std::string::npos) << part;
  EXPECT_EQ(page.body.find("<B>"), std::string::npos) << "names are escaped";
  EXPECT_EQ(page.body.find("<i>"), std::string::npos);
  EXPECT_EQ(page.body.find("<script>"), std::string::npos);
  EXPECT_EQ(http::HttpClient().Get(Url(n) + "/").status, 401) << "it lists every address: the credential, like the API";
}

TEST_F(RegistryTest, EveryEurekaCallNeedsTheClientsOrThePeersCredential) {
  uint16_t n = testing::FreePort();
  Start(n, "");
  http::HttpClient anonymous;
  http::ClientRequest forged{"POST", Url(n) + "/eureka/apps/ORDER-SERVICE", {},
                             Instance("ORDER-SERVICE", "evil:8081", 8081).dump(), {}};
  forged.headers.Set("Content-Type", "application/json");
  auto refused = anonymous.Send(forged);
  EXPECT_EQ(refused.status, 401) << "an unauthenticated write";
  EXPECT_EQ(refused.headers.Get("www-authenticate"), "Basic realm=\"eureka\", charset=\"UTF-8\"");
  forged.headers.Set("Authorization", testing::ApiClient::Basic("eureka", "wrong-password").value);
  EXPECT_EQ(anonymous.Send(forged).status, 401) << "a wrong password";
  for (const char* path : {"/eureka/apps", "/eureka/apps/delta", "/eureka/apps/ORDER-SERVICE", "/registry/view"})
    EXPECT_EQ(anonymous.Get(Url(n) + path).status, 401) << path << ": reads reveal every instance's address";
  EXPECT_EQ(Count(n, "ORDER-SERVICE"), 0) << "nothing was registered";
  EXPECT_EQ(anonymous.Get(Url(n) + "/actuator/health").status, 200) << "probes need no credential";

  // A client cannot pass its change off as a peer's (it would not reach the other nodes).
  http::ClientRequest batch{"POST", Url(n) + "/eureka/peerreplication/batch", {}, R"({"replicationList":[]})", {}};
  batch.headers.Set("Content-Type", "application/json");
  EXPECT_EQ(http_.Send(batch).status, 403) << "batches come from peers only";
  testing::ApiClient peer(testing::ApiClient::Basic("eureka-peer", "peer-secret-123"));
  EXPECT_EQ(peer.Send(batch).status, 200);
}

TEST_F(RegistryTest, BadRegistrationsAre400AndAForgedOneCannotDisplaceTheRealInstance) {
  uint16_t n = testing::FreePort();
  Start(n, "");
  auto post = [&](json body) {
    http::ClientRequest r{"POST", Url(n) + "/eureka/apps/ORDER-SERVICE", {}, body.dump(), {}};
    r.headers.Set("Content-Type", "application/json");
    return http_.Send(r);
  };
  auto real = Instance("ORDER-SERVICE", "o1", 8081);
  real["instance"]["lastDirtyTimestamp"] = std::to_string(
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count());
  ASSERT_EQ(post(real).status, 204);

  auto field_of = [](const http::ClientResponse& r) { return r.Json()["errors"][0]["field"].get<std::string>(); };
  auto bad_url = real;
  bad_url["instance"]["homePageUrl"] = "http://169.254.169.254/latest/meta-data/";
  auto r = post(bad_url);
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(field_of(r), "instance.homePageUrl");
  auto bad_host = real;
  bad_host["instance"]["hostName"] = "evil.example/x";
  r = post(bad_host);
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(field_of(r), "instance.hostName");
  auto fat = real;
  for (int k = 0; k < 40; ++k) fat["instance"]["metadata"]["k" + std::to_string(k)] = "v";
  r = post(fat);
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(field_of(r), "instance.metadata");
  http::ClientRequest grow{"PUT", Url(n) + "/eureka/apps/ORDER-SERVICE/o1/metadata?huge=" + std::string(300, 'x'), {}, "", {}};
  EXPECT_EQ(http_.Send(grow).status, 400) << "metadata merged later is capped too";

  // A forgery of o1 from the future, pointing at the attacker: refused, and o1 stays as it was.
  auto forged = real;
  forged["instance"]["hostName"] = "10.6.6.6";
  forged["instance"]["ipAddr"] = "10.6.6.6";
  forged["instance"]["lastDirtyTimestamp"] = "9999999999999";
  r = post(forged);
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(field_of(r), "instance.lastDirtyTimestamp");
  http::ClientRequest renew{"PUT", Url(n) + "/eureka/apps/ORDER-SERVICE/o1?status=UP&lastDirtyTimestamp=9999999999999", {}, "", {}};
  EXPECT_EQ(http_.Send(renew).status, 400);
  http::ClientRequest get{"GET", Url(n) + "/eureka/apps/ORDER-SERVICE/o1", {}, {}, {}};
  get.headers.Set("Accept", "application/json");
  EXPECT_EQ(http_.Send(get).Json()["instance"]["hostName"], "127.0.0.1");
}

TEST_F(RegistryTest, AFullRegistryAnswers429AndPeerBatchesAreBoundedAndValidated) {
  uint16_t n = testing::FreePort();
  Start(n, "registry: {max-instances: 2}\n");
  ASSERT_EQ(Register(n, "order-service", "o1", 8081).status, 204);
  ASSERT_EQ(Register(n, "order-service", "o2", 8082).status, 204);
  auto full = Register(n, "order-service", "o3", 8083);
  EXPECT_EQ(full.status, 429);
  EXPECT_EQ(full.headers.Get("retry-after"), "30");
  EXPECT_NE(full.body.find("registry.max-instances"), std::string::npos) << full.body;
  EXPECT_EQ(Register(n, "order-service", "o1", 8081).status, 204) << "a known instance still re-registers";

  testing::ApiClient peer{testing::ApiClient::Basic("eureka-peer", "peer-secret-123")};
  auto batch = [&](const json& list) {
    http::ClientRequest r{"POST", Url(n) + "/eureka/peerreplication/batch", {}, json{{"replicationList", list}}.dump(), {}};
    r.headers.Set("Content-Type", "application/json");
    return peer.Send(r);
  };
  json many = json::array();
  for (int k = 0; k < 1001; ++k) many.push_back({{"action", "Heartbeat"}, {"appName", "ORDER-SERVICE"}, {"id", "o1"}});
  EXPECT_EQ(batch(many).status, 413);
  EXPECT_EQ(http_.Send({"DELETE", Url(n) + "/eureka/apps/ORDER-SERVICE/o2", {}, "", {}}).status, 200);
  auto forged = Instance("ORDER-SERVICE", "o9", 8089)["instance"];
  forged["homePageUrl"] = "gopher://127.0.0.1:25/";
  auto ok = Instance("ORDER-SERVICE", "o8", 8088)["instance"];
  auto r = batch(json::array({{{"action", "Register"}, {"appName", "ORDER-SERVICE"}, {"id", "o9"}, {"instanceInfo", forged}},
                              {{"action", "Register"}, {"appName", "ORDER-SERVICE"}, {"id", "o8"}, {"instanceInfo", ok}},
                              {{"action", "Register"}, {"appName", "ORDER-SERVICE"}, {"id", "o7"},
                               {"instanceInfo", Instance("ORDER-SERVICE", "o7", 8087)["instance"]}}}));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.Json()["responseList"][0]["statusCode"], 400) << "a peer's copy is validated like a client's";
  EXPECT_EQ(r.Json()["responseList"][1]["statusCode"], 200);
  EXPECT_EQ(r.Json()["responseList"][2]["statusCode"], 429) << "full again";
  EXPECT_EQ(Count(n, "ORDER-SERVICE"), 2);
}

TEST_F(RegistryTest, PeersReplicateAndARestartedNodeResyncs) {
  uint16_t a = testing::FreePort(), b = testing::FreePort();
  Start(a, "registry: {peers: [" + Url(b) + "/eureka]}\n");
  Start(b, "registry: {peers: [" + Url(a) + "/eureka]}\n");
  ASSERT_EQ(Register(a, "payment-service", "p1", 8082).status, 204);
  ASSERT_EQ(Register(b, "payment-service", "p2", 8092).status, 204);
  ASSERT_TRUE(WaitUntil([&] { return Count(a, "PAYMENT-SERVICE") == 2 && Count(b, "PAYMENT-SERVICE") == 2; }, 10s));
  // cancel at b shows at a
  ASSERT_EQ(http_.Send({"DELETE", Url(b) + "/eureka/apps/PAYMENT-SERVICE/p1", {}, "", {}}).status, 200);
  ASSERT_TRUE(WaitUntil([&] { return Count(a, "PAYMENT-SERVICE") == 1; }, 10s));
  // b restarts with an empty memory and copies a's registry
  nodes_[b]->Stop(10s);
  nodes_.erase(b);
  ASSERT_EQ(Register(a, "order-service", "o1", 8081).status, 204);
  Start(b, "registry: {peers: [" + Url(a) + "/eureka]}\n");
  EXPECT_EQ(Count(b, "ORDER-SERVICE"), 1);
  EXPECT_EQ(Count(b, "PAYMENT-SERVICE"), 1);
}

TEST_F(RegistryTest, ExpiredLeasesAreEvicted) {
  uint16_t n = testing::FreePort();
  Start(n, "registry: {eviction-interval: 200ms, enable-self-preservation: false}\n");
  ASSERT_EQ(Register(n, "inventory-service", "i1", 8084, /*lease=*/1).status, 204);
  ASSERT_EQ(Register(n, "inventory-service", "i2", 8094, /*lease=*/60).status, 204);
  ASSERT_TRUE(WaitUntil([&] { return Count(n, "INVENTORY-SERVICE") == 1; }, 10s));
  EXPECT_EQ(http_.Send({"PUT", Url(n) + "/eureka/apps/INVENTORY-SERVICE/i1", {}, "", {}}).status, 404)
      << "an evicted instance's renew is 404: it registers again";
  EXPECT_NE(http_.Get(Url(n) + "/actuator/prometheus").body.find("registry_evictions_total{application=\"service-registry\"} 1"), std::string::npos);
}

TEST_F(RegistryTest, PrometheusDiscoversTargetsThroughEurekaSd) {
  uint16_t n = testing::FreePort(), prom = testing::FreePort();
  Start(n, "");
  // the registry itself is the scrape target: it serves /metrics
  ASSERT_EQ(Register(n, "service-registry", "reg-1", n).status, 204);
  std::ofstream(dir_ + "/prometheus.yml")
      << "global: {scrape_interval: 1s}\n"
      << "scrape_configs:\n  - job_name: platform\n    eureka_sd_configs:\n      - server: " << Url(n) << "/eureka\n"
      << "        refresh_interval: 1s\n"
      << "        basic_auth: {username: eureka, password_file: " << dir_ << "/eureka-password}\n"
      << "    relabel_configs:\n      - source_labels: [__meta_eureka_app_name]\n        target_label: application\n";
  std::ofstream(dir_ + "/eureka-password") << "eureka-secret";
  Process p(Process::Options{{"/usr/bin/prometheus", "--config.file=" + dir_ + "/prometheus.yml",
                              "--storage.tsdb.path=" + dir_ + "/tsdb", "--web.listen-address=127.0.0.1:" + std::to_string(prom)},
                             {}, dir_ + "/prometheus.log"});
  p.Start();
  json target;
  std::string last;
  ASSERT_TRUE(WaitUntil([&] {
    auto r = http_.Get(Url(prom) + "/api/v1/targets");
    last = r.body;
    if (r.status != 200) return false;
    const json targets = r.Json();  // named: a range-for over a temporary's member dangles
    for (auto& t : targets["data"]["activeTargets"])
      if (t["labels"]["application"] == "SERVICE-REGISTRY" && t["health"] == "up") {
        target = t;
        return true;
      }
    return false;
  }, 60s)) << last;
  EXPECT_EQ(target["labels"]["instance"], "reg-1");
  EXPECT_EQ(target["scrapeUrl"], Url(n) + "/metrics");
  p.Stop(10s);
}

}  // namespace
}  // namespace op
