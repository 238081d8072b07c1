// The server and the client against each other over real loopback TCP.
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/asio/steady_timer.hpp>
#include <future>
#include <mutex>
#include <set>
#include <sstream>
#include <thread>

#include "runtime/http/async_client.h"
#include "runtime/http/client.h"
#include "runtime/http/server.h"

namespace op::http {
namespace {

using namespace std::chrono_literals;

// An engine, and for Asio whether each thread runs a loop of its own.
struct Engine {
  ServerEngineKind kind;
  bool loop_per_thread;
  const char* name;
};
const Engine kPistache{ServerEngineKind::kPistache, false, "pistache"};
const Engine kAsio{ServerEngineKind::kAsio, false, "asio"};
const Engine kAsioLoops{ServerEngineKind::kAsio, true, "asio_loop_per_thread"};

std::string ThisThread() {
  std::ostringstream id;
  id << std::this_thread::get_id();
  return id.str();
}

class ServerTest : public ::testing::TestWithParam<Engine> {
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
    router->Get("/head", [](Request&) { return Response::Text(200, "twelve bytes"); });
    router->Get("/boom", [](Request&) -> Response { throw std::runtime_error("secret detail"); });
    router->Get("/inject", [](Request&) {
      auto r = Response::Text(200, "ok");
      r.headers.Set("X-Note", "a\r\nInjected: yes");
      return r;
    });
    router->Get("/nothing", [](Request&) { return Response::Empty(204); });
    router->Get("/slow", [this](Request&) {
      slow_started.set_value();
      std::this_thread::sleep_for(300ms);  // simulates slow work, not synchronisation
      return Response::Text(200, "done");
    });
    // Asynchronous: the answer comes later, from a timer on the server's loop.
    router->AddAsync("GET", "/async/{n}", [this](Request& r, Respond respond) {
      auto timer = std::make_shared<boost::asio::steady_timer>(server->io_context(), 2ms);
      timer->async_wait([timer, respond, n = r.PathParam("n"), id = r.Header("x-request-id").value_or("")](auto) {
        respond(Response::Json(200, {{"n", n}, {"requestId", id}}));
      });
    });
    router->AddAsync("GET", "/async-conflict", [](Request&, Respond) { throw HttpError(409, "taken"); });
    router->AddAsync("GET", "/async-boom", [](Request&, Respond) { throw std::runtime_error("secret detail"); });
    // Answers nobody until kGather requests wait, then everyone.
    router->AddAsync("GET", "/gather", [this](Request&, Respond respond) {
      std::lock_guard lock(gather_mu);
      gathered.push_back(std::move(respond));
      if (gathered.size() < kGather) return;
      for (auto& r : gathered) r(Response::Text(200, "together"));
      gathered.clear();
    });
    router->Get("/thread", [](Request&) { return Response::Text(200, ThisThread()); });
    // Calls /thread on this same server through an AsyncClient on its loops;
    // answers where the handler and the upstream answer ran.
    router->AddAsync("GET", "/via-client", [this](Request&, Respond respond) {
      async_client->Send({"GET", base + "/thread", {}, {}, 5s}, [respond, handler = ThisThread()](ClientResponse r) {
        respond(Response::Json(200, {{"handler", handler}, {"upstreamDone", ThisThread()}, {"status", r.status}}));
      });
    });
    ServerOptions opts;
    opts.host = "127.0.0.1";
    opts.threads = 2;
    opts.access_log = false;
    opts.engine = GetParam().kind;
    opts.loop_per_thread = GetParam().loop_per_thread;
    opts.header_timeout = 1500ms;
    server = std::make_unique<HttpServer>(opts, router, &metrics);
    async_client = std::make_unique<AsyncClient>(server->loops(), ClientOptions{}, server->OneThreadPerLoop());
    server->Start();
    base = "http://127.0.0.1:" + std::to_string(server->Port());
  }

