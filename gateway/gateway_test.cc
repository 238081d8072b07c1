// The gateway binary in front of real upstream HTTP servers over loopback.
#include <gtest/gtest.h>

#include <atomic>
#include <fstream>
#include <map>
#include <sstream>
#include <signal.h>
#include <thread>

#include "runtime/http/client.h"
#include "runtime/http/server.h"
#include "testing/fixtures/certificates.h"
#include "testing/fixtures/process.h"

namespace op {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;
using testing::WaitUntil;

// An upstream instance: a separate process (so it can really be killed) that
// echoes what it received and can be told to fail.
struct Upstream {
  std::string name;
  uint16_t port = testing::FreePort();
  std::unique_ptr<testing::Process> process;
  explicit Upstream(std::string n) : name(std::move(n)) {
    process = std::make_unique<testing::Process>(testing::Process::Options{
        {testing::Runfile("gateway/echo_upstream"), name, std::to_string(port)}, {}, ""});
    process->Start();
    EXPECT_TRUE(testing::WaitUntil([&] { return testing::PortOpen(port); }, 10s));
  }
  std::string Url() const { return "http://127.0.0.1:" + std::to_string(port); }
  void ToggleFailing() { http::HttpClient().Send({"POST", Url() + "/fail-toggle", {}, "", {}}); }
};

// A slow upstream in this process: answers after 500 ms.
struct SlowUpstream {
  std::unique_ptr<http::HttpServer> server;
  SlowUpstream() {
    auto r = std::make_shared<http::Router>();
    r->Get("/slow", op::http::Access::Public(), [](http::Request&) {
      std::this_thread::sleep_for(500ms);  // a slow upstream, not synchronisation
      return http::Response::Text(200, "late");
    });
    http::ServerOptions o;
    o.host = "127.0.0.1";
    o.threads = 1;
    o.access_log = false;
    server = std::make_unique<http::HttpServer>(o, r);
    server->Start();
  }
  std::string Url() const { return "http://127.0.0.1:" + std::to_string(server->Port()); }
};

class GatewayTest : public ::testing::Test {
 protected:
  void SetUp() override {
    a_ = std::make_unique<Upstream>("a");
    b_ = std::make_unique<Upstream>("b");
    slow_ = std::make_unique<SlowUpstream>();
    port_ = testing::FreePort();
    dir_ = testing::MakeTempDir("gw");
    std::ofstream(dir_ + "/gw.yaml") << "server: {port: " << port_ << ", host: 127.0.0.1, access-log: false}\n"
        << "discovery:\n  static:\n    order-service: [" << a_->Url() << ", " << b_->Url() << "]\n"
        << "resilience:\n"
        << "  retry: {configs: {default: {wait-duration: 10ms, max-attempts: 3}}}\n"
        << "  circuitbreaker:\n    configs:\n      default: {minimum-number-of-calls: 4, sliding-window-size: 4,"
        << " wait-duration-in-open-state: 1s, permitted-number-of-calls-in-half-open-state: 1}\n"
        << "gateway:\n  routes:\n"
        << "    - {id: orders, path: /api/orders/**, uri: lb://order-service}\n"
        << "    - {id: limited, path: /limited/**, uri: lb://order-service, rewrite: {from: /limited, to: /api/orders},"
        << " rate-limit: {limit-for-period: 3, limit-refresh-period: 60s}}\n"
        << "    - {id: slow, path: /slow, uri: " << slow_->Url() << ", timeout: 100ms, retry: false}\n"
        << "    - {id: private, path: /private/**, uri: lb://order-service, rewrite: {from: /private, to: /api/orders}}\n"
        // The proxying is under test here; tokens are (no identity service
        // runs: no token can be verified) on /private, and end to end in
        // testing/e2e/access_test.
        << "  access:\n"
        << "    - {path: /private/**, access: authenticated}\n"
        << "    - {path: /**, access: public}\n";
    gw_ = std::make_unique<testing::Process>(testing::Process::Options{
        {testing::Runfile("gateway/api-gateway"), "--config", dir_ + "/gw.yaml"}, {}, dir_ + "/gw.log"});
    gw_->Start();
    ASSERT_TRUE(testing::WaitForHttp(Base() + "/actuator/health/readiness", 200, 30s, gw_.get())) << gw_->Output();
  }
  void TearDown() override {
    gw_->Stop(10s);
    testing::RemoveTree(dir_);
  }
  std::string Base() { return "http://127.0.0.1:" + std::to_string(port_); }

