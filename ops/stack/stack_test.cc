// The README's first command as a user runs it: the stack binary brings the
// whole platform up on its default ports, an order placed through the gateway
// is confirmed, a second start is refused with one line, Ctrl-C stops
// everything, and a restart finds the data again.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/types.h>

#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>

#include "runtime/http/client.h"
#include "ops/stack/stack_fixture.h"
#include "testing/fixtures/api_client.h"
#include "testing/fixtures/process.h"

namespace op {
namespace {

using namespace std::chrono_literals;
using testing::Process;
using testing::WaitUntil;

using StackTest = StackFixture;

TEST_F(StackTest, BadSetupsFailAtOnceWithOneLine) {
  struct Case {
    std::vector<std::string> args;
    std::map<std::string, std::string> env;
    std::string says;
  };
  for (const auto& c : std::vector<Case>{
           {{}, {{"KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:1"}}, "no Kafka broker accepts connections at 127.0.0.1:1"},
           {{}, {{"MYSQL_HOST", "127.0.0.1"}, {"MYSQL_PORT", "1"}}, "no MySQL server accepts connections"},
           {{"--instances", "payment-service=9"}, {}, "N must be 1..5"},
           {{"--port", "nothing=9000"}, {}, "no program named 'nothing'"},
           {{"--bogus"}, {}, "unknown argument '--bogus'"}}) {
    auto p = Launch("bad.log", c.args, c.env);
    auto code = p->Wait(30s);
    ASSERT_TRUE(code.has_value()) << c.says << ": the stack hangs";
    EXPECT_EQ(*code, 1) << c.says;
    EXPECT_NE(p->Output().find(c.says), std::string::npos) << p->Output();
    EXPECT_FALSE(testing::PortOpen(mysql_port_)) << "nothing is left running";
  }
}

TEST_F(StackTest, StartsServesStopsCleanlyAndKeepsItsData) {
  // two payment-service instances share the consumer group and the work
  auto stack = Launch("first.log", {"--instances", "payment-service=2"});
  ASSERT_TRUE(Up(*stack)) << stack->Output();

  // A demo identity signs in through the gateway; the token names the gateway as its issuer.
  http::ClientRequest sign_in{"POST", "http://127.0.0.1:8080/oauth2/token", {},
                              "grant_type=password&username=alice&password=alice-secret", {}};
  sign_in.headers.Set("Content-Type", "application/x-www-form-urlencoded");
  auto token = http_.Send(sign_in);
  ASSERT_EQ(token.status, 200) << token.body;
  const std::string bearer = "Bearer " + token.Json()["access_token"].get<std::string>();
  auto as_alice = [&](std::string method, const std::string& path, std::string body = "") {
    http::ClientRequest r{std::move(method), "http://127.0.0.1:8080" + path, {}, std::move(body), {}};
    r.headers.Set("Authorization", bearer);
    r.headers.Set("Content-Type", "application/json");
    return http_.Send(r);
  };
  const std::string order = R"({"customerId":"alice","items":[{"sku":"SKU-BOOK","quantity":1}]})";
  EXPECT_EQ(http_.PostJson("http://127.0.0.1:8080/api/orders", nlohmann::json::parse(order)).status, 401) << "no token";
  auto placed = as_alice("POST", "/api/orders", order);
  ASSERT_EQ(placed.status, 202) << placed.body;
  std::string id = placed.Json()["orderId"];
  ASSERT_TRUE(WaitUntil([&] { return as_alice("GET", "/api/orders/" + id).Json()["status"] == "CONFIRMED"; }, 30s));

  http::ClientRequest apps{"GET", "http://127.0.0.1:8761/eureka/apps", {}, {}, {}};
  apps.headers.Set("Accept", "application/json");
  EXPECT_EQ(http_.Send(apps).status, 401) << "the registry asks for its credential";
  apps.headers.Set("Authorization", "Basic ZXVyZWthOmV1cmVrYS1zZWNyZXQ=");  // eureka / eureka-secret, the demo credential
  auto registered = http_.Send(apps).Json()["applications"]["application"];
  std::set<std::string> names;
  for (auto& a : registered) names.insert(a["name"]);
  EXPECT_EQ(names, (std::set<std::string>{"API-GATEWAY", "DASHBOARD", "IDENTITY-SERVICE", "INVENTORY-SERVICE",
                                          "NOTIFICATION-SERVICE", "ORDER-SERVICE", "PAYMENT-SERVICE"}));

  EXPECT_EQ(as_alice("GET", "/api/users/me").Json()["customerId"], "alice");
  EXPECT_EQ(http_.Get("http://127.0.0.1:8080/.well-known/openid-configuration").Json()["issuer"], "http://127.0.0.1:8080");
  for (auto& a : registered) {
    if (a["name"] == "PAYMENT-SERVICE") {
      EXPECT_EQ(a["instance"].size(), 2u) << a.dump();
    }
  }
  EXPECT_NE(stack->Output().find("http://127.0.0.1:8182/api/accounts/alice"), std::string::npos);

  // A quiet terminal: lifecycle lines, not the requests just made (access
  // logs, the registry's polls, scrapes); those are in each program's log
  // file, which the banner names.
  const std::string logs = dir_ + "/data/logs";
  EXPECT_NE(stack->Output().find(logs + "/<program>.log"), std::string::npos) << stack->Output();
  EXPECT_NE(stack->Output().find("INFO  started engine="), std::string::npos) << "lifecycle lines stay";
  EXPECT_EQ(stack->Output().find("INFO  http bytes="), std::string::npos) << "access logs off the terminal";
  std::ifstream gateway_log(logs + "/api-gateway.log");
  const std::string gateway_lines((std::istreambuf_iterator<char>(gateway_log)), std::istreambuf_iterator<char>());
  EXPECT_NE(gateway_lines.find("INFO  http bytes="), std::string::npos) << "but in the gateway's file";
  EXPECT_NE(gateway_lines.find("method=POST path=/api/orders"), std::string::npos);

  // The dashboard at the printed URL: the page, and the order in its snapshot.
  EXPECT_NE(stack->Output().find("http://127.0.0.1:8090/"), std::string::npos);
  auto page = http_.Get("http://127.0.0.1:8090/");
  EXPECT_EQ(page.status, 200);
  EXPECT_NE(page.body.find("Order platform"), std::string::npos);
  EXPECT_EQ(http_.Get("http://127.0.0.1:8090/api/snapshot").status, 401) << "the data needs a sign-in";
  testing::ApiClient viewer;
  // the dashboard may not have found identity-service in the registry yet: polled
  ASSERT_TRUE(WaitUntil([&] { return viewer.SignInToDashboard("http://127.0.0.1:8090", "viewer", "viewer-secret"); }, 30s));
  ASSERT_TRUE(WaitUntil([&] {
    auto snap = viewer.Get("http://127.0.0.1:8090/api/snapshot");
    if (snap.status != 200) return false;
    auto j = snap.Json();
    bool listed = false;
    for (auto& o : j["orders"]["items"]) listed |= o["orderId"] == id && o["status"] == "CONFIRMED";
    return listed && j["registry"]["apps"].size() == 7 && j["kafka"]["reachable"] == true;
  }, 30s)) << viewer.Get("http://127.0.0.1:8090/api/snapshot").body;

  // Prometheus: every instance discovered through the registry and up, every
  // alert rule evaluating, the platform's metrics present.
  const std::string prom = "http://127.0.0.1:9090";
  std::string last;
  ASSERT_TRUE(WaitUntil([&] {
    auto r = http_.Get(prom + "/api/v1/targets");
    last = r.body;
    if (r.status != 200) return false;
    const nlohmann::json t = r.Json();
    std::set<std::string> apps;
    size_t up = 0;
    for (auto& target : t["data"]["activeTargets"])
      if (target["health"] == "up") apps.insert(target["labels"]["application"]), ++up;
    return apps.size() == 8 && up == 9;  // 7 applications + the registry; payment-service twice
  }, 90s)) << last;
  ASSERT_TRUE(WaitUntil([&] {
    const nlohmann::json rules = http_.Get(prom + "/api/v1/rules").Json();
    int ok = 0, total = 0;
    for (auto& g : rules["data"]["groups"])
      for (auto& rule : g["rules"]) ++total, ok += rule["health"] == "ok";
    return total >= 9 && ok == total;
  }, 60s)) << http_.Get(prom + "/api/v1/rules").body;
  for (const char* q : {"http_server_requests_seconds_count", "kafka_consumergroup_lag", "resilience4j_circuitbreaker_state",
                        "outbox_backlog", "orders_total", "registry_instances", "hikaricp_connections_active"}) {
    EXPECT_TRUE(WaitUntil([&] {
      const nlohmann::json r = http_.Get(prom + "/api/v1/query?query=" + q).Json();
      return r["status"] == "success" && !r["data"]["result"].empty();
    }, 30s)) << q;
  }

  // Every Grafana panel query evaluates and returns data on the running stack
  // ($application = all, $__rate_interval = 1m, as Grafana would send them).
  for (const auto& entry : std::filesystem::directory_iterator(
           std::filesystem::path(testing::Runfile("ops/grafana/dashboards/platform-overview.json")).parent_path())) {
    if (entry.path().extension() != ".json") continue;
    std::ifstream in(entry.path());
    auto dashboard = nlohmann::json::parse(in);
    for (auto& panel : dashboard["panels"])
      for (auto& target : panel["targets"]) {
        std::string q = target["expr"];
        for (auto [from, to] : {std::pair<std::string, std::string>{"$application", ".+"}, {"$__rate_interval", "1m"}})
          for (size_t p = q.find(from); p != std::string::npos; p = q.find(from)) q.replace(p, from.size(), to);
        nlohmann::json result;
        EXPECT_TRUE(WaitUntil([&] {
          result = http_.Get(prom + "/api/v1/query?query=" + http::PercentEncode(q)).Json();
          return result["status"] == "success" && !result["data"]["result"].empty();
        }, 60s)) << entry.path().filename() << " / " << panel["title"] << ": " << q << " -> " << result.dump();
      }
  }

  // Supervision: a crashed service comes back by itself, and the dashboard
  // shows it DOWN meanwhile and UP again after.
  pid_t inventory = ChildWith(stack->Pid(), {"inventory-service", "--config", dir_});
  ASSERT_GT(inventory, 0) << "inventory-service's process not found";
  ASSERT_EQ(::kill(inventory, SIGKILL), 0);
  std::string seen;
  auto inventory_status = [&] {
    auto snap = viewer.Get("http://127.0.0.1:8090/api/snapshot");
    seen = snap.ok() ? std::to_string(snap.status) + " " + snap.body.substr(0, 3000) : snap.error_message;
    if (snap.status != 200) return std::string();
    const nlohmann::json j = snap.Json();  // a temporary would die before the loop runs
    for (auto& app : j["registry"]["apps"])
      if (app["name"] == "INVENTORY-SERVICE" && !app["instances"].empty()) return app["instances"][0]["status"].get<std::string>();
    return std::string();
  };
  EXPECT_TRUE(WaitUntil([&] { return inventory_status() == "DOWN"; }, 30s)) << "the dashboard shows the crash: " << seen;
  EXPECT_TRUE(WaitUntil([&] { return stack->Output().find("inventory-service exited; restarting") != std::string::npos; }, 30s));
  EXPECT_TRUE(testing::WaitForHttp("http://127.0.0.1:8084/actuator/health/readiness", 200, 90s)) << "restarted";
  EXPECT_TRUE(WaitUntil([&] { return inventory_status() == "UP"; }, 60s)) << "and UP again on the dashboard";
  // with the supervisor's count of its restarts
  int restarts = -1;
  EXPECT_TRUE(WaitUntil([&] {
    auto snap = viewer.Get("http://127.0.0.1:8090/api/snapshot");
    if (snap.status != 200) return false;
    const nlohmann::json j = snap.Json();
    for (auto& p : j["programs"])
      if (p["name"] == "inventory-service") restarts = p["restarts"].get<int>();
    return restarts == 1;
  }, 30s)) << "restarts " << restarts;

  auto second = Launch("second.log");
  auto code = second->Wait(60s);
  ASSERT_TRUE(code.has_value());
  EXPECT_NE(*code, 0);
  EXPECT_NE(second->Output().find("is already in use"), std::string::npos) << second->Output();

  stack->Signal(SIGINT);  // Ctrl-C
  auto stopped = stack->Wait(90s);
  ASSERT_TRUE(stopped.has_value()) << "the stack did not stop";
  EXPECT_EQ(*stopped, 0) << stack->Output();
  for (uint16_t port : {8080, 8081, 8082, 8182, 8083, 8084, 8090, 8761, 9090}) EXPECT_FALSE(testing::PortOpen(port)) << port;
  EXPECT_FALSE(testing::PortOpen(mysql_port_));

  auto again = Launch("third.log");
  ASSERT_TRUE(Up(*again)) << again->Output();
  // (503 until the gateway has the identity service's keys: a token that
  // cannot be checked yet is not a bad token)
  http::ClientResponse after;
  EXPECT_TRUE(WaitUntil([&] {
    after = as_alice("GET", "/api/orders/" + id);
    return after.status != 503;
  }, 30s)) << after.body;
  EXPECT_EQ(after.Json()["status"], "CONFIRMED") << "data survives a restart, and so do the signing keys: the token is still good";
  again->Signal(SIGINT);
  EXPECT_EQ(again->Wait(90s), 0);
}

}  // namespace
}  // namespace op
