// The service lifecycle as a user sees it: a real binary against a real
// MariaDB and the dev broker, started, used, stopped by SIGTERM; and the ways
// start-up refuses to continue.
#include <gtest/gtest.h>
#include <signal.h>

#include <nlohmann/json.hpp>

#include <fstream>
#include <mutex>
#include <optional>
#include <sstream>

#include "runtime/http/client.h"
#include "runtime/http/server.h"
#include "runtime/kafka/consumer.h"
#include "runtime/kafka/producer.h"
#include "testing/fixtures/devbroker.h"
#include "testing/fixtures/mariadb.h"

namespace op {
namespace {

using namespace std::chrono_literals;
using testing::Process;
using testing::WaitUntil;

class ServiceTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    db_ = new testing::MariaDbServer();
    db_->Start();
    kafka_ = new testing::DevBroker();
    kafka_->Start();
  }
  static void TearDownTestSuite() {
    delete kafka_;
    delete db_;
  }
  std::map<std::string, std::string> Env(uint16_t port, const std::string& database) {
    return {{"SERVER_PORT", std::to_string(port)},
            {"MYSQL_PORT", std::to_string(db_->Port())},
            {"MYSQL_USER", db_->User()},
            {"MYSQL_PASSWORD", db_->Password()},
            {"MYSQL_DATABASE", database},
            {"MYSQL_CREATE_DATABASE", "true"},
            {"KAFKA_BOOTSTRAP_SERVERS", kafka_->Bootstrap()},
            {"SERVER_ACCESS_LOG", "false"}};
  }
  std::unique_ptr<Process> Launch(std::map<std::string, std::string> env, std::vector<std::string> args = {}) {
    Process::Options o;
    o.argv = {testing::Runfile("runtime/service/demo_service")};
    for (auto& a : args) o.argv.push_back(a);
    o.env = std::move(env);
    o.output_file = testing::MakeTempDir("svc") + "/out.log";
    auto p = std::make_unique<Process>(o);
    p->Start();
    return p;
  }
  static testing::MariaDbServer* db_;
  static testing::DevBroker* kafka_;
  http::HttpClient client_;
};
testing::MariaDbServer* ServiceTest::db_ = nullptr;
testing::DevBroker* ServiceTest::kafka_ = nullptr;

