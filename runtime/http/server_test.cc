// The server and the client against each other over real loopback TCP.
#include <gtest/gtest.h>

#include <future>
#include <thread>

#include "runtime/http/client.h"
#include "runtime/http/server.h"

namespace op::http {
namespace {

using namespace std::chrono_literals;

class ServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto router = std::make_shared<Router>();
    router->Get("/hello/{name}", [](Request& r) {
      return Response::Json(200, {{"hello", r.PathParam("name")}, {"q", r.Query("q").value_or("")},
                                  {"requestId", r.Header("x-request-id").value_or("")},
                                  {"traceparent", r.Header("traceparent").value_or("")},
                                  {"accept", r.Header("accept").value_or("")}});
    });
    router->Post("/echo", [](Request& r) { return Response::Json(201, r.JsonBody()); });
    router->Get("/boom", [](Request&) -> Response { throw std::runtime_error("secret detail"); });
    router->Get("/slow", [this](Request&) {
      slow_started.set_value();
      std::this_thread::sleep_for(300ms);  // simulates slow work, not synchronisation
      return Response::Text(200, "done");
    });
    ServerOptions opts;
    opts.host = "127.0.0.1";
    opts.threads = 2;
    opts.access_log = false;
    server = std::make_unique<HttpServer>(opts, router, &metrics);
    server->Start();
    base = "http://127.0.0.1:" + std::to_string(server->Port());
  }

  // Declared first so it is destroyed last: the server's handler threads
  // (joined when `server` is destroyed) use it.
  std::promise<void> slow_started;
  metrics::MetricsRegistry metrics;
  std::unique_ptr<HttpServer> server;
  std::string base;
  HttpClient client;
};

TEST_F(ServerTest, RoutesWithParamsQueryAndCorrelationHeaders) {
  ClientRequest req{"GET", base + "/hello/w%C3%B6rld?q=a%20b", {}, {}, {}};
  req.headers.Set("X-Request-Id", "req-123");
  req.headers.Set("Accept", "application/json");
  req.headers.Set("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
  auto resp = client.Send(req);
  ASSERT_TRUE(resp.ok()) << resp.error_message;
  EXPECT_EQ(resp.status, 200);
  auto body = resp.Json();
  EXPECT_EQ(body["hello"], "wörld");
  EXPECT_EQ(body["q"], "a b");
  EXPECT_EQ(body["requestId"], "req-123");
  EXPECT_NE(body["accept"].get<std::string>().find("application/json"), std::string::npos) << body["accept"];
  std::string tp = body["traceparent"];
  EXPECT_EQ(tp.substr(0, 36), "00-4bf92f3577b34da6a3ce929d0e0e4736-") << "same trace, new span";
  EXPECT_NE(tp, "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
  EXPECT_EQ(resp.headers.Get("x-request-id"), "req-123");
  EXPECT_EQ(resp.headers.Get("content-type"), "application/json");
}

TEST_F(ServerTest, KeepAliveReusesTheConnection) {
  auto first = client.Get(base + "/hello/a");
  auto second = client.Get(base + "/hello/b");
  ASSERT_TRUE(first.ok() && second.ok());
  EXPECT_FALSE(first.reused_connection);
  EXPECT_TRUE(second.reused_connection);
}

TEST_F(ServerTest, BadInputGetsProblemJson) {
  auto notfound = client.Get(base + "/nope");
  EXPECT_EQ(notfound.status, 404);
  EXPECT_EQ(notfound.headers.Get("content-type"), "application/problem+json");

  auto malformed = client.Send({"POST", base + "/echo", {}, "{\"a\":", {}});
  EXPECT_EQ(malformed.status, 400);
  EXPECT_EQ(malformed.Json()["errors"][0]["field"], "body");

  auto ok = client.PostJson(base + "/echo", {{"a", 1}});
  EXPECT_EQ(ok.status, 201);
  EXPECT_EQ(ok.Json()["a"], 1);

  std::string big(1 << 20, 'x');
  auto too_big = client.Send({"POST", base + "/echo", {}, "\"" + big + "\"", {}});
  EXPECT_EQ(too_big.status, 413);
  EXPECT_EQ(too_big.headers.Get("content-type"), "application/problem+json");

  auto boom = client.Get(base + "/boom");
  EXPECT_EQ(boom.status, 500);
  EXPECT_EQ(boom.body.find("secret detail"), std::string::npos) << "internals must not leak";
  EXPECT_NE(boom.body.find(*boom.headers.Get("x-request-id")), std::string::npos);
}

TEST_F(ServerTest, RequestMetricsUseTheRouteTemplate) {
  client.Get(base + "/hello/one");
  client.Get(base + "/hello/two");
  client.Get(base + "/nope");
  std::string text = metrics.Scrape();
  EXPECT_NE(text.find("http_server_requests_seconds_count{method=\"GET\",outcome=\"SUCCESS\",status=\"200\",uri=\"/hello/{name}\"} 2"),
            std::string::npos) << text;
  EXPECT_NE(text.find("uri=\"NOT_FOUND\""), std::string::npos) << text;
  EXPECT_EQ(text.find("/hello/one"), std::string::npos) << "raw paths must not become labels";
}

TEST_F(ServerTest, ClientTimeoutsAndConnectErrorsAreReported) {
  auto fut = std::async(std::launch::async, [&] { return client.Send({"GET", base + "/slow", {}, {}, 50ms}); });
  auto resp = fut.get();
  EXPECT_EQ(resp.error, ClientResponse::Error::kTimeout) << resp.error_message;
  HttpClient other;
  auto refused = other.Get("http://127.0.0.1:1/");
  EXPECT_EQ(refused.error, ClientResponse::Error::kConnect);
  EXPECT_NE(refused.error_message.find("127.0.0.1:1"), std::string::npos);
}

TEST_F(ServerTest, ShutdownDrainsInFlightRequests) {
  auto fut = std::async(std::launch::async, [&] { return client.Get(base + "/slow"); });
  slow_started.get_future().wait();
  EXPECT_EQ(server->InFlight(), 1);
  EXPECT_TRUE(server->Shutdown(5s));
  auto resp = fut.get();
  EXPECT_EQ(resp.status, 200);
  EXPECT_EQ(resp.body, "done");
}

}  // namespace
}  // namespace op::http
