// The container images, as a user runs them: built by Bazel (//ops/images),
// loaded into podman, the platform run as containers (registry, gateway, the
// five services, dashboard) against a MariaDB and the dev broker on the host.
// A customer signs in and places an order through the containerized gateway,
// and it is CONFIRMED; a killed container's instance is evicted by the
// containerized registry.
//
// podman runs with its own storage under the test's temp dir (vfs driver, so
// it works on any filesystem) and the runc runtime (ENVIRONMENT.md).
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <fstream>
#include <sstream>

#include "runtime/http/client.h"
#include "testing/fixtures/devbroker.h"
#include "testing/fixtures/mariadb.h"
#include "testing/fixtures/process.h"

namespace op {
namespace {

using namespace std::chrono_literals;
using testing::Process;
using testing::WaitUntil;

const std::vector<std::string> kImages = {"service-registry", "api-gateway", "order-service", "payment-service",
                                          "notification-service", "inventory-service", "identity-service", "dashboard",
                                          "devbroker"};

std::string Slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

struct Ran {
  int code = -1;
  std::string out;
};

class ImagesTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new std::string(testing::MakeTempDir("img"));
    for (const auto& name : kImages) {
      auto r = Podman({"load", "-q", "-i", testing::Runfile("ops/images/" + name + ".tar")});
      ASSERT_EQ(r.code, 0) << name << ": " << r.out;
    }
  }
  static void TearDownTestSuite() {
    Podman({"rm", "-f", "-a", "-t", "2"});
    testing::RemoveTree(*dir_);
    delete dir_;
  }
  static Ran Podman(std::vector<std::string> args, std::chrono::milliseconds timeout = 120s) {
    std::vector<std::string> argv = {"/usr/bin/podman", "--root", *dir_ + "/root", "--runroot", *dir_ + "/run",
                                     "--storage-driver", "vfs", "--cgroup-manager", "cgroupfs",
                                     "--events-backend", "file"};
    argv.insert(argv.end(), args.begin(), args.end());
    static int n = 0;
    std::string log = *dir_ + "/podman-" + std::to_string(n++) + ".log";
    Process p({argv, {}, log});
    p.Start();
    auto code = p.Wait(timeout);
    if (!code) p.Stop(1s);
    return {code.value_or(-1), Slurp(log)};
  }
  // A platform container on the host network, configured through its environment.
  static Ran Start(const std::string& name, const std::map<std::string, std::string>& env) {
    std::vector<std::string> args = {"run", "-d", "--name", name, "--runtime", "runc", "--network", "host",
                                     "--ulimit", "nofile=1024:1024", "--ulimit", "nproc=1024:1024"};
    for (auto& [k, v] : env) args.insert(args.end(), {"-e", k + "=" + v});
    args.push_back("localhost/orderplatform/" + name + ":latest");
    return Podman(args);
  }
  static std::string* dir_;
  http::HttpClient http_;
};
std::string* ImagesTest::dir_ = nullptr;

TEST_F(ImagesTest, EachImageIsSmallNonRootShellFreeAndDeclaresItsPort) {
  const std::map<std::string, std::string> ports = {
      {"service-registry", "8761/tcp"}, {"api-gateway", "8080/tcp"}, {"order-service", "8081/tcp"},
      {"payment-service", "8082/tcp"}, {"notification-service", "8083/tcp"}, {"inventory-service", "8084/tcp"}, {"identity-service", "8085/tcp"},
      {"dashboard", "8090/tcp"}, {"devbroker", "9644/tcp"}};
  // Under --config=asan the binaries inside are instrumented and unstripped
  // (and bring libasan): the bound is for what ships, with room for that.
#if defined(__SANITIZE_ADDRESS__)
  constexpr int64_t kMaxBytes = 120 * 1000 * 1000;
#else
  constexpr int64_t kMaxBytes = 40 * 1000 * 1000;
#endif
  for (const auto& name : kImages) {
    auto sizes = nlohmann::json::parse(Slurp(testing::Runfile("ops/images/" + name + ".sizes.json")));
    EXPECT_LT(sizes["uncompressedBytes"].get<int64_t>(), kMaxBytes) << name;
    auto inspect = Podman({"image", "inspect", "localhost/orderplatform/" + name + ":latest"});
    ASSERT_EQ(inspect.code, 0) << inspect.out;
    auto cfg = nlohmann::json::parse(inspect.out)[0]["Config"];
    EXPECT_EQ(cfg["User"], "65532:65532") << name;
    EXPECT_TRUE(cfg["ExposedPorts"].contains(ports.at(name))) << name << ": " << cfg.dump();
    EXPECT_EQ(cfg["Entrypoint"][0], "/app/" + (name == "devbroker" ? std::string("devbroker") : name));
    // No shell: an entrypoint of /bin/sh cannot start.
    auto sh = Podman({"run", "--rm", "--runtime", "runc", "--network", "none", "--ulimit", "nofile=1024:1024",
                      "--ulimit", "nproc=1024:1024", "--entrypoint", "/bin/sh",
                      "localhost/orderplatform/" + name + ":latest", "-c", "true"});
    EXPECT_NE(sh.code, 0) << name << " has a shell";
    EXPECT_NE(sh.out.find("/bin/sh"), std::string::npos) << sh.out;
    EXPECT_NE(sh.out.find("no such file or directory"), std::string::npos) << sh.out;
  }
  // Every shared library is there: the binary runs (--help exits 0 without any dependency).
  auto help = Podman({"run", "--rm", "--runtime", "runc", "--network", "none", "--ulimit", "nofile=1024:1024",
                      "--ulimit", "nproc=1024:1024", "localhost/orderplatform/order-service:latest", "--help"});
  EXPECT_EQ(help.code, 0) << help.out;
  EXPECT_NE(help.out.find("MYSQL_HOST"), std::string::npos);
}

