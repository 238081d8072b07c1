#include <boost/asio/executor_work_guard.hpp>
#include <future>
#include <thread>

#include "runtime/discovery/discovery.h"
#include "runtime/discovery/eureka_client.h"

#include <gtest/gtest.h>

#include "runtime/discovery/service_client.h"
#include "runtime/tracing/tracing.h"
#include "runtime/http/server.h"

namespace op::discovery {
namespace {

using namespace std::chrono_literals;

class FakeDiscovery : public Discovery {
 public:
  std::vector<Instance> list;
  std::vector<Instance> Instances(const std::string&) override { return list; }
};

Instance Inst(std::string id, std::string status = "UP") {
  return Instance{"inventory-service", id, "http://" + id, std::move(status), {}};
}

TEST(LoadBalancer, RoundRobinSkipsInstancesThatAreNotUp) {
  FakeDiscovery d;
  d.list = {Inst("a"), Inst("b", "DOWN"), Inst("c"), Inst("d", "OUT_OF_SERVICE")};
  LoadBalancer lb(d);
  std::map<std::string, int> hits;
  for (int i = 0; i < 100; ++i) hits[lb.Choose("inventory-service")->id]++;
  EXPECT_EQ(hits["a"], 50);
  EXPECT_EQ(hits["c"], 50);
  EXPECT_EQ(hits.count("b") + hits.count("d"), 0u);
  EXPECT_EQ(lb.Choose("inventory-service", {"a", "c"}), std::nullopt);
}

TEST(LoadBalancer, SkipsInstancesWhoseBreakerIsOpenUntilTheWaitIsOver) {
  FakeDiscovery d;
  d.list = {Inst("a"), Inst("b")};
  ManualClock clock;
  resilience::ResilienceRegistry reg(nullptr, clock);
  LoadBalancer lb(d, &reg);
  reg.GetCircuitBreaker("inventory-service@a").TransitionToOpen();
  for (int i = 0; i < 10; ++i) EXPECT_EQ(lb.Choose("inventory-service")->id, "b");
  clock.Advance(60s);  // default open wait
  std::set<std::string> seen;
  for (int i = 0; i < 10; ++i) seen.insert(lb.Choose("inventory-service")->id);
  EXPECT_EQ(seen.size(), 2u);
}

TEST(LoadBalancer, BreakersOfInstancesThatLeftAreDropped) {
  FakeDiscovery d;
  resilience::ResilienceRegistry reg(nullptr);
  LoadBalancer lb(d, &reg);
  auto names = [&] {
    std::set<std::string> n;
    auto json = reg.CircuitBreakersJson();
    for (auto& [name, _] : json["circuitBreakers"].items()) n.insert(name);
    return n;
  };
  for (int gen = 0; gen < 50; ++gen) {  // instances come and go: the registry stays at two breakers
    d.list = {Inst("a" + std::to_string(gen)), Inst("b" + std::to_string(gen))};
    for (int i = 0; i < 4; ++i) lb.Choose("inventory-service");
  }
  EXPECT_EQ(names(), (std::set<std::string>{"inventory-service@a49", "inventory-service@b49"}));
  auto held = reg.SharedCircuitBreaker("inventory-service@a49");  // a call in flight to a49
  held->TransitionToOpen();
  d.list = {Inst("b49")};
  EXPECT_EQ(lb.Choose("inventory-service")->id, "b49");
  EXPECT_EQ(names(), (std::set<std::string>{"inventory-service@b49"}));
  held->OnError(1ms);  // the caller's breaker is still valid after its removal
  d.list = {Inst("a49"), Inst("b49")};
  std::set<std::string> seen;
  for (int i = 0; i < 4; ++i) seen.insert(lb.Choose("inventory-service")->id);
  EXPECT_EQ(seen.size(), 2u) << "an instance that comes back starts with a fresh (closed) breaker";
}

TEST(LoadBalancer, LeastOutstandingPrefersTheIdleInstance) {
  FakeDiscovery d;
  d.list = {Inst("a"), Inst("b")};
  LoadBalancer lb(d, nullptr, LoadBalancer::Strategy::kLeastOutstanding);
  lb.OnStart(d.list[0]);
  lb.OnStart(d.list[0]);
  for (int i = 0; i < 5; ++i) EXPECT_EQ(lb.Choose("inventory-service")->id, "b");
}

TEST(StaticDiscovery, ReadsUrlsFromConfigAndRejectsBadOnes) {
  config::Schema s;
  StaticDiscovery::DeclareSchema(s);
  auto cfg = config::Config::Load(s, "discovery: {static: {inventory-service: ['http://127.0.0.1:8084/']}}", {});
  StaticDiscovery d(cfg);
  auto list = d.Instances("inventory-service");
  ASSERT_EQ(list.size(), 1u);
  EXPECT_EQ(list[0].base_url, "http://127.0.0.1:8084");
  EXPECT_EQ(list[0].id, "127.0.0.1:8084");
  auto bad = config::Config::Load(s, "discovery: {static: {x: ['127.0.0.1:1']}}", {});
  EXPECT_THROW(StaticDiscovery{bad}, config::ConfigError);
}

// Every ServiceClient case runs blocking (Call) and asynchronously (CallAsync
// on an io_context of its own): the two share their decisions.
class ServiceClientTest : public ::testing::TestWithParam<bool> {
 protected:
  ServiceClientTest() : guard_(io_.get_executor()), async_(io_), thread_([this] { io_.run(); }) {}
  ~ServiceClientTest() override {
    guard_.reset();
    io_.stop();
    thread_.join();
  }
  CallResult Call(ServiceClient& client, http::ClientRequest req) {
    if (!GetParam()) return client.Call("inventory-service", std::move(req));
    std::promise<CallResult> done;
    client.CallAsync("inventory-service", std::move(req), {}, async_, [&](CallResult r) { done.set_value(std::move(r)); });
    return done.get_future().get();
  }

