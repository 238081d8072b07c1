// HTTPS on the Asio engine: a certificate signed by a CA the test makes
// (openssl), a client that trusts that CA, one that does not, a client that
// speaks plain HTTP to the TLS port, and one that never finishes its handshake.
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "runtime/http/client.h"
#include "runtime/http/server.h"
#include "testing/fixtures/certificates.h"
#include "testing/fixtures/process.h"

namespace op::http {
namespace {

using namespace std::chrono_literals;

class TlsServerTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new std::string(op::testing::MakeTempDir("tls"));
    auto certs = op::testing::MakeTestCertificates(*dir_ + "/certs");  // file paths
    ca_ = new std::string(certs.ca);
    other_ca_ = new std::string(certs.other_ca);
    cert_ = new std::string(certs.server_cert);
    key_ = new std::string(certs.server_key);
  }
  static void TearDownTestSuite() { op::testing::RemoveTree(*dir_); }

  std::unique_ptr<HttpServer> Server(std::chrono::milliseconds header_timeout = 10s) {
    auto router = std::make_shared<Router>();
    router->Get("/hello/{name}", Access::Public(), [](Request& r) { return Response::Json(200, {{"hello", r.PathParam("name")}}); });
    router->Post("/echo", Access::Public(), [](Request& r) { return Response::Json(200, {{"bytes", r.body.size()}}); });
    ServerOptions o;
    o.engine = ServerEngineKind::kAsio;
    o.host = "127.0.0.1";
    o.threads = 2;
    o.access_log = false;
    o.header_timeout = header_timeout;
    o.tls_certificate_file = *cert_;
    o.tls_private_key_file = *key_;
    auto s = std::make_unique<HttpServer>(o, router);
    s->Start();
    return s;
  }
  static std::string* dir_;
  static std::string *ca_, *other_ca_, *cert_, *key_;
};
std::string* TlsServerTest::dir_;
std::string *TlsServerTest::ca_, *TlsServerTest::other_ca_, *TlsServerTest::cert_, *TlsServerTest::key_;

int Connect(uint16_t port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
  if (connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    close(fd);
    return -1;
  }
  timeval tv{5, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  return fd;
}

TEST_F(TlsServerTest, ServesHttpsToAClientThatTrustsItsCa) {
  auto server = Server();
  ClientOptions co;
  co.ca_file = *ca_;
  HttpClient client(co);
  const std::string base = "https://127.0.0.1:" + std::to_string(server->Port());
  for (int i = 0; i < 3; ++i) {  // one connection, kept alive across requests
    auto r = client.Get(base + "/hello/tls");
    ASSERT_EQ(r.status, 200) << r.error_message;
    EXPECT_EQ(r.Json()["hello"], "tls");
  }
  auto big = client.Send({"POST", base + "/echo", {}, std::string(200'000, 'x'), {}});
  ASSERT_EQ(big.status, 200) << big.error_message;
  EXPECT_EQ(big.Json()["bytes"], 200'000) << "a body spanning many TLS records";
  auto localhost = client.Get("https://localhost:" + std::to_string(server->Port()) + "/hello/name");
  EXPECT_EQ(localhost.status, 200) << "the certificate names localhost too: " << localhost.error_message;
}

TEST_F(TlsServerTest, AClientThatDoesNotTrustTheCaRefusesAndTheServerGoesOn) {
  auto server = Server();
  ClientOptions co;
  co.ca_file = *other_ca_;
  HttpClient stranger(co);
  const std::string base = "https://127.0.0.1:" + std::to_string(server->Port());
  auto r = stranger.Get(base + "/hello/x");
  EXPECT_FALSE(r.ok()) << r.status;
  EXPECT_NE(r.error_message.find("certificate"), std::string::npos) << r.error_message;
  co.ca_file = *ca_;
  HttpClient friendly(co);
  EXPECT_EQ(friendly.Get(base + "/hello/x").status, 200);
}

TEST_F(TlsServerTest, PlainHttpToTheTlsPortIsClosedNotServed) {
  auto server = Server();
  int fd = Connect(server->Port());
  ASSERT_GE(fd, 0);
  const std::string req = "GET /hello/plain HTTP/1.1\r\nHost: x\r\n\r\n";
  ASSERT_EQ(write(fd, req.data(), req.size()), ssize_t(req.size()));
  std::string got;
  char buf[4096];
  for (ssize_t n; (n = read(fd, buf, sizeof buf)) > 0;) got.append(buf, size_t(n));
  close(fd);
  EXPECT_EQ(got.find("\"hello\""), std::string::npos) << "nothing is served over plain text: " << got;
  ClientOptions co;
  co.ca_file = *ca_;
  HttpClient client(co);
  EXPECT_EQ(client.Get("https://127.0.0.1:" + std::to_string(server->Port()) + "/hello/after").status, 200);
}

TEST_F(TlsServerTest, AStalledHandshakeIsDroppedAtTheHeaderTimeout) {
  auto server = Server(300ms);
  int fd = Connect(server->Port());
  ASSERT_GE(fd, 0);
  // Connected, no ClientHello: the server closes it (read returns 0) well
  // before the socket's own 5 s receive timeout.
  auto start = std::chrono::steady_clock::now();
  char c;
  EXPECT_EQ(read(fd, &c, 1), 0);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 4s);
  close(fd);
}

TEST_F(TlsServerTest, AMismatchedKeyOrAMissingFileFailsStartNamingTheFile) {
  auto router = std::make_shared<Router>();
  ServerOptions o;
  o.engine = ServerEngineKind::kAsio;
  o.host = "127.0.0.1";
  o.tls_certificate_file = *dir_ + "/missing.pem";
  o.tls_private_key_file = *key_;
  HttpServer missing(o, router);
  try {
    missing.Start();
    FAIL() << "started without its certificate";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("missing.pem"), std::string::npos) << e.what();
  }
  o.tls_certificate_file = *cert_;
  o.tls_private_key_file = "";
  HttpServer no_key(o, router);
  EXPECT_THROW(no_key.Start(), std::runtime_error);
  o.tls_private_key_file = *key_;
  o.engine = ServerEngineKind::kPistache;
  HttpServer pistache(o, router);
  try {
    pistache.Start();
    FAIL() << "Pistache cannot serve TLS here";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("asio"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace op::http