TEST_F(ImagesTest, TwoBuildsOfAnImageHaveTheSameDigest) {
  // Bazel built the image once; build it again from the same binary here.
  auto build = [&](const std::string& out) {
    Process p({{"/usr/bin/python3", testing::Runfile("tools/oci/build_image.py"), "--binary",
                testing::Runfile("services/order/order-service"), "--name", "order-service", "--repository",
                "orderplatform/order-service", "--tag", "latest", "--out", out + ".tar", "--digest", out + ".digest",
                "--port", "8081", "--env", "SERVER_PORT=8081", "--health-check"},
               {},
               out + ".log"});
    p.Start();
    EXPECT_EQ(p.Wait(120s), 0) << p.Output();
    return Slurp(out + ".digest");
  };
  std::string bazel_digest = Slurp(testing::Runfile("ops/images/order-service.digest"));
  ASSERT_EQ(bazel_digest.rfind("sha256:", 0), 0u) << bazel_digest;
  EXPECT_EQ(build(*dir_ + "/again"), bazel_digest);
  EXPECT_EQ(build(*dir_ + "/again2"), bazel_digest);
  EXPECT_EQ(Slurp(*dir_ + "/again.tar"), Slurp(testing::Runfile("ops/images/order-service.tar"))) << "byte for byte";
}