 private:
  boost::asio::io_context io_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> guard_;
  http::AsyncClient async_;
  std::thread thread_;
};

TEST_P(ServiceClientTest, RetriesIdempotentCallsOnAnotherInstanceAndOpensBreakers) {
  auto ok_router = std::make_shared<http::Router>();
  ok_router->Get("/x", op::http::Access::Public(), [](http::Request&) { return http::Response::Text(200, "ok"); });
  auto bad_router = std::make_shared<http::Router>();
  bad_router->Get("/x", op::http::Access::Public(), [](http::Request&) { return http::Response::Text(503, "down"); });
  http::ServerOptions o;
  o.host = "127.0.0.1";
  o.threads = 1;
  o.access_log = false;
  http::HttpServer good(o, ok_router), bad(o, bad_router);
  good.Start();
  bad.Start();
  std::string g = "http://127.0.0.1:" + std::to_string(good.Port()), b = "http://127.0.0.1:" + std::to_string(bad.Port());
  StaticDiscovery d({{"inventory-service", {b, g}}});
  config::Schema schema;
  resilience::ResilienceRegistry::DeclareSchema(schema);
  auto cfg = config::Config::Load(schema, R"(
resilience:
  retry: {configs: {default: {wait-duration: 1ms}}}
  circuitbreaker: {configs: {default: {minimum-number-of-calls: 2, sliding-window-size: 2}}}
)", {});
  resilience::ResilienceRegistry reg(&cfg);
  LoadBalancer lb(d, &reg);
  http::HttpClient http;
  ServiceClient client(lb, http, reg);
  for (int i = 0; i < 6; ++i) {
    auto r = Call(client, {"GET", "/x", {}, {}, {}});
    ASSERT_TRUE(r.ok()) << r.error;
    EXPECT_EQ(r.response.body, "ok");
  }
  EXPECT_EQ(reg.GetCircuitBreaker("inventory-service@127.0.0.1:" + std::to_string(bad.Port())).State(),
            resilience::CircuitState::kOpen);
  EXPECT_EQ(reg.GetCircuitBreaker("inventory-service").State(), resilience::CircuitState::kClosed)
      << "one bad instance of two does not open the app's breaker";
  auto post = Call(client, {"POST", "/x", {}, "{}", {}});
  EXPECT_TRUE(post.ok() || post.failure == CallResult::Failure::kUpstream);  // never retried
  auto counts = reg.GetRetry("inventory-service").GetCounts();
  EXPECT_EQ(counts.successful_with_retry, 2u)
      << "two calls met the bad instance (its breaker opens after 2) and were retried on the good one";
  EXPECT_EQ(counts.successful_without_retry, 4u) << "the open breaker kept the other calls off the bad instance";
}

// A call made while serving a traced request carries the trace on, as the
// child of a client span that is reported when the call is over.
TEST(ServiceClientTracing, CallsContinueTheCurrentTraceWithAClientSpan) {
  std::mutex mu;
  std::string seen_traceparent;
  auto router = std::make_shared<http::Router>();
  router->Get("/catalog", op::http::Access::Public(), [&](http::Request& r) {
    std::lock_guard lock(mu);
    seen_traceparent = r.Header("traceparent").value_or("");
    return http::Response::Text(200, "ok");
  });
  http::ServerOptions o;
  o.host = "127.0.0.1";
  o.threads = 1;
  o.access_log = false;
  http::HttpServer upstream(o, router);
  upstream.Start();
  StaticDiscovery d({{"inventory-service", {"http://127.0.0.1:" + std::to_string(upstream.Port())}}});
  resilience::ResilienceRegistry reg(nullptr);
  LoadBalancer lb(d, &reg);
  http::HttpClient http;
  ServiceClient client(lb, http, reg);

  std::vector<nlohmann::json> reported;
  tracing::TracerOptions to{"order-service", "http://zipkin/api/v2/spans"};
  tracing::Tracer tracer(to, [&](const std::string&, const std::string& body, std::string*) {
    std::lock_guard lock(mu);
    for (auto& s : nlohmann::json::parse(body)) reported.push_back(s);
    return true;
  });
  tracing::SetGlobal(&tracer);
  const auto current = TraceParent::New();
  {
    tracing::ScopedContext scope(current);
    ASSERT_TRUE(client.Call("inventory-service", {"GET", "/catalog", {}, {}, {}}).ok());
  }
  tracer.Flush();
  tracing::SetGlobal(nullptr);
  {
    std::lock_guard lock(mu);
    // The upstream's handler sees its own server span's context, in the trace.
    auto seen = TraceParent::Parse(seen_traceparent);
    ASSERT_TRUE(seen) << "the upstream got a traceparent: '" << seen_traceparent << "'";
    EXPECT_EQ(seen->trace_id, current.trace_id);
    // The client span, and (the upstream is in this process, so it reports
    // too) the server span below it.
    nlohmann::json client_span, server_span;
    for (auto& r : reported) (r["kind"] == "CLIENT" ? client_span : server_span) = r;
    ASSERT_EQ(reported.size(), 2u);
    EXPECT_EQ(client_span["traceId"], current.trace_id);
    EXPECT_EQ(client_span["parentId"], current.span_id);
    EXPECT_NE(client_span["id"], current.span_id) << "a span of its own";
    EXPECT_EQ(client_span["remoteEndpoint"]["serviceName"], "inventory-service");
    EXPECT_EQ(client_span["tags"]["http.status_code"], "200");
    EXPECT_EQ(server_span["kind"], "SERVER");
    EXPECT_EQ(server_span["parentId"], client_span["id"]) << "the server span hangs under the client span";
    EXPECT_EQ(server_span["id"], seen->span_id);
    EXPECT_EQ(server_span["name"], "get /catalog");
    seen_traceparent.clear();
  }

  // Outside any traced work: no header is invented (the server makes a trace of its own).
  ASSERT_TRUE(client.Call("inventory-service", {"GET", "/catalog", {}, {}, {}}).ok());
  std::lock_guard lock(mu);
  auto fresh = TraceParent::Parse(seen_traceparent);
  ASSERT_TRUE(fresh);
  EXPECT_NE(fresh->trace_id, current.trace_id);
}

TEST(RecordOutcome, A5xxOrNoAnswerFailsTheBreakerA4xxDoesNot) {
  resilience::CircuitBreaker breaker("direct", resilience::CircuitBreakerConfig{});
  http::ClientResponse unavailable;
  unavailable.status = 503;
  auto r = RecordOutcome(unavailable, breaker, "http://up:1");
  EXPECT_EQ(r.failure, CallResult::Failure::kUpstream);
  EXPECT_EQ(r.error, "http://up:1 answered 503");
  EXPECT_EQ(r.response.status, 503) << "the answer is kept for passing through";
  http::ClientResponse missing;
  missing.status = 404;
  EXPECT_TRUE(RecordOutcome(missing, breaker, "http://up:1").ok()) << "the caller's problem";
  http::ClientResponse refused;
  refused.error = http::ClientResponse::Error::kConnect;
  refused.error_message = "GET http://up:1/: connection refused";
  auto f = RecordOutcome(refused, breaker, "http://up:1");
  EXPECT_EQ(f.failure, CallResult::Failure::kUpstream);
  EXPECT_EQ(f.error, refused.error_message);
  auto m = breaker.GetSnapshot();
  EXPECT_EQ(m.buffered_calls, 3);
  EXPECT_EQ(m.failed_calls, 2) << "the 503 and the refusal; the 404 was a success";
}

INSTANTIATE_TEST_SUITE_P(Modes, ServiceClientTest, ::testing::Bool(),
                         [](const auto& info) { return info.param ? "async" : "blocking"; });

}  // namespace
}  // namespace op::discovery

namespace op::discovery {
namespace {

TEST(SplitCredentials, TakesTheUserinfoOutOfARegistryUrl) {
  auto s = SplitCredentials("http://eureka:eureka-secret@registry:8761/eureka");
  EXPECT_EQ(s.url, "http://registry:8761/eureka");
  EXPECT_EQ(s.authorization, "Basic ZXVyZWthOmV1cmVrYS1zZWNyZXQ=");  // eureka:eureka-secret
  auto encoded = SplitCredentials("https://us%40r:p%3Ass@h:1/eureka");
  EXPECT_EQ(encoded.url, "https://h:1/eureka");
  EXPECT_EQ(encoded.authorization, "Basic dXNAcjpwOnNz") << "percent-decoded: us@r:p:ss";
  auto plain = SplitCredentials("http://registry:8761/eureka");
  EXPECT_EQ(plain.url, "http://registry:8761/eureka");
  EXPECT_EQ(plain.authorization, "");
  EXPECT_EQ(SplitCredentials("http://h:1/path@not-userinfo").url, "http://h:1/path@not-userinfo") << "an @ in the path is no userinfo";
}

}  // namespace
}  // namespace op::discovery
