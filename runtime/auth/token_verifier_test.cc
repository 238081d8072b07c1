// The access-token verifier against tokens signed by libjwt with real keys:
// the accepted shapes and the whole negative matrix of DESIGN section 10.
#include "runtime/auth/token_verifier.h"

#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <mutex>
#include <thread>

#include "testing/fixtures/jwt_signer.h"

namespace op::auth {
namespace {

using namespace std::chrono_literals;

using op::testing::SignJwt;
std::string NewEcKey() { return op::testing::NewEcPem(); }
std::string NewRsaKey() { return op::testing::NewRsaPem(); }

struct Claims {
  std::string iss = "http://identity", sub = "alice", customer = "alice";
  nlohmann::json aud = "order-platform";
  nlohmann::json roles = {"customer"};
  std::optional<int64_t> exp, nbf, iat;
};

// A token as identity-service would sign it, or as an attacker might.
std::string Sign(jwt_alg_t alg, const std::string& key, const std::string& kid, const Claims& c, int64_t now) {
  nlohmann::json grants = {{"iss", c.iss}, {"sub", c.sub}, {"aud", c.aud}, {"roles", c.roles},
                           {"customer_id", c.customer}, {"jti", "t-1"}, {"exp", c.exp.value_or(now + 900)}};
  if (c.nbf) grants["nbf"] = *c.nbf;
  grants["iat"] = c.iat.value_or(now);
  return SignJwt(alg, key, kid, grants);
}

class TokenVerifierTest : public ::testing::Test {
 protected:
  TokenVerifierTest() : ec_(NewEcKey()), rsa_(NewRsaKey()) {
    jwks_ = {{"keys", {PublicJwk(ec_, "ec-1"), PublicJwk(rsa_, "rsa-1")}}};
  }
  TokenVerifier Make() {
    VerifierOptions o;
    o.issuer = "http://identity";
    return TokenVerifier(o, [this](std::string*) -> std::optional<std::string> {
      ++served_;
      return jwks_.dump();
    }, clock_);
  }
  int64_t Now() const { return std::chrono::duration_cast<std::chrono::seconds>(clock_.WallNow().time_since_epoch()).count(); }
  std::string Es(const Claims& c = {}, const std::string& kid = "ec-1") { return Sign(JWT_ALG_ES256, ec_, kid, c, Now()); }