TEST_F(ServiceTest, StartsServesEventsEndToEndAndDrainsOnSigterm) {
  uint16_t port = testing::FreePort();
  auto svc = Launch(Env(port, "demo_e2e"));
  std::string base = "http://127.0.0.1:" + std::to_string(port);
  ASSERT_TRUE(testing::WaitForHttp(base + "/actuator/health/readiness", 200, 60s, svc.get())) << svc->Output();

  http::ClientRequest post{"POST", base + "/notes", {}, R"({"text":"hello"})", {}};
  post.headers.Set("Content-Type", "application/json");
  post.headers.Set("Idempotency-Key", "note-1");
  auto created = client_.Send(post);
  ASSERT_EQ(created.status, 201) << created.body;
  std::string id = created.Json()["id"];
  EXPECT_EQ(client_.Send(post).Json()["id"], id) << "Idempotency-Key replays";

  // The note's own event comes back through Kafka and is applied once.
  ASSERT_TRUE(WaitUntil([&] { return client_.Get(base + "/notes/" + id).Json().value("seen", 0) == 1; }, 30s))
      << client_.Get(base + "/notes/" + id).body;

  // Lines logged while an event is handled carry its ids (the runtime's log context).
  ASSERT_TRUE(WaitUntil([&] { return svc->Output().find("\"msg\":\"note seen\"") != std::string::npos; }, 10s));
  {
    std::istringstream lines(svc->Output());
    nlohmann::json seen;
    for (std::string line; std::getline(lines, line);)
      if (line.find("\"msg\":\"note seen\"") != std::string::npos) seen = nlohmann::json::parse(line);
    EXPECT_EQ(seen["orderId"], id) << seen;
    EXPECT_FALSE(seen.value("eventId", "").empty()) << seen;
    EXPECT_FALSE(seen.value("eventType", "").empty()) << seen;
    EXPECT_EQ(seen["consumerGroup"], "demo-service") << seen;
  }

  auto health = client_.Get(base + "/actuator/health").Json();
  EXPECT_EQ(health["status"], "UP");
  EXPECT_EQ(health["components"]["db"]["status"], "UP");
  EXPECT_EQ(health["components"]["kafka"]["status"], "UP");
  EXPECT_EQ(health["components"]["consumers"]["status"], "UP");
  // Polled: the consumer counts a record after its transaction committed,
  // so the effect can be visible a moment before the count.
  std::string metrics;
  for (const char* name : {"http_server_requests_seconds_bucket", "outbox_records_published_total{application=\"demo-service\"} 1",
                           "kafka_consumer_records_total{application=\"demo-service\",consumergroup=\"demo-service\",result=\"processed\"} 1",
                           "hikaricp_connections_active", "process_resident_memory_bytes"})
    EXPECT_TRUE(WaitUntil([&] {
      metrics = client_.Get(base + "/actuator/prometheus").body;
      return metrics.find(name) != std::string::npos;
    }, 10s)) << name << "\n" << metrics;

  // Every series says which application it is from (Micrometer's common tag).
  {
    std::istringstream lines(client_.Get(base + "/actuator/prometheus").body);
    int samples = 0;
    for (std::string line; std::getline(lines, line);) {
      if (line.empty() || line[0] == '#') continue;
      ++samples;
      EXPECT_NE(line.find("application=\"demo-service\""), std::string::npos) << line;
    }
    EXPECT_GT(samples, 50);
  }

  auto bad = client_.Send({"POST", base + "/notes", {}, R"({"text":""})", {}});
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(bad.Json()["errors"][0]["field"], "text");
  EXPECT_EQ(client_.Get(base + "/notes/nope").status, 404);

  // A poison event (not a protobuf Envelope) goes to order.events.DLT and the
  // partition moves on: the next good note is still applied.
  kafka::ProducerOptions po;
  po.bootstrap_servers = kafka_->Bootstrap();
  kafka::Producer producer(po);
  ASSERT_TRUE(producer.SendSync({"order.events", id, "\xff\xfenot protobuf", {}}).ok);
  auto second = client_.Send({"POST", base + "/notes", {}, R"({"text":"after the poison"})", {}});
  std::string id2 = second.Json()["id"];
  ASSERT_TRUE(WaitUntil([&] { return client_.Get(base + "/notes/" + id2).Json().value("seen", 0) == 1; }, 30s));
  std::mutex mu;
  std::vector<kafka::InRecord> dead;
  kafka::ConsumerOptions co;
  co.bootstrap_servers = kafka_->Bootstrap();
  co.group_id = "dlt-reader";
  co.topics = {"order.events.DLT"};
  kafka::Consumer reader(co, [&](const kafka::InRecord& r) {
    std::lock_guard lock(mu);
    dead.push_back(r);
  }, nullptr);
  reader.Start();
  ASSERT_TRUE(WaitUntil([&] { return reader.Processed() == 1; }, 30s));
  {
    std::lock_guard lock(mu);
    EXPECT_EQ(dead[0].Header(kafka::kDltOriginalTopic), "order.events");
    EXPECT_EQ(dead[0].Header(kafka::kDltOriginalGroup), "demo-service");
    EXPECT_NE(dead[0].Header(kafka::kDltExceptionMessage).value_or("").find("not a protobuf Envelope"), std::string::npos);
  }
  EXPECT_NE(client_.Get(base + "/actuator/prometheus").body.find(
                "kafka_consumer_records_total{application=\"demo-service\",consumergroup=\"demo-service\",result=\"dead_lettered\"} 1"),
            std::string::npos);

  // --health-check (container health checks: no shell or curl in the image)
  // asks the running instance configured the same way, and exits 0.
  auto check = Launch(Env(port, "demo_e2e"), {"--health-check"});
  EXPECT_EQ(check->Wait(10s), 0) << check->Output();

  svc->Signal(SIGTERM);
  auto code = svc->Wait(30s);
  ASSERT_TRUE(code.has_value()) << "did not stop";
  EXPECT_EQ(*code, 0) << svc->Output();
  EXPECT_NE(svc->Output().find("\"msg\":\"stopped\""), std::string::npos);
  auto dead_check = Launch(Env(port, "demo_e2e"), {"--health-check"});
  EXPECT_EQ(dead_check->Wait(10s), 1) << "nothing listens any more";
}

