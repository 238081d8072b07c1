// A program's client_credentials token: what it sends, when it renews, what
// it does while the identity service is away.
#include "runtime/auth/client_tokens.h"
#include "runtime/auth/basic.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace op::auth {
namespace {

using namespace std::chrono_literals;

struct FakeIdentity {
  int served = 0;
  bool up = true;
  int status = 200;
  std::string form, basic;
  ClientTokens::Send Sender() {
    return [this](const std::string& f, const std::string& b, std::string* error) -> std::optional<ClientTokens::Answer> {
      form = f;
      basic = b;
      if (!up) {
        *error = "connection refused";
        return std::nullopt;
      }
      ++served;
      if (status != 200) return ClientTokens::Answer{status, R"({"error":"invalid_client"})"};
      return ClientTokens::Answer{200, nlohmann::json{{"access_token", "t" + std::to_string(served)}, {"token_type", "Bearer"},
                                                      {"expires_in", 100}}.dump()};
    };
  }
};

TEST(ClientTokensTest, SendsTheClientsCredentialsByBasicAndRenewsAt80PercentOfTheLifetime) {
  ManualClock clock;
  FakeIdentity idp;
  ClientTokens tokens({"dash board", "s3cret:with/odd+chars"}, idp.Sender(), clock);
  EXPECT_EQ(tokens.Get(), "t1");
  EXPECT_EQ(idp.form, "grant_type=client_credentials");
  // base64("dash%20board:s3cret%3Awith%2Fodd%2Bchars")
  EXPECT_EQ(idp.basic, "Basic ZGFzaCUyMGJvYXJkOnMzY3JldCUzQXdpdGglMkZvZGQlMkJjaGFycw==");
  clock.Advance(79s);
  EXPECT_EQ(tokens.Get(), "t1") << "still fresh";
  clock.Advance(2s);
  EXPECT_EQ(tokens.Get(), "t2") << "renewed before it expires";
  EXPECT_EQ(tokens.Fetches(), 2u);
}

TEST(ClientTokensTest, KeepsAValidTokenWhileTheIdentityServiceIsAwayAndThenSaysWhy) {
  ManualClock clock;
  FakeIdentity idp;
  ClientTokens tokens({"dashboard", "dashboard-secret-123"}, idp.Sender(), clock);
  ASSERT_EQ(tokens.Get(), "t1");
  idp.up = false;
  clock.Advance(90s);
  EXPECT_EQ(tokens.Get(), "t1") << "past renewal, not past expiry";
  EXPECT_EQ(tokens.Fetches(), 2u);
  EXPECT_EQ(tokens.Get(), "t1");
  EXPECT_EQ(tokens.Fetches(), 2u) << "a failed fetch is not retried within a second";
  clock.Advance(11s);
  std::string error;
  EXPECT_EQ(tokens.Get(&error), std::nullopt);
  EXPECT_NE(error.find("did not answer"), std::string::npos) << error;
  idp.up = true;
  idp.status = 401;
  clock.Advance(2s);
  EXPECT_EQ(tokens.Get(&error), std::nullopt);
  EXPECT_NE(error.find("refused this program's client credentials"), std::string::npos) << error;
  EXPECT_EQ(error.find("dashboard-secret-123"), std::string::npos) << "no secret in an error";
}

TEST(Basic, ParsesWhatItEncodesAndRefusesTheRest) {
  EXPECT_EQ(BasicAuthorization("eureka", "eureka-secret"), "Basic ZXVyZWthOmV1cmVrYS1zZWNyZXQ=");
  auto c = ParseBasic("basic ZXVyZWthOmV1cmVrYS1zZWNyZXQ");  // scheme case-insensitive, padding optional
  ASSERT_TRUE(c);
  EXPECT_EQ(c->user, "eureka");
  EXPECT_EQ(c->password, "eureka-secret");
  auto colon = ParseBasic(BasicAuthorization("u", "a:b"));
  ASSERT_TRUE(colon);
  EXPECT_EQ(colon->password, "a:b") << "the password is what follows the first ':'";
  EXPECT_FALSE(ParseBasic("Bearer ZXVyZWth"));
  EXPECT_FALSE(ParseBasic("Basic !!!"));
  EXPECT_FALSE(ParseBasic("Basic ZXVyZWth")) << "no ':'";
  EXPECT_FALSE(ParseBasic("Basic " + std::string(2000, 'A'))) << "over 1 KiB";
}

}  // namespace
}  // namespace op::auth
