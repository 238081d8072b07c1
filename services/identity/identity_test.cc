// identity-service as its clients see it: the real binary on a real
// MariaDB. Sign-up, the three grants, refresh rotation and reuse, revocation,
// the JWKS and discovery documents, throttled sign-ins, malformed input.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <fstream>

#include "runtime/auth/token_verifier.h"
#include "runtime/http/client.h"
#include "testing/fixtures/mariadb.h"
#include "testing/fixtures/process.h"

namespace op {
namespace {

using namespace std::chrono_literals;
using Json = nlohmann::json;

class IdentityTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    db_ = new testing::MariaDbServer();
    db_->Start();
    port_ = testing::FreePort();
    base_ = "http://127.0.0.1:" + std::to_string(port_);
    testing::Process::Options o;
    o.argv = {testing::Runfile("services/identity/identity-service")};
    o.env = {{"SERVER_PORT", std::to_string(port_)},
             {"MYSQL_PORT", std::to_string(db_->Port())},
             {"MYSQL_USER", db_->User()},
             {"MYSQL_PASSWORD", db_->Password()},
             {"MYSQL_DATABASE", "identity_db"},
             {"MYSQL_CREATE_DATABASE", "true"},
             {"IDENTITY_ISSUER", base_},
             {"IDENTITY_DEMO_USERS", "true"},
             {"IDENTITY_PASSWORD_HASH_MEMORY_KIB", "1024"},  // tests: cheap hashes
             {"IDENTITY_PASSWORD_HASH_TIME_COST", "1"},
             {"IDENTITY_SIGN_IN_MAX_FAILURES_PER_USER", "3"}};
    const std::string dir = testing::MakeTempDir("identity");
    std::ofstream(dir + "/identity.yaml")
        << "identity:\n  clients:\n    - {id: order-service, secret: order-service-secret-123, roles: [service]}\n";
    o.argv.push_back("--config");
    o.argv.push_back(dir + "/identity.yaml");
    o.output_file = dir + "/out.log";
    service_ = new testing::Process(o);
    service_->Start();
    http::HttpClient probe;
    ASSERT_TRUE(testing::WaitUntil([&] { return probe.Get(base_ + "/actuator/health/readiness").status == 200; }, 60s))
        << service_->Output();
  }
  static void TearDownTestSuite() {
    delete service_;
    delete db_;
  }
  static http::ClientResponse Form(const std::string& path, const std::string& form,
                                   const std::optional<std::string>& authorization = std::nullopt) {
    http::ClientRequest r{"POST", base_ + path, {}, form, {}};
    r.headers.Set("Content-Type", "application/x-www-form-urlencoded");
    if (authorization) r.headers.Set("Authorization", *authorization);
    return client_.Send(r);
  }
  static http::ClientResponse Me(const std::string& token) {
    http::ClientRequest r{"GET", base_ + "/api/users/me", {}, "", {}};
    r.headers.Set("Authorization", "Bearer " + token);
    return client_.Send(r);
  }
  static Json SignIn(const std::string& user, const std::string& password) {
    auto r = Form("/oauth2/token", "grant_type=password&username=" + user + "&password=" + password);
    EXPECT_EQ(r.status, 200) << r.body;
    return Json::parse(r.body);
  }

  static testing::MariaDbServer* db_;
  static testing::Process* service_;
  static uint16_t port_;
  static std::string base_;
  static http::HttpClient client_;
};
testing::MariaDbServer* IdentityTest::db_ = nullptr;
testing::Process* IdentityTest::service_ = nullptr;
uint16_t IdentityTest::port_ = 0;
std::string IdentityTest::base_;
http::HttpClient IdentityTest::client_;