TEST_F(ServiceTest, ConfigErrorsExitTwoNamingTheKey) {
  auto env = Env(testing::FreePort(), "demo_cfg");
  env["DEMO_MAX_TEXT"] = "5000";
  auto svc = Launch(env);
  EXPECT_EQ(svc->Wait(30s), 2);
  EXPECT_NE(svc->Output().find("key 'demo.max-text' must be at most 200"), std::string::npos) << svc->Output();

  std::string dir = testing::MakeTempDir("cfg");
  std::ofstream(dir + "/bad.yaml") << "server:\n  prot: 1\n";
  auto svc2 = Launch(Env(testing::FreePort(), "demo_cfg"), {"--config", dir + "/bad.yaml"});
  EXPECT_EQ(svc2->Wait(30s), 2);
  EXPECT_NE(svc2->Output().find("unknown key 'server.prot' (did you mean 'server.port'?)"), std::string::npos)
      << svc2->Output();

  env = Env(testing::FreePort(), "demo_cfg");
  env["SERVER_ENGINE"] = "nginx";
  auto svc3 = Launch(env);
  EXPECT_EQ(svc3->Wait(30s), 2);
  EXPECT_NE(svc3->Output().find("key 'server.engine' must be pistache or asio: got 'nginx'"), std::string::npos)
      << svc3->Output();

  env = Env(testing::FreePort(), "demo_cfg");
  env["SERVER_LOOP_PER_THREAD"] = "true";
  auto svc4 = Launch(env);
  EXPECT_EQ(svc4->Wait(30s), 2);
  EXPECT_NE(svc4->Output().find("key 'server.loop-per-thread' cannot be true"), std::string::npos) << svc4->Output();
}

TEST_F(ServiceTest, KafkaLostMidRunIsLoggedReportedDownAndStillStopsCleanly) {
  testing::DevBroker own;  // this test's alone: it is stopped below
  own.Start();
  const uint16_t port = testing::FreePort();
  auto env = Env(port, "demo_lost_kafka");
  env["KAFKA_BOOTSTRAP_SERVERS"] = own.Bootstrap();
  auto svc = Launch(env);
  const std::string base = "http://127.0.0.1:" + std::to_string(port);
  ASSERT_TRUE(testing::WaitForHttp(base + "/actuator/health/readiness", 200, 60s, svc.get())) << svc->Output();

  own.Stop();
  ASSERT_TRUE(WaitUntil([&] { return client_.Get(base + "/actuator/health/readiness").status == 503; }, 60s, 200ms))
      << client_.Get(base + "/actuator/health").body;
  auto health = client_.Get(base + "/actuator/health").Json();
  EXPECT_EQ(health["components"]["kafka"]["status"], "DOWN") << health;
  EXPECT_NE(health["components"]["kafka"]["details"].value("error", "").find(own.Bootstrap()), std::string::npos)
      << "the error names the brokers it tried: " << health;
  EXPECT_EQ(client_.Get(base + "/actuator/health/liveness").status, 200) << "a restart would not bring Kafka back";
  EXPECT_TRUE(WaitUntil([&] { return svc->Output().find("Kafka unreachable: every broker is down") != std::string::npos; },
                        30s, 200ms))
      << svc->Output();

  // Writes still land: the event waits in the outbox for the broker.
  http::ClientRequest post{"POST", base + "/notes", {}, R"({"text":"while Kafka is away"})", {}};
  post.headers.Set("Content-Type", "application/json");
  EXPECT_EQ(client_.Send(post).status, 201);

  // And a stop does not hang on the missing broker.
  svc->Signal(SIGTERM);
  EXPECT_EQ(svc->Wait(45s), 0) << svc->Output();
}

