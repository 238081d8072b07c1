// Identity and access end to end (DESIGN section 10): the real identity
// service, gateway and services, tokens as a client gets them and as an
// attacker would make them. Every refusal is checked at the gateway and, for
// the services, on their own ports too: a service refuses by itself.
//
// The suite runs with signing keys rotating every 12 s (a successor
// published 5 s ahead, verifiers refreshing every 2 s), so every test also
// meets rotations; one streams orders across several of them.
#include <gtest/gtest.h>

#include "runtime/auth/jwk.h"
#include "runtime/core/uuid.h"
#include "testing/fixtures/jwt_signer.h"
#include "testing/fixtures/platform.h"

namespace op {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;
using testing::ApiClient;
using testing::NewEcPem;
using testing::SignJwt;
using testing::WaitUntil;

std::string FromHex(const std::string& hex) {
  std::string out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) out += char(std::stoi(hex.substr(i, 2), nullptr, 16));
  return out;
}

class AccessTest : public ::testing::Test {
 public:
  static void SetUpTestSuite() {
    testing::Platform::Options o;
    o.front_door = true;
    o.smtp = false;
    o.extra_yaml = "auth.jwks-refresh-interval: 2s\n";
    o.gateway_yaml = "auth.jwks-refresh-interval: 2s\n";
    o.identity_yaml = "identity.key-rotation: 12s\nidentity.key-publish-ahead: 5s\nidentity.access-token-ttl: 30s\n";
    platform_ = new testing::Platform(o);
    platform_->Start();
    ApiClient admin(platform_->Token("admin"));
    http::ClientResponse p;
    // (the gateway may not have fetched inventory-service's instance or the keys yet: 503 meanwhile)
    ASSERT_TRUE(WaitUntil([&] {
      p = admin.PutJson(platform_->Url("api-gateway") + "/api/products/SKU-ACCESS",
                        {{"name", "access"}, {"priceCents", 100}, {"available", 100000}});
      return p.status == 200 || p.status == 201;
    }, 30s)) << p.status << " " << p.body;
    for (const char* c : {"alice", "bob"})
      ASSERT_EQ(admin.PutJson(platform_->Url("api-gateway") + "/api/accounts/" + c, {{"balanceCents", 10'000'000}}).status / 100, 2);
  }
  static void TearDownTestSuite() { delete platform_; }

  static std::string Gw() { return platform_->Url("api-gateway"); }
  static std::string U(const std::string& s) { return platform_->Url(s); }
  // The signing key in use, as identity_db holds it.
  static std::pair<std::string, std::string> SigningKey() {
    auto row = platform_->db().Sql(
        "SELECT kid, HEX(private_pem) FROM identity_db.signing_keys WHERE retired_at IS NULL ORDER BY created_at LIMIT 1");
    auto tab = row.find('\t');
    std::string hex = row.substr(tab + 1);
    while (!hex.empty() && (hex.back() == '\n' || hex.back() == '\r')) hex.pop_back();
    return {row.substr(0, tab), FromHex(hex)};
  }
  static json Claims(int64_t exp_in = 300) {
    const int64_t now = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
    return {{"iss", Gw()}, {"sub", "alice"}, {"aud", "order-platform"}, {"customer_id", "alice"}, {"roles", {"customer"}},
            {"jti", NewUuid()}, {"iat", now}, {"exp", now + exp_in}};
  }
  static http::ClientResponse Call(const std::string& method, const std::string& url, const std::string& authorization,
                                   const json& body = nullptr) {
    http::ClientRequest r{method, url, {}, body.is_null() ? "" : body.dump(), {}};
    if (!authorization.empty()) r.headers.Set("Authorization", authorization);
    if (!body.is_null()) r.headers.Set("Content-Type", "application/json");
    return http::HttpClient().Send(r);
  }
  static http::ClientResponse Form(const std::string& path, const std::string& form) {
    http::ClientRequest r{"POST", Gw() + path, {}, form, {}};
    r.headers.Set("Content-Type", "application/x-www-form-urlencoded");
    return http::HttpClient().Send(r);
  }
  std::string Place(ApiClient& as, const std::string& customer) {
    auto r = as.PostJson(Gw() + "/api/orders", {{"customerId", customer}, {"items", {{{"sku", "SKU-ACCESS"}, {"quantity", 1}}}}});
    EXPECT_EQ(r.status, 202) << r.body;
    return r.status == 202 ? r.Json()["orderId"].get<std::string>() : "";
  }