TEST_F(IdentityTest, SignUpThenSignInAndTheTokenVerifiesAgainstTheJwks) {
  auto created = client_.PostJson(base_ + "/api/users", {{"username", "erin"}, {"password", "erin-secret-1"}});
  ASSERT_EQ(created.status, 201) << created.body;
  EXPECT_EQ(created.Json(), (Json{{"username", "erin"}, {"customerId", "erin"}, {"roles", {"customer"}}}));
  EXPECT_EQ(created.body.find("secret"), std::string::npos) << "the password is never returned";
  EXPECT_EQ(client_.PostJson(base_ + "/api/users", {{"username", "erin"}, {"password", "another-secret"}}).status, 409);
  auto bad = client_.PostJson(base_ + "/api/users", {{"username", "E"}, {"password", "short"}});
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(bad.Json()["errors"].size(), 2u) << bad.body;

  auto tokens = SignIn("erin", "erin-secret-1");
  EXPECT_EQ(tokens["token_type"], "Bearer");
  EXPECT_EQ(tokens["expires_in"], 900);
  ASSERT_TRUE(tokens["refresh_token"].is_string());
  auto me = Me(tokens["access_token"]);
  ASSERT_EQ(me.status, 200) << me.body;
  EXPECT_EQ(me.Json()["customerId"], "erin");
  // The sign-up's Location names the user: its own, or any for admin; another customer's is 403.
  auto get = [&](const std::string& path, const std::string& token) {
    http::ClientRequest r{"GET", base_ + path, {}, "", {}};
    r.headers.Set("Authorization", "Bearer " + token);
    return client_.Send(r);
  };
  ASSERT_EQ(created.headers.Get("location"), "/api/users/erin");
  auto self = get("/api/users/erin", tokens["access_token"]);
  ASSERT_EQ(self.status, 200) << self.body;
  EXPECT_EQ(self.Json(), created.Json());
  EXPECT_EQ(get("/api/users/alice", tokens["access_token"]).status, 403);
  auto admin = SignIn("admin", "admin-secret");
  EXPECT_EQ(get("/api/users/alice", admin["access_token"]).Json()["customerId"], "alice");
  EXPECT_EQ(get("/api/users/nobody", admin["access_token"]).status, 404);
  EXPECT_TRUE(get("/api/users/viewer", admin["access_token"]).Json()["customerId"].is_null());

  // Any service verifies it with the runtime's verifier and the published JWKS.
  auth::TokenVerifier v({base_}, [](std::string* error) -> std::optional<std::string> {
    auto r = client_.Get(base_ + "/.well-known/jwks.json");
    if (r.status != 200) return *error = r.error_message, std::nullopt;
    return r.body;
  });
  auto p = v.Verify(tokens["access_token"].get<std::string>());
  ASSERT_TRUE(p.principal) << p.error;
  EXPECT_EQ(p.principal->subject, "erin");
  auto discovery = client_.Get(base_ + "/.well-known/openid-configuration").Json();
  EXPECT_EQ(discovery["issuer"], base_);
  EXPECT_EQ(discovery["jwks_uri"], base_ + "/.well-known/jwks.json");
  EXPECT_EQ(discovery["token_endpoint"], base_ + "/oauth2/token");
}

TEST_F(IdentityTest, DemoIdentitiesHaveTheirRoles) {
  for (auto [user, role] : {std::pair{"alice", "customer"}, {"admin", "admin"}, {"viewer", "viewer"}}) {
    auto tokens = SignIn(user, std::string(user) + "-secret");
    auto me = Me(tokens["access_token"]).Json();
    EXPECT_EQ(me["roles"], Json::array({role})) << user;
  }
  EXPECT_TRUE(Me(SignIn("admin", "admin-secret")["access_token"]).Json()["customerId"].is_null()) << "staff are no customer";
}