  // Declared first so it is destroyed last: the server's handler threads
  // (joined when `server` is destroyed) use it.
  std::promise<void> slow_started;
  static constexpr size_t kGather = 6;
  std::mutex gather_mu;
  std::vector<Respond> gathered;
  metrics::MetricsRegistry metrics;
  std::unique_ptr<HttpServer> server;
  std::unique_ptr<AsyncClient> async_client;  // destroyed before the server's loops
  std::string base;
  HttpClient client;
};

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

TEST_P(ServerTest, RequestMetricsUseTheRouteTemplate) {
  client.Get(base + "/hello/one");
  client.Get(base + "/hello/two");
  client.Get(base + "/nope");
  std::string text = metrics.Scrape();
  EXPECT_NE(text.find("http_server_requests_seconds_count{method=\"GET\",outcome=\"SUCCESS\",status=\"200\",uri=\"/hello/{name}\"} 2"),
            std::string::npos) << text;
  EXPECT_NE(text.find("uri=\"NOT_FOUND\""), std::string::npos) << text;
  EXPECT_EQ(text.find("/hello/one"), std::string::npos) << "raw paths must not become labels";
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
  EXPECT_NE(text.find("http_server_requests_seconds_count{method=\"GET\",outcome=\"SUCCESS\",status=\"200\",uri=\"/async/{n}\"} 3"),
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
class Raw {
 public:
  explicit Raw(uint16_t port) {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    timeval tv{5, 0};
    setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    EXPECT_EQ(connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  }
  ~Raw() { close(fd_); }
  void Send(const std::string& s) { ASSERT_EQ(send(fd_, s.data(), s.size(), MSG_NOSIGNAL), ssize_t(s.size())); }
  // Reads until `needle` has been seen `times` times, the peer closes, or 5 s pass.
  std::string ReadUntil(const std::string& needle, int times = 1) {
    while (Count(needle) < times) {
      char buf[4096];
      ssize_t n = recv(fd_, buf, sizeof buf, 0);
      if (n <= 0) {
        closed_ = n == 0;
        break;
      }
      got_.append(buf, size_t(n));
    }
    return got_;
  }
  std::string ReadToClose() {
    ReadUntil("\x01never\x01");
    return got_;
  }
  bool closed() const { return closed_; }

 private:
  int Count(const std::string& needle) const {
    int c = 0;
    for (size_t p = got_.find(needle); p != std::string::npos; p = got_.find(needle, p + 1)) ++c;
    return c;
  }
  int fd_;
  std::string got_;
  bool closed_ = false;
};

// What the Asio engine does and Pistache 0.0.5 does not (measured with these
// same tests): answer pipelined requests (Pistache drops the second), give HEAD
// the GET's Content-Length, close after an HTTP/1.0 answer, answer malformed
// and oversized requests with problem+json, 100-continue, 408 on a half-sent
// request, and a blocked handler holding only its own connection.
class AsioServerTest : public ServerTest {};

TEST_P(AsioServerTest, PipelinedRequestsAreAnsweredInOrder) {
  Raw raw(server->Port());
  raw.Send("GET /hello/one HTTP/1.1\r\nHost: x\r\n\r\nGET /hello/two HTTP/1.1\r\nHost: x\r\n\r\n");
  std::string got = raw.ReadUntil("HTTP/1.1 200", 2);
  auto one = got.find("\"hello\":\"one\""), two = got.find("\"hello\":\"two\"");
  ASSERT_NE(one, std::string::npos) << got;
  ASSERT_NE(two, std::string::npos) << got;
  EXPECT_LT(one, two);
}

TEST_P(AsioServerTest, HeadAnswersTheLengthWithoutABody) {
  Raw raw(server->Port());
  raw.Send("HEAD /head HTTP/1.1\r\nHost: x\r\n\r\nGET /head HTTP/1.1\r\nHost: x\r\n\r\n");
  std::string got = raw.ReadUntil("twelve bytes");
  // The HEAD answer carries Content-Length: 12 and no body: the next bytes are the GET's status line.
  auto first_end = got.find("\r\n\r\n");
  ASSERT_NE(first_end, std::string::npos) << got;
  std::string head = got.substr(0, first_end);
  for (auto& c : head) c = char(std::tolower(c));
  EXPECT_NE(head.find("content-length: 12"), std::string::npos) << got;
  EXPECT_EQ(got.compare(first_end + 4, 8, "HTTP/1.1"), 0) << got;
}

TEST_P(AsioServerTest, Http10ClosesAfterTheAnswer) {
  Raw raw(server->Port());
  raw.Send("GET /hello/old HTTP/1.0\r\n\r\n");
  std::string got = raw.ReadToClose();
  EXPECT_NE(got.find("\"hello\":\"old\""), std::string::npos) << got;
  EXPECT_TRUE(raw.closed());
}

TEST_P(AsioServerTest, Http10KeepAliveIsKeptWhenAsked) {
  Raw raw(server->Port());
  raw.Send("GET /hello/a HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
  std::string got = raw.ReadUntil("\"hello\":\"a\"");
  EXPECT_EQ(got.rfind("HTTP/1.0 200 OK\r\n", 0), 0u) << got;
  EXPECT_NE(got.find("Connection: keep-alive\r\n"), std::string::npos) << got;
  raw.Send("GET /hello/b HTTP/1.0\r\n\r\n");  // the same connection still answers, then closes
  got = raw.ReadToClose();
  EXPECT_NE(got.find("\"hello\":\"b\""), std::string::npos) << got;
  EXPECT_TRUE(raw.closed());
}

TEST_P(AsioServerTest, AHeaderValueCannotEndTheHeaderAndA204HasNoLength) {
  Raw raw(server->Port());
  raw.Send("GET /inject HTTP/1.1\r\nHost: x\r\n\r\nGET /nothing HTTP/1.1\r\nHost: x\r\n\r\n");
  std::string got = raw.ReadUntil("HTTP/1.1 204 No Content\r\n");
  got = raw.ReadUntil("\r\n\r\n", 2);
  EXPECT_EQ(got.find("\r\nInjected:"), std::string::npos) << got;
  EXPECT_NE(got.find("x-note: a  Injected: yes\r\n"), std::string::npos) << got;
  auto no_content = got.find("HTTP/1.1 204");
  ASSERT_NE(no_content, std::string::npos) << got;
  std::string second = got.substr(no_content);
  EXPECT_EQ(second.find("Content-Length"), std::string::npos) << second;
}

TEST_P(AsioServerTest, MalformedRequestGetsA400ProblemAndClose) {
  Raw raw(server->Port());
  raw.Send("GET /hello/x HTTP/1.1\r\nBad Header Without Colon\r\n\r\n");
  std::string got = raw.ReadToClose();
  EXPECT_EQ(got.substr(0, 12), "HTTP/1.1 400") << got;
  EXPECT_NE(got.find("application/problem+json"), std::string::npos) << got;
  EXPECT_TRUE(raw.closed());
}

TEST_P(AsioServerTest, OversizedHeadersGet431) {
  Raw raw(server->Port());
  raw.Send("GET /hello/x HTTP/1.1\r\nX-Big: " + std::string(70 * 1024, 'a') + "\r\n\r\n");
  std::string got = raw.ReadToClose();
  EXPECT_EQ(got.substr(0, 12), "HTTP/1.1 431") << got.substr(0, 200);
}

TEST_P(AsioServerTest, ExpectContinueIsAnsweredAndTooLargeBodiesRefusedUpFront) {
  {
    Raw raw(server->Port());
    raw.Send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 7\r\n"
             "Expect: 100-continue\r\n\r\n");
    EXPECT_EQ(raw.ReadUntil("\r\n\r\n").substr(0, 25), "HTTP/1.1 100 Continue\r\n\r\n");
    raw.Send("{\"a\":1}");
    EXPECT_NE(raw.ReadUntil("{\"a\":1}").find("HTTP/1.1 201"), std::string::npos);
  }
  Raw big(server->Port());
  big.Send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 2000000000\r\nExpect: 100-continue\r\n\r\n");
  std::string got = big.ReadToClose();
  EXPECT_EQ(got.substr(0, 12), "HTTP/1.1 413") << got;
  EXPECT_NE(got.find("exceeds the limit"), std::string::npos) << got;
}

TEST_P(AsioServerTest, AHalfSentRequestGets408AndAnIdleConnectionIsClosed) {
  Raw partial(server->Port());
  Raw idle(server->Port());
  partial.Send("GET /hello/x HTTP/1.1\r\nHost: x\r\n");  // never finished
  std::string got = partial.ReadToClose();                 // header timeout is 1.5 s
  EXPECT_EQ(got.substr(0, 12), "HTTP/1.1 408") << got;
  EXPECT_TRUE(partial.closed());
  EXPECT_EQ(idle.ReadToClose(), "") << "an idle keep-alive connection closes without an answer";
  EXPECT_TRUE(idle.closed());
}

TEST_P(AsioServerTest, ConnectionsStayOnTheirLoopAndSoDoTheirUpstreamCalls) {
  std::set<std::string> threads;
  for (int c = 0; c < 4; ++c) {  // a new connection each: dealt out round robin
    HttpClient fresh;
    std::string first;
    for (int i = 0; i < 3; ++i) {
      auto r = fresh.Get(base + "/thread");
      ASSERT_EQ(r.status, 200) << r.error_message;
      if (i == 0) first = r.body;
      if (GetParam().loop_per_thread) {
        EXPECT_EQ(r.body, first) << "a connection is served by its loop's thread only";
      }
    }
    threads.insert(first);
  }
  EXPECT_EQ(server->loops().size(), GetParam().loop_per_thread ? 2u : 1u);
  if (GetParam().loop_per_thread) {
    EXPECT_EQ(threads.size(), 2u) << "four connections over two loops";
  }
  for (int i = 0; i < 4; ++i) {
    HttpClient fresh;
    auto r = fresh.Get(base + "/via-client");
    ASSERT_EQ(r.status, 200) << r.error_message;
    EXPECT_EQ(r.Json()["status"], 200);
    if (GetParam().loop_per_thread) {
      EXPECT_EQ(r.Json()["handler"], r.Json()["upstreamDone"]) << "the upstream call stayed on the request's loop";
    }
  }
}

// One loop shared by the threads (a loop per thread is for handlers that never block).
class AsioSharedLoopTest : public ServerTest {};

TEST_P(AsioSharedLoopTest, ABlockedHandlerHoldsOnlyItsOwnConnection) {
  // Two threads: one blocked in /slow, the other still serves everyone else.
  auto slow = std::async(std::launch::async, [&] { return client.Get(base + "/slow"); });
  slow_started.get_future().wait();
  for (int i = 0; i < 5; ++i) {
    HttpClient other;
    auto r = other.Send({"GET", base + "/hello/x", {}, {}, 500ms});
    EXPECT_EQ(r.status, 200) << r.error_message;
  }
  EXPECT_EQ(slow.get().status, 200);
}

INSTANTIATE_TEST_SUITE_P(Engines, ServerTest, ::testing::Values(kPistache, kAsio, kAsioLoops),
                         [](const auto& info) { return std::string(info.param.name); });
INSTANTIATE_TEST_SUITE_P(Engines, AsioServerTest, ::testing::Values(kAsio, kAsioLoops),
                         [](const auto& info) { return std::string(info.param.name); });
INSTANTIATE_TEST_SUITE_P(Engines, AsioSharedLoopTest, ::testing::Values(kAsio),
                         [](const auto& info) { return std::string(info.param.name); });

}  // namespace
}  // namespace op::http