  static testing::Platform* platform_;
};
testing::Platform* AccessTest::platform_ = nullptr;

// 401 with a Bearer challenge, at the gateway and at order-service itself.
void ExpectInvalidToken(const std::string& what, const std::string& authorization, const std::string& gw,
                        const std::string& order_service) {
  for (const auto& base : {gw, order_service}) {
    auto r = AccessTest::Call("GET", base + "/api/orders", authorization);
    EXPECT_EQ(r.status, 401) << what << " at " << base << ": " << r.body;
    auto challenge = r.headers.Get("www-authenticate").value_or("");
    EXPECT_EQ(challenge.rfind("Bearer realm=\"order-platform\"", 0), 0u) << what << ": " << challenge;
    if (authorization.rfind("Bearer ", 0) == 0) {
      EXPECT_NE(challenge.find("error=\"invalid_token\""), std::string::npos) << what << ": " << challenge;
    }
    EXPECT_EQ(r.headers.Get("content-type"), "application/problem+json") << what;
  }
}

TEST_F(AccessTest, EveryWayATokenCanBeWrongIs401) {
  const auto [kid, key] = SigningKey();
  const std::string gw = Gw(), order = U("order-service");
  ASSERT_EQ(Call("GET", gw + "/api/orders", "Bearer " + SignJwt(JWT_ALG_ES256, key, kid, Claims())).status, 200)
      << "the forger's tools work: a token signed with the real key passes";
  ExpectInvalidToken("no token", "", gw, order);
  ExpectInvalidToken("another scheme", "Basic YWxpY2U6YWxpY2Utc2VjcmV0", gw, order);
  ExpectInvalidToken("garbage", "Bearer garbage", gw, order);
  ExpectInvalidToken("expired", "Bearer " + SignJwt(JWT_ALG_ES256, key, kid, Claims(-120)), gw, order);
  auto early = Claims();
  early["nbf"] = early["iat"].get<int64_t>() + 600;
  ExpectInvalidToken("not yet valid", "Bearer " + SignJwt(JWT_ALG_ES256, key, kid, early), gw, order);
  ExpectInvalidToken("wrong signature", "Bearer " + SignJwt(JWT_ALG_ES256, NewEcPem(), kid, Claims()), gw, order);
  // alg none: the header says so and the signature is empty
  const std::string none_header = auth::Base64UrlEncode(json{{"alg", "none"}, {"typ", "JWT"}, {"kid", kid}}.dump());
  ExpectInvalidToken("alg none", "Bearer " + none_header + "." + auth::Base64UrlEncode(Claims().dump()) + ".", gw, order);
  // HS256 keyed with the public key everyone can fetch
  auto jwks = http::HttpClient().Get(gw + "/.well-known/jwks.json").Json();
  auto pub = auth::ParseJwk(jwks["keys"][0]);
  ASSERT_TRUE(pub);
  ExpectInvalidToken("HS256 with the public key", "Bearer " + SignJwt(JWT_ALG_HS256, pub->public_pem, pub->kid, Claims()), gw, order);
  auto iss = Claims();
  iss["iss"] = "http://evil.example";
  ExpectInvalidToken("wrong iss", "Bearer " + SignJwt(JWT_ALG_ES256, key, kid, iss), gw, order);
  auto aud = Claims();
  aud["aud"] = "another-platform";
  ExpectInvalidToken("wrong aud", "Bearer " + SignJwt(JWT_ALG_ES256, key, kid, aud), gw, order);
  ExpectInvalidToken("unknown kid", "Bearer " + SignJwt(JWT_ALG_ES256, NewEcPem(), "made-up-kid", Claims()), gw, order);
}

TEST_F(AccessTest, RefreshTokensAreSingleUseRevocableAndAReuseRevokesTheFamily) {
  auto signed_in = Form("/oauth2/token", "grant_type=password&username=carol&password=carol-secret");
  ASSERT_EQ(signed_in.status, 200) << signed_in.body;
  const std::string first = signed_in.Json()["refresh_token"];
  auto rotated = Form("/oauth2/token", "grant_type=refresh_token&refresh_token=" + first);
  ASSERT_EQ(rotated.status, 200) << rotated.body;
  const std::string second = rotated.Json()["refresh_token"];
  auto reused = Form("/oauth2/token", "grant_type=refresh_token&refresh_token=" + first);
  EXPECT_EQ(reused.status, 400);
  EXPECT_EQ(reused.Json()["error"], "invalid_grant");
  EXPECT_EQ(Form("/oauth2/token", "grant_type=refresh_token&refresh_token=" + second).status, 400)
      << "the reuse revoked the whole family, the thief's copy and the owner's";

  auto again = Form("/oauth2/token", "grant_type=password&username=carol&password=carol-secret");
  const std::string third = again.Json()["refresh_token"];
  EXPECT_EQ(Form("/oauth2/revoke", "token=" + third).status, 200);
  EXPECT_EQ(Form("/oauth2/token", "grant_type=refresh_token&refresh_token=" + third).status, 400) << "revoked (RFC 7009)";
}

