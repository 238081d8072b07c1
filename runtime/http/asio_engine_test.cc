// The Asio engine's own behaviour over raw TCP: pipelining, HEAD, HTTP/1.0,
// malformed and oversized requests, 100-continue, timeouts, loops.
#include "runtime/http/server_test_fixture.h"

namespace op::http {
namespace {

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

// Any token is a method to Beast: an unknown one is 501, counted as OTHER,
// so a client cannot mint a metric series per method; ids a client sends are
// echoed only when bounded and plain.
TEST_P(AsioServerTest, UnknownMethodsAre501AndCountedAsOtherAndOddIdsAreNotEchoed) {
  for (int i = 0; i < 50; ++i) {
    auto r = client.Send({"BREW" + std::to_string(i), base + "/hello/x", {}, {}, {}});
    EXPECT_EQ(r.status, 501) << r.body;
  }
  std::string text = metrics.Scrape();
  EXPECT_NE(text.find("method=\"OTHER\",outcome=\"SERVER_ERROR\",status=\"501\""), std::string::npos) << text;
  EXPECT_EQ(text.find("BREW"), std::string::npos) << "no series per method";
  auto trace = client.Send({"TRACE", base + "/hello/x", {}, {}, {}});
  EXPECT_EQ(trace.status, 405) << "a method HTTP defines, which the route does not take";
  EXPECT_EQ(trace.headers.Get("allow"), "GET");
  ClientRequest odd{"GET", base + "/hello/x", {}, {}, {}};
  odd.headers.Set("X-Correlation-Id", std::string(300, 'c'));
  odd.headers.Set("X-Request-Id", "id with spaces");
  auto r = client.Send(odd);
  EXPECT_EQ(r.status, 200);
  EXPECT_NE(r.headers.Get("x-request-id"), "id with spaces");
  EXPECT_EQ(r.headers.Get("x-correlation-id"), r.headers.Get("x-request-id")) << "an unusable correlation id is replaced";
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


INSTANTIATE_TEST_SUITE_P(Engines, AsioServerTest, ::testing::Values(kAsio, kAsioLoops),
                         [](const auto& info) { return std::string(info.param.name); });
INSTANTIATE_TEST_SUITE_P(Engines, AsioSharedLoopTest, ::testing::Values(kAsio),
                         [](const auto& info) { return std::string(info.param.name); });

}  // namespace
}  // namespace op::http
