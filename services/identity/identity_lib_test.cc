// identity-service's pieces without a server: passwords, rules, key
// rotation on explicit times, tokens as the runtime's verifier sees them,
// the sign-in throttle on a manual clock.
#include <gtest/gtest.h>

#include "runtime/auth/basic.h"
#include "runtime/auth/token_verifier.h"
#include "services/identity/passwords.h"
#include "services/identity/rules.h"
#include "services/identity/sign_in_throttle.h"
#include "services/identity/signing_keys.h"
#include "services/identity/tokens.h"

namespace op::identity {
namespace {

using namespace std::chrono_literals;
using std::chrono::system_clock;

const PasswordPolicy kFast{1, 1024, 1};  // tests only: the real cost is 64 MiB, 3 passes

TEST(PasswordsTest, Argon2idWithASaltOfItsOwn) {
  auto a = HashPassword("correct horse battery", kFast), b = HashPassword("correct horse battery", kFast);
  EXPECT_EQ(a.rfind("$argon2id$", 0), 0u);
  EXPECT_NE(a, b) << "a salt per hash";
  EXPECT_EQ(a.find("correct horse"), std::string::npos);
  EXPECT_TRUE(VerifyPassword("correct horse battery", a));
  EXPECT_FALSE(VerifyPassword("correct horse batterY", a));
  EXPECT_FALSE(VerifyPassword("x", "$2y$10$not-argon2"));
}

TEST(RulesTest, UsernamesPasswordsAndTokenRequests) {
  EXPECT_TRUE(ValidUsername("alice"));
  EXPECT_TRUE(ValidUsername("a.b_c-1"));
  EXPECT_FALSE(ValidUsername("al"));
  EXPECT_FALSE(ValidUsername("Alice"));
  EXPECT_FALSE(ValidUsername("alice@example.com"));
  EXPECT_FALSE(ValidUsername(std::string(65, 'a')));
  EXPECT_TRUE(ValidPassword("0123456789"));
  EXPECT_FALSE(ValidPassword("012345678"));

  OAuthError e;
  auto t = ParseTokenRequest({{"grant_type", "client_credentials"}}, "Basic b3JkZXItc2VydmljZTpzM2NyZXQ=", &e);
  ASSERT_TRUE(t);
  EXPECT_EQ(t->client_id, "order-service");
  EXPECT_EQ(t->client_secret, "s3cret");
  // the parts are form-encoded inside Basic (RFC 6749 §2.3.1), as the runtime's client sends them
  auto encoded = ParseTokenRequest({{"grant_type", "client_credentials"}},
                                   auth::BasicAuthorization("dash%20board", "s3cret%3Awith%2Fodd%2Bchars"), &e);
  ASSERT_TRUE(encoded);
  EXPECT_EQ(encoded->client_id, "dash board");
  EXPECT_EQ(encoded->client_secret, "s3cret:with/odd+chars");
  EXPECT_FALSE(ParseTokenRequest({{"grant_type", "client_credentials"}}, "Basic !!!", &e));
  EXPECT_EQ(e.status, 401);
  EXPECT_EQ(e.error, "invalid_client");
  EXPECT_FALSE(ParseTokenRequest({{"grant_type", "implicit"}}, std::nullopt, &e));
  EXPECT_EQ(e.error, "unsupported_grant_type");
  EXPECT_FALSE(ParseTokenRequest({}, std::nullopt, &e));
  EXPECT_EQ(e.error, "invalid_request");
  EXPECT_FALSE(ParseTokenRequest({{"grant_type", "password"}, {"username", "alice"}}, std::nullopt, &e));
  EXPECT_EQ(e.error, "invalid_request");
}

TEST(SigningKeysTest, RotationKeepsARetiredKeyUntilItsLastTokenExpired) {
  KeyPolicy policy{24h, 15min};
  std::vector<SigningKey> keys;
  const auto t0 = system_clock::now();
  EXPECT_TRUE(Rotate(keys, t0, policy)) << "the first key";
  ASSERT_EQ(keys.size(), 1u);
  const std::string first = Signer(keys)->kid;
  EXPECT_FALSE(Rotate(keys, t0 + 23h, policy));
  EXPECT_TRUE(Rotate(keys, t0 + 24h, policy)) << "rotated";
  ASSERT_EQ(keys.size(), 2u);
  EXPECT_NE(Signer(keys)->kid, first);
  EXPECT_EQ(Jwks(keys)["keys"].size(), 2u) << "the retired key is still published";
  EXPECT_FALSE(Rotate(keys, t0 + 24h + 15min, policy)) << "its last token may still be valid (skew)";
  EXPECT_TRUE(Rotate(keys, t0 + 24h + 16min, policy));
  ASSERT_EQ(keys.size(), 1u) << "then it is dropped";
  EXPECT_EQ(Jwks(keys)["keys"][0]["kid"], Signer(keys)->kid);
  EXPECT_FALSE(Jwks(keys)["keys"][0].contains("d")) << "never the private part";
}

TEST(SigningKeysTest, ASuccessorIsPublishedAheadAndSignsOnlyWhenItsTimeComes) {
  KeyPolicy policy{24h, 15min, 10min};
  std::vector<SigningKey> keys;
  const auto t0 = system_clock::now();
  ASSERT_TRUE(Rotate(keys, t0, policy));
  const std::string first = Signer(keys)->kid;
  EXPECT_FALSE(Rotate(keys, t0 + 23h + 49min, policy));
  EXPECT_TRUE(Rotate(keys, t0 + 23h + 50min, policy)) << "the successor appears 10 min ahead";
  ASSERT_EQ(keys.size(), 2u);
  EXPECT_EQ(Signer(keys)->kid, first) << "published, not signing yet";
  EXPECT_EQ(Jwks(keys)["keys"].size(), 2u) << "verifiers can fetch it now";
  EXPECT_FALSE(Rotate(keys, t0 + 23h + 59min, policy)) << "nothing changes before its time";
  EXPECT_TRUE(Rotate(keys, t0 + 24h, policy));
  EXPECT_NE(Signer(keys)->kid, first) << "its time: it signs, the first is retired";
  EXPECT_EQ(Jwks(keys)["keys"].size(), 2u) << "the retired key stays for its tokens";
  EXPECT_TRUE(Rotate(keys, t0 + 24h + 16min, policy));
  EXPECT_EQ(keys.size(), 1u);
}

// Tokens signed before and after a rotation all verify while their key is published.
TEST(TokensTest, AccessTokensVerifyAcrossARotation) {
  KeyPolicy policy{24h, 15min};
  std::vector<SigningKey> keys;
  const auto now = system_clock::now();
  Rotate(keys, now, policy);
  AccessClaims claims{"http://identity", "alice", "alice", {"customer"}};
  const auto before = SignAccessToken(*Signer(keys), claims, now, 15min);
  Rotate(keys, now + 24h, policy);
  const auto after = SignAccessToken(*Signer(keys), claims, now, 15min);
  auth::TokenVerifier v({"http://identity"}, [&](std::string*) -> std::optional<std::string> { return Jwks(keys).dump(); });
  for (const auto& token : {before, after}) {
    auto r = v.Verify(token);
    ASSERT_TRUE(r.principal) << r.error;
    EXPECT_EQ(r.principal->customer_id, "alice");
    EXPECT_TRUE(r.principal->HasRole("customer"));
  }
  EXPECT_NE(NewRefreshToken(), NewRefreshToken());
  EXPECT_EQ(TokenHash("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(SignInThrottleTest, PerUserAndPerAddressWithinAWindow) {
  ManualClock clock;
  SignInThrottle t({3, 5, 60s}, clock);
  for (int i = 0; i < 3; ++i) {
    EXPECT_FALSE(t.RetryAfter("alice", "10.0.0.1"));
    t.Failed("alice", "10.0.0.1");
  }
  auto wait = t.RetryAfter("alice", "10.0.0.2");
  ASSERT_TRUE(wait) << "the user is throttled from any address";
  EXPECT_EQ(*wait, 60s);
  EXPECT_FALSE(t.RetryAfter("bob", "10.0.0.2"));
  t.Failed("bob", "10.0.0.1");
  t.Failed("carol", "10.0.0.1");
  EXPECT_TRUE(t.RetryAfter("dave", "10.0.0.1")) << "the address is throttled for every user";
  clock.Advance(61s);
  EXPECT_FALSE(t.RetryAfter("alice", "10.0.0.1")) << "the window is over";
  t.Failed("erin", "10.0.0.9");
  t.Succeeded("erin");
  EXPECT_FALSE(t.RetryAfter("erin", "10.0.0.8"));
}

}  // namespace
}  // namespace op::identity