TEST_F(AccessTest, CustomersReachOnlyTheirOwnOrdersAccountsAndNotifications) {
  ApiClient alice(platform_->Token("alice")), bob(platform_->Token("bob"));
  const std::string id = Place(alice, "alice");
  ASSERT_FALSE(id.empty());
  for (const auto& base : {Gw(), U("order-service")}) {
    auto as_alice = bob.PostJson(base + "/api/orders", {{"customerId", "alice"}, {"items", {{{"sku", "SKU-ACCESS"}, {"quantity", 1}}}}});
    EXPECT_EQ(as_alice.status, 403) << base << " bob ordering for alice: " << as_alice.body;
    EXPECT_EQ(bob.Get(base + "/api/orders/" + id).status, 404) << base << " bob reading alice's order";
    EXPECT_EQ(bob.Send({"POST", base + "/api/orders/" + id + "/cancel", {}, {}, {}}).status, 404) << base << " bob cancelling it";
    EXPECT_EQ(bob.Get(base + "/api/orders?customerId=alice").status, 403) << base;
    auto mine = bob.Get(base + "/api/orders");
    ASSERT_EQ(mine.status, 200) << mine.body;
    const auto list = mine.Json();  // held: ranging over a temporary's member would read freed memory (ASan)
    for (const auto& o : list["items"]) EXPECT_EQ(o["customerId"], "bob") << base << ": bob's list holds only his";
    EXPECT_EQ(alice.Get(base + "/api/orders/" + id).status, 200) << base << " alice reads her own";
  }
  for (const auto& base : {Gw(), U("payment-service")}) {
    EXPECT_EQ(bob.Get(base + "/api/accounts/alice").status, 403) << base;
    EXPECT_EQ(alice.Get(base + "/api/accounts/alice").status, 200) << base;
  }
  for (const auto& base : {Gw(), U("notification-service")}) {
    EXPECT_EQ(bob.Get(base + "/api/notifications?customerId=alice").status, 403) << base;
    auto theirs = bob.Get(base + "/api/notifications?orderId=" + id);
    ASSERT_EQ(theirs.status, 200) << theirs.body;
    EXPECT_TRUE(theirs.Json()["items"].empty()) << base << ": alice's notifications are not bob's to read";
  }
  EXPECT_EQ(alice.Send({"POST", Gw() + "/api/orders/" + id + "/cancel", {}, {}, {}}).status / 100, 2) << "alice may cancel hers";
}

TEST_F(AccessTest, OnlyAdminWritesTheCatalogAndBalances) {
  ApiClient alice(platform_->Token("alice")), viewer(platform_->Token("viewer")), anonymous;
  for (auto* who : {&alice, &viewer})
    for (const auto& [base, inventory, payment] :
         {std::tuple{Gw(), Gw(), Gw()}, std::tuple{std::string(), U("inventory-service"), U("payment-service")}}) {
      (void)base;
      EXPECT_EQ(who->PutJson(inventory + "/api/products/SKU-ACCESS", {{"name", "free"}, {"priceCents", 0}, {"available", 1}}).status, 403);
      EXPECT_EQ(who->PutJson(payment + "/api/accounts/alice", {{"balanceCents", 1'000'000'000'000}}).status, 403);
      EXPECT_EQ(who->PostJson(payment + "/api/accounts/alice/deposit", {{"amountCents", 1'000'000}}).status, 403);
    }
  EXPECT_EQ(anonymous.PutJson(Gw() + "/api/products/SKU-ACCESS", {{"name", "free"}, {"priceCents", 0}, {"available", 1}}).status, 401);
  EXPECT_EQ(anonymous.Get(Gw() + "/api/products/SKU-ACCESS").Json()["priceCents"], 100) << "the catalog is public, and unchanged";
}