// Spans of served requests reach Zipkin's v2 API (an in-process collector
// here; the real Zipkin server is in the end-to-end tracing test), joined to
// the caller's trace; a broken traceparent starts a new trace, and a Zipkin
// that is gone costs the requests nothing.
TEST_F(ServiceTest, ServerSpansGoToZipkinJoinedToTheCallersTrace) {
  std::mutex mu;
  std::vector<nlohmann::json> spans;
  auto router = std::make_shared<http::Router>();
  std::string authorization;
  router->Post("/api/v2/spans", http::Access::Public(), [&](http::Request& r) {
    auto batch = nlohmann::json::parse(r.body);
    std::lock_guard lock(mu);
    authorization = r.Header("authorization").value_or("");
    for (auto& s : batch) spans.push_back(s);
    return http::Response::Empty(202);
  });
  http::ServerOptions so;
  so.host = "127.0.0.1";
  so.access_log = false;
  auto zipkin = std::make_unique<http::HttpServer>(so, router);
  zipkin->Start();
  // Credentials in the URL go as HTTP Basic (and never into a log line).
  const std::string endpoint = "http://zipkin:s3cret@127.0.0.1:" + std::to_string(zipkin->Port()) + "/api/v2/spans";

  const uint16_t port = testing::FreePort();
  auto env = Env(port, "demo_tracing");
  env["TRACING_ZIPKIN_ENDPOINT"] = endpoint;
  auto svc = Launch(env);
  const std::string base = "http://127.0.0.1:" + std::to_string(port);
  ASSERT_TRUE(testing::WaitForHttp(base + "/actuator/health/readiness", 200, 60s, svc.get())) << svc->Output();

  const std::string trace = "4bf92f3577b34da6a3ce929d0e0e4736", caller = "00f067aa0ba902b7";
  http::ClientRequest post{"POST", base + "/notes", {}, R"({"text":"traced"})", {}};
  post.headers.Set("Content-Type", "application/json");
  post.headers.Set("traceparent", "00-" + trace + "-" + caller + "-01");
  ASSERT_EQ(client_.Send(post).status, 201);
  auto find = [&](const std::string& name) -> std::optional<nlohmann::json> {
    std::lock_guard lock(mu);
    for (auto& s : spans)
      if (s["name"] == name && s["traceId"] == trace) return s;
    return std::nullopt;
  };
  ASSERT_TRUE(WaitUntil([&] { return find("post /notes").has_value(); }, 10s)) << "flushed within the reporter's second";
  auto span = *find("post /notes");
  {
    std::lock_guard lock(mu);
    EXPECT_EQ(authorization, "Basic emlwa2luOnMzY3JldA==");  // zipkin:s3cret
  }
  EXPECT_EQ(span["parentId"], caller) << "a child of the caller's span";
  EXPECT_EQ(span["kind"], "SERVER");
  EXPECT_EQ(span["localEndpoint"]["serviceName"], "demo-service");
  EXPECT_EQ(span["tags"]["http.status_code"], "201");
  EXPECT_GT(span["duration"].get<int64_t>(), 0);

  // A malformed traceparent: answered, and a new trace of its own.
  post.headers.Set("traceparent", "00-not-a-trace-01");
  EXPECT_EQ(client_.Send(post).status, 201);
  // Not sampled by the caller (flags 00): no span at all.
  const std::string quiet = "11111111111111111111111111111111";
  post.headers.Set("traceparent", "00-" + quiet + "-" + caller + "-00");
  EXPECT_EQ(client_.Send(post).status, 201);

  // Zipkin gone: requests do not notice; the spans are dropped and counted.
  zipkin.reset();
  for (int i = 0; i < 5; ++i) EXPECT_EQ(client_.Get(base + "/actuator/health/liveness").status, 200);
  EXPECT_TRUE(WaitUntil([&] {
    auto m = client_.Get(base + "/actuator/prometheus").body;
    auto at = m.find("zipkin_reporter_spans_dropped_total{");
    return at != std::string::npos && m.compare(m.find("} ", at) + 2, 2, "0\n") != 0;
  }, 15s)) << client_.Get(base + "/actuator/prometheus").body.substr(0, 200);
  std::lock_guard lock(mu);
  for (auto& s : spans) EXPECT_NE(s["traceId"], quiet) << "an unsampled trace sends nothing";
  svc->Signal(SIGTERM);
  EXPECT_EQ(svc->Wait(30s), 0) << svc->Output();
  EXPECT_EQ(svc->Output().find("s3cret"), std::string::npos) << "the password is never logged";
}

TEST_F(ServiceTest, UnreachableDependenciesAndBusyPortExitOneWithAReason) {
  auto env = Env(testing::FreePort(), "demo_deps");
  env["MYSQL_PORT"] = std::to_string(testing::FreePort());
  env["MYSQL_STARTUP_TIMEOUT"] = "1s";
  auto no_db = Launch(env);
  EXPECT_EQ(no_db->Wait(30s), 1);
  EXPECT_NE(no_db->Output().find("cannot reach the database"), std::string::npos) << no_db->Output();

  env = Env(testing::FreePort(), "demo_deps");
  env["KAFKA_BOOTSTRAP_SERVERS"] = "127.0.0.1:" + std::to_string(testing::FreePort());
  env["KAFKA_STARTUP_TIMEOUT"] = "1s";
  auto no_kafka = Launch(env);
  EXPECT_EQ(no_kafka->Wait(30s), 1);
  EXPECT_NE(no_kafka->Output().find("cannot reach Kafka"), std::string::npos) << no_kafka->Output();

  auto busy = Launch(Env(db_->Port(), "demo_deps"));  // MariaDB already listens there
  EXPECT_EQ(busy->Wait(30s), 1);
  EXPECT_NE(busy->Output().find("cannot listen on"), std::string::npos) << busy->Output();

  env = Env(db_->Port(), "demo_deps");
  env["SERVER_ENGINE"] = "asio";
  auto busy_asio = Launch(env);
  EXPECT_EQ(busy_asio->Wait(30s), 1);
  EXPECT_NE(busy_asio->Output().find("cannot listen on"), std::string::npos) << busy_asio->Output();
}

}  // namespace
}  // namespace op
