// The server and the client against each other over real loopback TCP, on
// every engine (Asio's own behaviour: asio_engine_test.cc).
#include "runtime/http/server_test_fixture.h"

namespace op::http {
namespace {

TEST_P(ServerTest, RoutesWithParamsQueryAndCorrelationHeaders) {
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

TEST_P(ServerTest, KeepAliveReusesTheConnection) {
  auto first = client.Get(base + "/hello/a");
  auto second = client.Get(base + "/hello/b");
  ASSERT_TRUE(first.ok() && second.ok());
  EXPECT_FALSE(first.reused_connection);
  EXPECT_TRUE(second.reused_connection);
}

TEST_P(ServerTest, BadInputGetsProblemJson) {
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

TEST_P(ServerTest, AHeaderValueWithCrLfCannotAddAHeader) {
  Raw raw(server->Port());
  raw.Send("GET /inject HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  std::string got = raw.ReadToClose();
  EXPECT_EQ(got.substr(0, 12), "HTTP/1.1 200") << got;
  EXPECT_EQ(got.find("\r\nInjected:"), std::string::npos) << got;
  EXPECT_NE(got.find("a  Injected: yes\r\n"), std::string::npos) << got;
}

TEST_P(ServerTest, RequestMetricsUseTheRouteTemplate) {
  client.Get(base + "/hello/one");
  client.Get(base + "/hello/two");
  client.Get(base + "/nope");
  std::string text = metrics.Scrape();
  EXPECT_NE(text.find("http_server_requests_seconds_count{exception=\"None\",method=\"GET\",outcome=\"SUCCESS\",status=\"200\",uri=\"/hello/{name}\"} 2"),
            std::string::npos) << text;
  EXPECT_NE(text.find("uri=\"NOT_FOUND\""), std::string::npos) << text;
  EXPECT_EQ(text.find("/hello/one"), std::string::npos) << "raw paths must not become labels";
  // Micrometer's Timer shape: a _max gauge beside the histogram, and the
  // handler's exception class as a label.
  EXPECT_NE(text.find("# TYPE http_server_requests_seconds_max gauge"), std::string::npos) << text;
  EXPECT_NE(text.find("http_server_requests_seconds_max{exception=\"None\",method=\"GET\",outcome=\"SUCCESS\",status=\"200\",uri=\"/hello/{name}\"} "),
            std::string::npos) << text;
  EXPECT_EQ(client.Get(base + "/boom").status, 500);
  text = metrics.Scrape();
  EXPECT_NE(text.find("http_server_requests_seconds_count{exception=\"runtime_error\",method=\"GET\",outcome=\"SERVER_ERROR\",status=\"500\",uri=\"/boom\"} 1"),
            std::string::npos) << text;
}

TEST_P(ServerTest, ClientTimeoutsAndConnectErrorsAreReported) {
  auto fut = std::async(std::launch::async, [&] { return client.Send({"GET", base + "/slow", {}, {}, 50ms}); });
  auto resp = fut.get();
  EXPECT_EQ(resp.error, ClientResponse::Error::kTimeout) << resp.error_message;
  HttpClient other;
  auto refused = other.Get("http://127.0.0.1:1/");
  EXPECT_EQ(refused.error, ClientResponse::Error::kConnect);
  EXPECT_NE(refused.error_message.find("127.0.0.1:1"), std::string::npos);
}

TEST_P(ServerTest, AsynchronousHandlersAnswerLaterWithIdsMetricsAndErrors) {
  ClientRequest req{"GET", base + "/async/7", {}, {}, {}};
  req.headers.Set("X-Request-Id", "async-1");
  for (int i = 0; i < 3; ++i) {
    auto r = client.Send(req);
    ASSERT_TRUE(r.ok()) << r.error_message;
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.Json()["n"], "7");
    EXPECT_EQ(r.Json()["requestId"], "async-1") << "the handler sees the request's ids";
    EXPECT_EQ(r.headers.Get("x-request-id"), "async-1");
    EXPECT_TRUE(i == 0 || r.reused_connection) << "the connection stays usable after an asynchronous answer";
  }
  auto conflict = client.Get(base + "/async-conflict");
  EXPECT_EQ(conflict.status, 409);
  EXPECT_EQ(conflict.headers.Get("content-type"), "application/problem+json");
  auto boom = client.Get(base + "/async-boom");
  EXPECT_EQ(boom.status, 500);
  EXPECT_EQ(boom.body.find("secret detail"), std::string::npos) << "internals must not leak";
  std::string text = metrics.Scrape();
  EXPECT_NE(text.find("http_server_requests_seconds_count{exception=\"None\",method=\"GET\",outcome=\"SUCCESS\",status=\"200\",uri=\"/async/{n}\"} 3"),
            std::string::npos) << text;
  EXPECT_NE(text.find("status=\"409\",uri=\"/async-conflict\"} 1"), std::string::npos) << text;
  // in flight until the write completes, just after the client has its answer
  auto deadline = std::chrono::steady_clock::now() + 5s;
  while (server->InFlight() != 0 && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(1ms);
  EXPECT_EQ(server->InFlight(), 0) << "every asynchronous answer ended its request";
}

TEST_P(ServerTest, AnAsynchronousHandlerHoldsNoThread) {
  // Six requests wait at once on a server with two threads: each handler
  // returned without its answer, so the threads took the next request. The
  // last to arrive answers all six from its thread, which on Pistache is
  // not the reactor thread of every connection.
  std::vector<std::future<ClientResponse>> calls;
  for (size_t i = 0; i < kGather; ++i)
    calls.push_back(std::async(std::launch::async, [&] { return HttpClient().Send({"GET", base + "/gather", {}, {}, 10s}); }));
  for (auto& c : calls) {
    auto r = c.get();
    EXPECT_EQ(r.status, 200) << r.error_message;
    EXPECT_EQ(r.body, "together");
  }
}

TEST_P(ServerTest, SaysWhetherEachLoopIsRunByOneThread) {
  // Pistache's loop has one thread of its own; two Asio threads share one
  // loop unless each runs its own. AsyncClients on them skip strands or not.
  const bool one = GetParam().kind == ServerEngineKind::kPistache || GetParam().loop_per_thread;
  EXPECT_EQ(server->OneThreadPerLoop(), one);
  // and either way an upstream call from a handler comes back to it
  auto r = client.Get(base + "/via-client");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(nlohmann::json::parse(r.body)["status"], 200);
}

TEST_P(ServerTest, ShutdownDrainsInFlightRequests) {
  auto fut = std::async(std::launch::async, [&] { return client.Get(base + "/slow"); });
  slow_started.get_future().wait();
  EXPECT_EQ(server->InFlight(), 1);
  EXPECT_TRUE(server->Shutdown(5s));
  auto resp = fut.get();
  EXPECT_EQ(resp.status, 200);
  EXPECT_EQ(resp.body, "done");
}

// Raw bytes over a socket: what a client sends that HttpClient never would.

TEST_P(ServerTest, PastMaxConnectionsANewConnectionIsClosedAtOnceAndCounted) {
  auto router = std::make_shared<Router>();
  router->Get("/x", Access::Public(), [](Request&) { return Response::Text(200, "x"); });
  ServerOptions o;
  o.host = "127.0.0.1";
  o.engine = GetParam().kind;
  o.threads = 2;
  o.loop_per_thread = GetParam().loop_per_thread;
  o.access_log = false;
  o.max_connections = 2;
  metrics::MetricsRegistry m;
  HttpServer limited(o, router, &m);
  limited.Start();
  {
    Raw a(limited.Port()), b(limited.Port());
    a.Send("GET /x HTTP/1.1\r\nHost: x\r\n\r\n");
    b.Send("GET /x HTTP/1.1\r\nHost: x\r\n\r\n");
    EXPECT_NE(a.ReadUntil("\r\n\r\nx").find("200"), std::string::npos);
    EXPECT_NE(b.ReadUntil("\r\n\r\nx").find("200"), std::string::npos) << "both held open now";
    Raw third(limited.Port());
    EXPECT_EQ(third.ReadToClose(), "") << "the third is closed without a word";
    EXPECT_TRUE(third.closed());
    EXPECT_NE(m.Scrape().find("http_server_connections_refused_total 1"), std::string::npos);
  }
  // Once those are gone there is room again (the server notices the closes).
  bool served = false;
  for (int i = 0; i < 100 && !served; ++i) {  // polls until the server has seen the two closes
    HttpClient fresh;
    served = fresh.Send({"GET", "http://127.0.0.1:" + std::to_string(limited.Port()) + "/x", {}, {}, 1s}).status == 200;
    if (!served) std::this_thread::sleep_for(20ms);  // the poll's pace
  }
  EXPECT_TRUE(served);
  limited.Shutdown();
}

INSTANTIATE_TEST_SUITE_P(Engines, ServerTest, ::testing::Values(kPistache, kAsio, kAsioLoops),
                         [](const auto& info) { return std::string(info.param.name); });

}  // namespace
}  // namespace op::http