TEST_F(AccessTest, IdentityHeadersAClientSendsChangeNothing) {
  http::ClientRequest r{"GET", Gw() + "/api/accounts/alice", {}, {}, {}};
  for (const char* h : {"X-User-Id", "X-Customer-Id", "X-Roles", "X-Principal", "X-Forwarded-User"}) r.headers.Set(h, "alice");
  r.headers.Set("X-Roles", "admin");
  EXPECT_EQ(http::HttpClient().Send(r).status, 401) << "no token: the headers are no identity";
  r.headers.Set("Authorization", "Bearer " + platform_->Token("bob"));
  EXPECT_EQ(http::HttpClient().Send(r).status, 403) << "bob stays bob";
}

TEST_F(AccessTest, ServicesCallEachOtherWithTheirOwnClientCredentials) {
  ApiClient alice(platform_->Token("alice"));
  const std::string id = Place(alice, "alice");
  // The dashboard reads the order and its notifications from the services
  // with its client_credentials token (role service), for a signed-in viewer.
  ApiClient viewer;
  EXPECT_EQ(viewer.Get(U("dashboard") + "/api/orders/" + id).status, 401) << "no session";
  ASSERT_TRUE(viewer.SignInToDashboard(U("dashboard"), "viewer", "viewer-secret"));
  json seen;
  EXPECT_TRUE(WaitUntil([&] {
    auto r = viewer.Get(U("dashboard") + "/api/orders/" + id);
    if (r.status != 200) return false;
    seen = r.Json();
    return seen.contains("order") && seen["order"]["orderId"] == id;
  }, 30s)) << seen.dump();
}

TEST_F(AccessTest, RepeatedFailedSignInsAre429WithRetryAfter) {
  const std::string user = "mallory-" + NewUuid().substr(0, 8);
  http::ClientRequest up{"POST", Gw() + "/api/users", {}, json{{"username", user}, {"password", "mallory-password"}}.dump(), {}};
  up.headers.Set("Content-Type", "application/json");
  ASSERT_EQ(http::HttpClient().Send(up).status, 201);
  for (int i = 0; i < 5; ++i) EXPECT_EQ(Form("/oauth2/token", "grant_type=password&username=" + user + "&password=guess" + std::to_string(i)).status, 400);
  auto blocked = Form("/oauth2/token", "grant_type=password&username=" + user + "&password=mallory-password");
  EXPECT_EQ(blocked.status, 429) << "even the right password waits: the guesser cannot tell";
  EXPECT_GE(std::stoi(blocked.headers.Get("retry-after").value_or("0")), 1);
}

TEST_F(AccessTest, OrdersStreamThroughKeyRotationsWithoutAFailure) {
  auto signed_in = Form("/oauth2/token", "grant_type=password&username=alice&password=alice-secret");
  ASSERT_EQ(signed_in.status, 200) << signed_in.body;
  std::string refresh = signed_in.Json()["refresh_token"];
  std::set<std::string> kids;
  int failures = 0, placed = 0;
  std::string last_failure;
  const auto end = std::chrono::steady_clock::now() + 30s;  // more than two rotations of 12 s
  while (std::chrono::steady_clock::now() < end) {
    // a fresh access token each round: signed by whichever key signs now
    auto t = Form("/oauth2/token", "grant_type=refresh_token&refresh_token=" + refresh);
    ASSERT_EQ(t.status, 200) << t.body;
    refresh = t.Json()["refresh_token"];
    const std::string token = t.Json()["access_token"];
    auto header = json::parse(*auth::Base64UrlDecode(token.substr(0, token.find('.'))));
    kids.insert(header["kid"].get<std::string>());
    ApiClient alice(token);
    for (int i = 0; i < 5; ++i) {
      auto r = alice.PostJson(Gw() + "/api/orders", {{"customerId", "alice"}, {"items", {{{"sku", "SKU-ACCESS"}, {"quantity", 1}}}}});
      auto read = r.status == 202 ? alice.Get(Gw() + "/api/orders/" + r.Json()["orderId"].get<std::string>()) : r;
      if (r.status != 202 || read.status != 200) {
        ++failures;
        last_failure = std::to_string(r.status) + " " + r.body + " / " + std::to_string(read.status) + " " + read.body;
      } else {
        ++placed;
      }
    }
  }
  EXPECT_GE(kids.size(), 2u) << "the keys rotated while orders streamed";
  EXPECT_EQ(failures, 0) << placed << " placed; last failure: " << last_failure;
}

}  // namespace
}  // namespace op