  std::unique_ptr<Upstream> a_, b_;
  std::unique_ptr<SlowUpstream> slow_;
  uint16_t port_ = 0;
  std::string dir_;
  std::unique_ptr<testing::Process> gw_;
  http::HttpClient http_;
};

TEST_F(GatewayTest, RoutesAcrossBothInstancesWithCorrelationHeaders) {
  std::map<std::string, int> seen;
  for (int i = 0; i < 20; ++i) {
    http::ClientRequest r{"GET", Base() + "/api/orders/42?customerId=alice%40x", {}, {}, {}};
    r.headers.Set("X-Request-Id", "req-" + std::to_string(i));
    auto resp = http_.Send(r);
    ASSERT_EQ(resp.status, 200) << resp.body;
    auto body = resp.Json();
    EXPECT_EQ(body["path"], "/api/orders/42");
    EXPECT_EQ(body["query"]["customerId"], "alice@x");
    EXPECT_EQ(body["headers"]["x-request-id"], "req-" + std::to_string(i));
    EXPECT_TRUE(body["headers"].contains("traceparent"));
    EXPECT_TRUE(body["headers"].contains("x-forwarded-for"));
    EXPECT_EQ(*resp.headers.Get("x-request-id"), "req-" + std::to_string(i));
    seen[body["instance"]]++;
  }
  EXPECT_EQ(seen["a"], 10);
  EXPECT_EQ(seen["b"], 10);
  // (instances seen are counted below)
}

TEST_F(GatewayTest, RunsAnEventLoopPerThreadByDefault) {
  // The gateway's default server: Asio, one thread per CPU, each with a loop
  // of its own (docs/benchmarks.md); the start-up line says what runs.
  nlohmann::json started;
  std::istringstream lines(gw_->Output());
  for (std::string line; std::getline(lines, line);) {
    auto j = nlohmann::json::parse(line, nullptr, false);
    if (!j.is_discarded() && j.is_object() && j.value("msg", "") == "started") started = j;
  }
  ASSERT_TRUE(started.is_object()) << gw_->Output();
  EXPECT_EQ(started["msg"], "started");
  EXPECT_EQ(started["engine"], "asio");
  EXPECT_EQ(started["loopPerThread"], true);
  EXPECT_EQ(started["threads"], int(std::max(1u, std::thread::hardware_concurrency())));
}

TEST_F(GatewayTest, StripsHopByHopHeaders) {
  http::ClientRequest r{"GET", Base() + "/api/orders/1", {}, {}, {}};
  // (Pistache 0.0.5 keeps only keep-alive/close of a Connection header, so
  // extension tokens listed there cannot be seen; the standard set is stripped.)
  r.headers.Set("Connection", "keep-alive");
  r.headers.Set("Keep-Alive", "timeout=5");
  r.headers.Set("TE", "trailers");
  r.headers.Set("Trailer", "X-Checksum");
  r.headers.Set("Upgrade", "websocket");
  r.headers.Set("Proxy-Authorization", "Basic Zm9vOmJhcg==");
  r.headers.Set("X-Kept", "yes");
  auto h = http_.Send(r).Json()["headers"];
  for (const char* gone : {"connection", "keep-alive", "te", "trailer", "upgrade", "proxy-authorization"})
    EXPECT_FALSE(h.contains(gone)) << gone;
  EXPECT_EQ(h["x-kept"], "yes");
}

TEST_F(GatewayTest, DropsIdentityHeadersAClientSends) {
  http::ClientRequest r{"GET", Base() + "/api/orders/1", {}, {}, {}};
  for (const char* h : {"X-User-Id", "X-Auth-Roles", "X-Roles", "X-Customer-Id", "X-Principal", "X-Forwarded-User",
                        "X-Remote-User", "Remote-User", "X-Authenticated-Userid", "X-Jwt-Claims"})
    r.headers.Set(h, "admin");
  r.headers.Set("Authorization", "Bearer passed-on");
  auto h = http_.Send(r).Json()["headers"];
  for (const char* gone : {"x-user-id", "x-auth-roles", "x-roles", "x-customer-id", "x-principal", "x-forwarded-user",
                           "x-remote-user", "remote-user", "x-authenticated-userid", "x-jwt-claims"})
    EXPECT_FALSE(h.contains(gone)) << gone;
  EXPECT_EQ(h["authorization"], "Bearer passed-on") << "the service checks the token again";
}

TEST_F(GatewayTest, PathsWithDotSegmentsOrEncodedSeparatorsAre400) {
  for (const char* p : {"/api/orders/../private/1", "/api/orders/%2e%2e/private/1", "/api/orders/a%2Fb", "/api/orders/./1"}) {
    auto r = http_.Get(Base() + p);
    EXPECT_EQ(r.status, 400) << p;
    EXPECT_EQ(r.headers.Get("content-type"), "application/problem+json") << p;
  }
  EXPECT_EQ(http_.Get(Base() + "/api/orders/1").status, 200);
}

TEST_F(GatewayTest, ARouteThatNeedsATokenIs401EarlyWithABearerChallenge) {
  auto none = http_.Get(Base() + "/private/1");
  EXPECT_EQ(none.status, 401);
  EXPECT_EQ(none.headers.Get("www-authenticate"), "Bearer realm=\"order-platform\"");
  EXPECT_EQ(none.headers.Get("content-type"), "application/problem+json");
  http::ClientRequest r{"GET", Base() + "/private/1", {}, {}, {}};
  r.headers.Set("Authorization", "Bearer not.a-token");
  auto bad = http_.Send(r);
  EXPECT_EQ(bad.status, 401);
  EXPECT_NE(bad.headers.Get("www-authenticate").value_or("").find("error=\"invalid_token\""), std::string::npos);
  auto metrics = http_.Get(Base() + "/actuator/prometheus").body;
  EXPECT_NE(metrics.find("gateway_requests_rejected_total{application=\"api-gateway\",reason=\"unauthorized\",route=\"private\"} 2"), std::string::npos)
      << "refused before any upstream call, and counted";
}

TEST_F(GatewayTest, AKilledInstanceCausesNoClientVisibleErrorsForIdempotentRequests) {
  for (int i = 0; i < 4; ++i) EXPECT_EQ(http_.Get(Base() + "/api/orders/warm").status, 200);  // pooled connections to both
  b_->process->Signal(SIGKILL);
  b_->process->Wait(5s);
  for (int i = 0; i < 20; ++i) {
    auto resp = http_.Get(Base() + "/api/orders/" + std::to_string(i));
    EXPECT_EQ(resp.status, 200) << resp.body;
    EXPECT_EQ(resp.Json()["instance"], "a");
  }
}

TEST_F(GatewayTest, BreakerOpensUnderFailuresAndHalfOpensAfterTheWait) {
  a_->ToggleFailing();
  b_->ToggleFailing();
  EXPECT_EQ(http_.Get(Base() + "/api/orders/x").status, 500) << "an upstream 500 is passed through";
  // Failures open the instance breakers, then the route's: the gateway stops
  // calling and answers 503 problem+json with Retry-After.
  http::ClientResponse open;
  ASSERT_TRUE(WaitUntil([&] {
    open = http_.Get(Base() + "/api/orders/x");
    return open.status == 503;
  }, 10s, 10ms));
  EXPECT_EQ(*open.headers.Get("content-type"), "application/problem+json");
  EXPECT_TRUE(open.headers.Get("retry-after").has_value());
  auto cbs = http_.Get(Base() + "/actuator/circuitbreakers").Json()["circuitBreakers"];
  int open_breakers = 0;
  for (auto& [name, cb] : cbs.items()) open_breakers += cb["state"] == "OPEN";
  EXPECT_GE(open_breakers, 2) << cbs.dump();
  a_->ToggleFailing();
  b_->ToggleFailing();
  // after the 1 s open wait a trial call goes through and closes it
  ASSERT_TRUE(WaitUntil([&] { return http_.Get(Base() + "/api/orders/x").status == 200; }, 10s));
  EXPECT_EQ(http_.Get(Base() + "/actuator/circuitbreakers").Json()["circuitBreakers"]["orders"]["state"], "CLOSED");
  EXPECT_NE(http_.Get(Base() + "/actuator/prometheus").body.find("resilience4j_circuitbreaker_state{application=\"api-gateway\",name=\"orders\",state=\"closed\"} 1"),
            std::string::npos);
}

TEST_F(GatewayTest, RateLimitPerClientIs429WithRetryAfter) {
  for (int i = 0; i < 3; ++i) EXPECT_EQ(http_.Get(Base() + "/limited/1").status, 200);
  auto limited = http_.Get(Base() + "/limited/1");
  EXPECT_EQ(limited.status, 429);
  EXPECT_EQ(*limited.headers.Get("content-type"), "application/problem+json");
  EXPECT_GE(std::stoi(*limited.headers.Get("retry-after")), 1);
  http::ClientRequest other{"GET", Base() + "/limited/1", {}, {}, {}};
  other.headers.Set("X-Api-Key", "another-client");
  EXPECT_EQ(http_.Send(other).status, 429) << "a header the client chooses is not a new budget (the token's subject is)";
}

TEST_F(GatewayTest, TimeoutIs504AndBadRequestsAreProblems) {
  auto slow = http_.Get(Base() + "/slow");
  EXPECT_EQ(slow.status, 504);
  EXPECT_EQ(*slow.headers.Get("content-type"), "application/problem+json");
  EXPECT_EQ(http_.Get(Base() + "/nowhere").status, 404);
  auto big = http_.Send({"POST", Base() + "/api/orders", {}, std::string((1 << 20) + 10, 'x'), {}});
  EXPECT_EQ(big.status, 413);
  http::ClientRequest huge_headers{"GET", Base() + "/api/orders/1", {}, {}, {}};
  huge_headers.headers.Set("X-Big", std::string(40 * 1024, 'h'));
  EXPECT_EQ(http_.Send(huge_headers).status, 431);
  auto post = http_.PostJson(Base() + "/api/orders", {{"a", 1}});
  EXPECT_EQ(post.status, 200);
  EXPECT_EQ(post.Json()["body"], "{\"a\":1}");
}

TEST_F(GatewayTest, ExposesRequestMetricsByRouteTemplate) {
  http_.Get(Base() + "/api/orders/1");
  auto text = http_.Get(Base() + "/actuator/prometheus").body;
  EXPECT_NE(text.find("http_server_requests_seconds_count{application=\"api-gateway\",exception=\"None\",method=\"GET\",outcome=\"SUCCESS\",status=\"200\",uri=\"/api/orders/**\"}"),
            std::string::npos) << text;
  EXPECT_NE(text.find("gateway_upstream_requests_seconds_count{application=\"api-gateway\",outcome=\"200\",route=\"orders\"}"), std::string::npos);
}

// Given a certificate and key (Spring Boot's server.ssl.* names), the gateway
// serves HTTPS and tells the upstream so (X-Forwarded-Proto: https).
TEST(GatewayTlsTest, ServesHttpsWhenGivenACertificateAndKey) {
  Upstream a("a");
  const std::string dir = testing::MakeTempDir("gwtls");
  auto certs = testing::MakeTestCertificates(dir + "/certs");  // file paths
  const uint16_t port = testing::FreePort();
  std::ofstream(dir + "/gw.yaml") << "server: {port: " << port << ", host: 127.0.0.1, access-log: false}\n"
      << "server.ssl.certificate: " << certs.server_cert << "\n"
      << "server.ssl.certificate-private-key: " << certs.server_key << "\n"
      << "discovery:\n  static:\n    order-service: [" << a.Url() << "]\n"
      << "gateway:\n  routes:\n    - {id: orders, path: /api/orders/**, uri: lb://order-service}\n"
      << "  access:\n    - {path: /**, access: public}\n";
  testing::Process gw({{testing::Runfile("gateway/api-gateway"), "--config", dir + "/gw.yaml"}, {}, dir + "/gw.log"});
  gw.Start();
  http::ClientOptions co;
  co.ca_file = certs.ca;
  http::HttpClient https(co);
  const std::string base = "https://127.0.0.1:" + std::to_string(port);
  ASSERT_TRUE(WaitUntil([&] { return https.Get(base + "/actuator/health/readiness").status == 200 || !gw.Running(); }, 30s))
      << gw.Output();
  auto r = https.Get(base + "/api/orders/7");
  ASSERT_EQ(r.status, 200) << r.error_message << gw.Output();
  EXPECT_EQ(r.Json()["path"], "/api/orders/7");
  EXPECT_EQ(r.Json()["headers"]["x-forwarded-proto"], "https");
  EXPECT_FALSE(http::HttpClient().Get("http://127.0.0.1:" + std::to_string(port) + "/api/orders/7").ok())
      << "no plain HTTP on the TLS port";
  // The container health check (--health-check) probes itself over HTTPS.
  testing::Process probe({{testing::Runfile("gateway/api-gateway"), "--config", dir + "/gw.yaml", "--health-check"}, {},
                          dir + "/probe.log"});
  probe.Start();
  EXPECT_EQ(probe.Wait(30s), 0) << probe.Output();
  gw.Stop(10s);

  // Half the pair is a configuration error at start, naming the keys.
  std::ofstream(dir + "/half.yaml") << "server: {port: " << testing::FreePort() << ", host: 127.0.0.1}\n"
                                    << "server.ssl.certificate: " << certs.server_cert << "\n";
  testing::Process half({{testing::Runfile("gateway/api-gateway"), "--config", dir + "/half.yaml"}, {}, dir + "/half.log"});
  half.Start();
  EXPECT_EQ(half.Wait(30s), 2) << half.Output();
  EXPECT_NE(half.Output().find("server.ssl.certificate-private-key"), std::string::npos) << half.Output();
  testing::RemoveTree(dir);
}

}  // namespace
}  // namespace op