  ManualClock clock_;
  std::string ec_, rsa_;
  nlohmann::json jwks_;
  int served_ = 0;
};

TEST_F(TokenVerifierTest, AcceptsES256AndRS256WithThePrincipalsClaims) {
  auto v = Make();
  auto r = v.Verify(Es());
  ASSERT_TRUE(r.principal) << r.error;
  EXPECT_EQ(r.principal->subject, "alice");
  EXPECT_EQ(r.principal->customer_id, "alice");
  EXPECT_TRUE(r.principal->HasRole("customer"));
  EXPECT_FALSE(r.principal->HasRole("admin"));
  EXPECT_EQ(r.principal->token_id, "t-1");
  Claims staff;
  staff.sub = "admin";
  staff.customer = "";
  staff.roles = {"admin"};
  staff.aud = {"other", "order-platform"};
  auto rs = v.Verify(Sign(JWT_ALG_RS256, rsa_, "rsa-1", staff, Now()));
  ASSERT_TRUE(rs.principal) << rs.error;
  EXPECT_TRUE(rs.principal->HasRole("admin"));
  EXPECT_EQ(v.Fetches(), 1u) << "the JWKS is fetched once and kept";
}

TEST_F(TokenVerifierTest, RefusesEveryAlgorithmItDoesNotAccept) {
  auto v = Make();
  EXPECT_EQ(v.Verify(Sign(JWT_ALG_NONE, "", "ec-1", {}, Now())).error, "algorithm 'none' is not accepted");
  // HS256 keyed with the public key: a valid HMAC for anyone who has the JWKS.
  const std::string public_pem = ParseJwk(PublicJwk(rsa_, "rsa-1"))->public_pem;
  auto forged = v.Verify(Sign(JWT_ALG_HS256, public_pem, "rsa-1", {}, Now()));
  EXPECT_FALSE(forged.principal);
  EXPECT_EQ(forged.error, "algorithm 'HS256' is not accepted");
  // RS256 claimed for an EC key (and the other way round) is no signature.
  EXPECT_EQ(v.Verify(Sign(JWT_ALG_RS256, rsa_, "ec-1", {}, Now())).error, "the key does not sign with RS256");
  EXPECT_EQ(v.Verify(Sign(JWT_ALG_ES256, ec_, "rsa-1", {}, Now())).error, "the key does not sign with ES256");
}

TEST_F(TokenVerifierTest, RefusesForgedAndMalformedTokens) {
  auto v = Make();
  EXPECT_EQ(v.Verify(Sign(JWT_ALG_ES256, NewEcKey(), "ec-1", {}, Now())).error, "bad signature") << "another key, same kid";
  auto good = Es();
  std::string tampered = good;
  tampered[good.find('.') + 5] ^= 1;  // a claim changed after signing
  EXPECT_FALSE(v.Verify(tampered).principal);
  for (const std::string& garbage : std::vector<std::string>{"", "abc", "a.b.c", "a.b", "a.b.c.d", std::string(9000, 'a'), "eyJhbGciOiJFUzI1NiJ9.e30.AAAA"})
    EXPECT_FALSE(v.Verify(garbage).principal) << garbage.substr(0, 40);
  EXPECT_EQ(v.Verify(Es({}, "")).error, "the token has no kid");
  Claims no_sub;
  no_sub.sub = "";
  EXPECT_EQ(v.Verify(Es(no_sub)).error, "the token has no sub");
}

TEST_F(TokenVerifierTest, ChecksIssuerAudienceAndTimeWithBoundedSkew) {
  auto v = Make();
  Claims c;
  c.iss = "http://evil";
  EXPECT_EQ(v.Verify(Es(c)).error, "wrong issuer");
  c = {};
  c.aud = "another-platform";
  EXPECT_EQ(v.Verify(Es(c)).error, "wrong audience");
  c = {};
  c.exp = Now() - 61;
  EXPECT_EQ(v.Verify(Es(c)).error, "the token has expired");
  c.exp = Now() - 59;
  EXPECT_TRUE(v.Verify(Es(c)).principal) << "within 60 s of skew";
  c = {};
  c.nbf = Now() + 120;
  EXPECT_EQ(v.Verify(Es(c)).error, "the token is not valid yet");
  auto later = Es();
  clock_.Advance(std::chrono::seconds(900 + 61));
  EXPECT_EQ(v.Verify(later).error, "the token has expired") << "time moves on the injected clock";
}

TEST_F(TokenVerifierTest, AnUnknownKidRefetchesTheJwksAtMostOncePerInterval) {
  auto v = Make();
  ASSERT_TRUE(v.Verify(Es()).principal);
  ASSERT_EQ(served_, 1);
  // Rotation: a new key appears in the JWKS after the verifier cached it.
  const std::string ec2 = NewEcKey();
  jwks_["keys"].push_back(PublicJwk(ec2, "ec-2"));
  auto rotated = Sign(JWT_ALG_ES256, ec2, "ec-2", {}, Now());
  clock_.Advance(11s);
  EXPECT_TRUE(v.Verify(rotated).principal) << "one refetch finds the new key";
  EXPECT_EQ(served_, 2);
  // A flood of made-up kids: one refetch per interval, every token refused.
  for (int i = 0; i < 50; ++i) EXPECT_EQ(v.Verify(Es({}, "made-up-" + std::to_string(i))).error, "unknown signing key");
  EXPECT_EQ(served_, 2) << "rate-limited";
  clock_.Advance(11s);
  EXPECT_FALSE(v.Verify(Es({}, "made-up")).principal);
  EXPECT_EQ(served_, 3);
  // A key retired from the JWKS is trusted no longer after the next fetch.
  jwks_["keys"].erase(jwks_["keys"].begin());
  clock_.Advance(11s);
  EXPECT_FALSE(v.Verify(Es({}, "made-up-2")).principal);
  EXPECT_EQ(v.Verify(Es()).error, "unknown signing key");
}

TEST_F(TokenVerifierTest, ARememberedTokenStillExpiresAndOneSignatureCheckServesItsRepeats) {
  auto v = Make();
  auto token = Es();
  auto first = v.Verify(token);
  ASSERT_TRUE(first.principal) << first.error;
  auto again = v.Verify(token);
  ASSERT_TRUE(again.principal);
  EXPECT_EQ(again.principal.get(), first.principal.get()) << "the second answer came from the cache";
  auto tampered = token;
  char& c = tampered[tampered.size() - 10];  // inside the signature (the last character is partly padding bits)
  c = c == 'A' ? 'B' : 'A';
  EXPECT_FALSE(v.Verify(tampered).principal) << "another text is verified on its own";
  clock_.Advance(std::chrono::seconds(900 + 61));
  EXPECT_EQ(v.Verify(token).error, "the token has expired") << "a remembered token is not remembered past its exp";
}

TEST_F(TokenVerifierTest, WhileTheKeysCannotBeHadATokenIsUncheckedNotBad) {
  bool up = false;
  TokenVerifier v({"http://identity"}, [&](std::string* error) -> std::optional<std::string> {
    if (!up) {
      *error = "connection refused";
      return std::nullopt;
    }
    return jwks_.dump();
  }, clock_);
  auto r = v.Verify(Es());
  EXPECT_FALSE(r.principal);
  EXPECT_TRUE(r.unavailable) << "no keys yet: the caller answers 503, not 401";
  up = true;
  clock_.Advance(2s);  // a failed fetch may be retried after a second
  EXPECT_TRUE(v.Verify(Es()).principal);
  auto made_up = v.Verify(Es({}, "made-up"));
  EXPECT_FALSE(made_up.unavailable) << "keys in hand: an unknown kid is the token's fault";
}

TEST_F(TokenVerifierTest, WithoutAConfiguredIssuerItTakesTheKeySourcesAndOnlyThat) {
  TokenVerifier v(VerifierOptions{}, TokenVerifier::FetchKeys([this](std::string*) -> std::optional<TokenVerifier::KeySource> {
    return TokenVerifier::KeySource{jwks_.dump(), "http://identity"};
  }), clock_);
  EXPECT_TRUE(v.Verify(Es()).principal) << "the issuer learned with the keys";
  Claims c;
  c.iss = "http://evil";
  EXPECT_EQ(v.Verify(Es(c)).error, "wrong issuer");
  TokenVerifier unknown(VerifierOptions{}, TokenVerifier::FetchKeys([this](std::string*) -> std::optional<TokenVerifier::KeySource> {
    return TokenVerifier::KeySource{jwks_.dump(), ""};
  }), clock_);
  EXPECT_EQ(unknown.Verify(Es()).error, "wrong issuer") << "no issuer known: nothing is accepted";
}

TEST_F(TokenVerifierTest, ManyThreadsVerifyWhileTheKeysAreRefreshed) {
  // Threads verify a few tokens over and over (cache hits and misses) while
  // another refreshes the keys (the cache cleared under them); under TSan
  // this is the data-race check of the cache and the key swap.
  std::mutex served_mu;
  VerifierOptions o;
  o.issuer = "http://identity";
  const std::string jwks = jwks_.dump();
  TokenVerifier v(o, [&](std::string*) -> std::optional<std::string> {
    std::lock_guard lock(served_mu);
    return jwks;
  }, clock_);
  std::vector<std::string> tokens;
  for (int i = 0; i < 4; ++i) {
    Claims c;
    c.sub = "user-" + std::to_string(i);
    tokens.push_back(Es(c));
  }
  std::atomic<int> verified{0}, refused{0};
  std::atomic<bool> stop{false};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t)
    threads.emplace_back([&, t] {
      for (int i = 0; i < 300; ++i) {
        auto r = v.Verify(tokens[(t + i) % tokens.size()]);
        (r.principal ? verified : refused)++;
      }
    });
  std::thread refresher([&] {
    while (!stop) v.Refresh();
  });
  for (auto& t : threads) t.join();
  stop = true;
  refresher.join();
  EXPECT_EQ(verified.load(), 8 * 300);
  EXPECT_EQ(refused.load(), 0);
}

TEST(JwkTest, PublicKeysRoundTripAndOthersAreRefused) {
  const std::string ec = NewEcKey();
  auto jwk = PublicJwk(ec, "k1");
  EXPECT_EQ(jwk["kty"], "EC");
  EXPECT_FALSE(jwk.contains("d")) << "never the private part";
  auto parsed = ParseJwk(jwk);
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->alg, "ES256");
  EXPECT_NE(parsed->public_pem.find("BEGIN PUBLIC KEY"), std::string::npos);
  std::string error;
  EXPECT_FALSE(ParseJwk({{"kty", "oct"}, {"kid", "h"}, {"k", "c2VjcmV0"}}, &error));
  EXPECT_NE(error.find("oct"), std::string::npos);
  auto with_private = jwk;
  with_private["d"] = "AAAA";
  EXPECT_FALSE(ParseJwk(with_private));
  auto bad_point = jwk;
  bad_point["x"] = Base64UrlEncode(std::string(32, '\x01'));
  EXPECT_FALSE(ParseJwk(bad_point)) << "not a point on P-256";
  EXPECT_EQ(Base64UrlDecode(Base64UrlEncode("any bytes\xff")), std::string("any bytes\xff"));
  EXPECT_FALSE(Base64UrlDecode("a=="));
}

}  // namespace
}  // namespace op::auth