TEST_F(ImagesTest, ThePlatformRunsInContainersAndTheRegistryEvictsAKilledOne) {
  testing::MariaDbServer db;
  db.Start();
  testing::DevBroker kafka;
  kafka.Start();
  std::map<std::string, uint16_t> port;
  for (const auto& n : kImages) port[n] = testing::FreePort();
  auto url = [&](const std::string& n) { return "http://127.0.0.1:" + std::to_string(port[n]); };
  auto common = [&](const std::string& n) {
    return std::map<std::string, std::string>{
        {"SERVER_PORT", std::to_string(port[n])},
        {"SERVER_ACCESS_LOG", "false"},
        // the registry's credential in the service URL, as Eureka clients are given it
        {"EUREKA_CLIENT_SERVICE_URL", "http://eureka:eureka-secret@127.0.0.1:" + std::to_string(port["service-registry"]) + "/eureka"},
        {"EUREKA_CLIENT_REGISTRY_FETCH_INTERVAL", "1s"},
        {"EUREKA_INSTANCE_LEASE_RENEWAL_INTERVAL", "1s"},
        {"EUREKA_INSTANCE_LEASE_EXPIRATION_DURATION", "3s"},
        {"KAFKA_BOOTSTRAP_SERVERS", kafka.Bootstrap()},
        {"MYSQL_HOST", "127.0.0.1"},
        {"MYSQL_PORT", std::to_string(db.Port())},
        {"MYSQL_USER", db.User()},
        {"MYSQL_PASSWORD", db.Password()},
        {"MYSQL_CREATE_DATABASE", "true"},
    };
  };
  auto ready = [&](const std::string& n) {
    return testing::WaitForHttp(url(n) + "/actuator/health/readiness", 200, 90s);
  };
  auto logs = [&](const std::string& n) { return Podman({"logs", n}).out; };

  auto r = Start("service-registry", {{"SERVER_PORT", std::to_string(port["service-registry"])},
                                      {"REGISTRY_SECURITY_PASSWORD", "eureka-secret"},
                                      {"REGISTRY_EVICTION_INTERVAL", "1s"},
                                      {"REGISTRY_ENABLE_SELF_PRESERVATION", "false"},
                                      {"REGISTRY_EXPECTED_CLIENT_RENEWAL_INTERVAL", "1s"}});
  ASSERT_EQ(r.code, 0) << r.out;
  ASSERT_TRUE(ready("service-registry")) << logs("service-registry");
  const std::map<std::string, std::string> databases = {{"order-service", "orders_db"}, {"payment-service", "payments_db"},
                                                        {"notification-service", "notifications_db"},
                                                        {"inventory-service", "inventory_db"},
                                                        {"identity-service", "identity_db"}};
  for (auto& [n, database] : databases) {
    auto env = common(n);
    env["MYSQL_DATABASE"] = database;
    if (n == "identity-service") {
      env.erase("KAFKA_BOOTSTRAP_SERVERS");
      env["IDENTITY_ISSUER"] = url("api-gateway");
      env["IDENTITY_DEMO_USERS"] = "true";
      // a structure from one variable, as compose and Kubernetes pass it
      env["IDENTITY_CLIENTS"] = R"([{"id": "dashboard", "secret": "dashboard-secret-for-images", "roles": ["service"]}])";
    }
    if (n == "inventory-service") env["INVENTORY_SEED_DEMO_DATA"] = "true";
    if (n == "payment-service") env["PAYMENT_SEED_DEMO_DATA"] = "true";
    r = Start(n, env);
    ASSERT_EQ(r.code, 0) << n << ": " << r.out;
  }
  for (auto& [n, database] : databases) ASSERT_TRUE(ready(n)) << n << ":\n" << logs(n);
  for (const std::string n : {"api-gateway", "dashboard"}) {
    auto env = common(n);
    for (const char* k : {"MYSQL_HOST", "MYSQL_PORT", "MYSQL_USER", "MYSQL_PASSWORD", "MYSQL_CREATE_DATABASE"}) env.erase(k);
    if (n == "api-gateway") env.erase("KAFKA_BOOTSTRAP_SERVERS");
    if (n == "dashboard") {
      env["AUTH_CLIENT_ID"] = "dashboard";
      env["AUTH_CLIENT_SECRET"] = "dashboard-secret-for-images";
    }
    r = Start(n, env);
    ASSERT_EQ(r.code, 0) << n << ": " << r.out;
  }
  for (const std::string n : {"api-gateway", "dashboard"}) ASSERT_TRUE(ready(n)) << n << ":\n" << logs(n);

  // Everyone registered with the containerized registry.
  const std::string registry_basic = "Basic ZXVyZWthOmV1cmVrYS1zZWNyZXQ=";  // eureka / eureka-secret
  http::ClientRequest apps{"GET", url("service-registry") + "/eureka/apps", {}, {}, {}};
  apps.headers.Set("Accept", "application/json");
  apps.headers.Set("Authorization", registry_basic);
  ASSERT_TRUE(WaitUntil([&] {
    auto j = http_.Send(apps).Json();
    return j["applications"]["application"].size() == 7;
  }, 30s)) << http_.Send(apps).body;

  // alice signs in and her order through the containerized gateway ends CONFIRMED.
  std::string bearer;
  ASSERT_TRUE(WaitUntil([&] {  // the gateway may not have fetched identity-service's instance yet
    http::ClientRequest r{"POST", url("api-gateway") + "/oauth2/token", {},
                          "grant_type=password&username=alice&password=alice-secret", {}};
    r.headers.Set("Content-Type", "application/x-www-form-urlencoded");
    auto t = http_.Send(r);
    if (t.status != 200) return false;
    bearer = "Bearer " + t.Json()["access_token"].get<std::string>();
    return true;
  }, 30s, 500ms));
  auto as_alice = [&](std::string method, const std::string& path, std::string body = "") {
    http::ClientRequest r{std::move(method), url("api-gateway") + path, {}, std::move(body), {}};
    r.headers.Set("Authorization", bearer);
    r.headers.Set("Content-Type", "application/json");
    return http_.Send(r);
  };
  std::string id;
  ASSERT_TRUE(WaitUntil([&] {  // the gateway may not have fetched order-service's instance yet
    auto placed = as_alice("POST", "/api/orders", R"({"customerId":"alice","items":[{"sku":"SKU-BOOK","quantity":1}]})");
    if (placed.status != 202) return false;
    id = placed.Json()["orderId"];
    return true;
  }, 30s, 500ms));
  std::string last;
  ASSERT_TRUE(WaitUntil([&] {
    last = as_alice("GET", "/api/orders/" + id).body;
    return nlohmann::json::parse(last, nullptr, false).value("status", "") == "CONFIRMED";
  }, 60s)) << last << "\n" << logs("order-service");

  // Healthy by their own --health-check, run inside the container.
  auto hc = Podman({"exec", "order-service", "/app/order-service", "--health-check"});
  EXPECT_EQ(hc.code, 0) << hc.out;

  // A killed container sends no cancel: the registry evicts its lease.
  ASSERT_EQ(Podman({"kill", "-s", "KILL", "inventory-service"}).code, 0);
  EXPECT_TRUE(WaitUntil([&] {
    http::ClientRequest inv{"GET", url("service-registry") + "/eureka/apps/INVENTORY-SERVICE", {}, {}, {}};
    inv.headers.Set("Authorization", registry_basic);
    return http_.Send(inv).status == 404;
  }, 30s));
  http::ClientRequest view_req{"GET", url("service-registry") + "/registry/view", {}, {}, {}};
  view_req.headers.Set("Authorization", registry_basic);
  auto view = http_.Send(view_req).Json();
  EXPECT_GE(view["evictions"].get<int>(), 1) << view.dump();

  // A container stopped with SIGTERM drains and exits 0.
  ASSERT_EQ(Podman({"stop", "-t", "20", "payment-service"}).code, 0);
  auto state = Podman({"inspect", "payment-service", "--format", "{{.State.ExitCode}}"});
  EXPECT_EQ(state.out.substr(0, 1), "0") << state.out << logs("payment-service");
  Podman({"rm", "-f", "-a", "-t", "2"});
}

}  // namespace
}  // namespace op