TEST_F(IdentityTest, RefreshTokensAreSingleUseAndAReuseRevokesTheFamily) {
  auto first = SignIn("bob", "bob-secret");
  auto second = Form("/oauth2/token", "grant_type=refresh_token&refresh_token=" + first["refresh_token"].get<std::string>());
  ASSERT_EQ(second.status, 200) << second.body;
  auto next = second.Json();
  EXPECT_NE(next["refresh_token"], first["refresh_token"]) << "each use returns a new one";
  // The first one again: stolen and replayed. Refused, and the family with it.
  auto replay = Form("/oauth2/token", "grant_type=refresh_token&refresh_token=" + first["refresh_token"].get<std::string>());
  EXPECT_EQ(replay.status, 400);
  EXPECT_EQ(replay.Json()["error"], "invalid_grant");
  EXPECT_EQ(Form("/oauth2/token", "grant_type=refresh_token&refresh_token=" + next["refresh_token"].get<std::string>()).status, 400)
      << "the newest of the family is revoked too";
  // Revocation (RFC 7009): 200, then the token is dead.
  auto other = SignIn("bob", "bob-secret");
  EXPECT_EQ(Form("/oauth2/revoke", "token=" + other["refresh_token"].get<std::string>()).status, 200);
  EXPECT_EQ(Form("/oauth2/token", "grant_type=refresh_token&refresh_token=" + other["refresh_token"].get<std::string>()).status, 400);
  EXPECT_EQ(Form("/oauth2/revoke", "token=unknown").status, 200) << "unknown tokens are no error";
}

TEST_F(IdentityTest, ClientCredentialsForServices) {
  auto ok = Form("/oauth2/token", "grant_type=client_credentials", "Basic b3JkZXItc2VydmljZTpvcmRlci1zZXJ2aWNlLXNlY3JldC0xMjM=");
  ASSERT_EQ(ok.status, 200) << ok.body;
  EXPECT_FALSE(ok.Json().contains("refresh_token"));
  EXPECT_EQ(Me(ok.Json()["access_token"]).Json()["roles"], Json::array({"service"}));
  auto wrong = Form("/oauth2/token", "grant_type=client_credentials&client_id=order-service&client_secret=guess");
  EXPECT_EQ(wrong.status, 401);
  EXPECT_EQ(wrong.Json()["error"], "invalid_client");
  EXPECT_TRUE(wrong.headers.Get("www-authenticate").has_value());
}

TEST_F(IdentityTest, BadCredentialsTokensAndFormsGetAClearError) {
  auto wrong = Form("/oauth2/token", "grant_type=password&username=carol&password=wrong-password");
  EXPECT_EQ(wrong.status, 400);
  EXPECT_EQ(wrong.Json()["error"], "invalid_grant");
  EXPECT_EQ(wrong.headers.Get("cache-control"), "no-store");
  EXPECT_EQ(Form("/oauth2/token", "grant_type=password&username=nobody&password=whatever-it-is").Json()["error"], "invalid_grant");
  EXPECT_EQ(Form("/oauth2/token", "grant_type=implicit").Json()["error"], "unsupported_grant_type");
  http::ClientRequest json{"POST", base_ + "/oauth2/token", {}, R"({"grant_type":"password"})", {}};
  json.headers.Set("Content-Type", "application/json");
  EXPECT_EQ(client_.Send(json).status, 400);
  for (const std::string& token : std::vector<std::string>{"", "garbage", "a.b.c"}) {
    auto r = Me(token);
    EXPECT_EQ(r.status, 401) << token;
    EXPECT_NE(r.headers.Get("www-authenticate").value_or("").find("Bearer"), std::string::npos);
  }
  EXPECT_EQ(client_.Get(base_ + "/api/users/me").status, 401);
  EXPECT_EQ(service_->Output().find("wrong-password"), std::string::npos) << "no password in a log line";
}

TEST_F(IdentityTest, RepeatedFailedSignInsAreThrottled) {
  for (int i = 0; i < 3; ++i)
    EXPECT_EQ(Form("/oauth2/token", "grant_type=password&username=dave&password=not-daves-" + std::to_string(i)).status, 400);
  auto blocked = Form("/oauth2/token", "grant_type=password&username=dave&password=dave-secret");
  EXPECT_EQ(blocked.status, 429) << "even the right password, for the rest of the window";
  EXPECT_TRUE(blocked.headers.Get("retry-after").has_value());
  EXPECT_EQ(SignIn("carol", "carol-secret")["token_type"], "Bearer") << "other users are not affected";
}

}  // namespace
}  // namespace op
