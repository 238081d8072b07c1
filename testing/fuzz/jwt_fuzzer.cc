// What a caller puts after "Bearer ": the token verifier with a real key set
// (one ES256 and one RS256 key). The first byte picks the input's role:
//   even: the token itself;
//   odd:  a JWKS document (ParseJwks, what the identity service's endpoint
//         could return), then base64url decoding of the same text.
// Nothing made up may verify: there is no private key here to sign with.
#include <cstdlib>
#include <memory>
#include <string>

#include "runtime/auth/jwk.h"
#include "runtime/auth/token_verifier.h"
#include "runtime/core/json.h"

namespace {

op::auth::TokenVerifier& Verifier() {
  static auto* v = [] {
    nlohmann::json jwks = {{"keys", nlohmann::json::array({op::auth::PublicJwk(op::auth::NewPrivateKeyPem("ES256"), "ec-1"),
                                                           op::auth::PublicJwk(op::auth::NewPrivateKeyPem("RS256"), "rsa-1")})}};
    op::auth::VerifierOptions o;
    o.issuer = "http://identity-service:8085";
    o.min_refetch_interval = std::chrono::hours(24);  // a made-up kid costs no fetch after the first
    return new op::auth::TokenVerifier(o, op::auth::TokenVerifier::FetchJwks([text = jwks.dump()](std::string*) {
      return std::optional<std::string>(text);
    }));
  }();
  return *v;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  std::string_view input(reinterpret_cast<const char*>(data) + 1, size - 1);
  if (data[0] % 2 == 0) {
    auto r = Verifier().Verify(input);
    if (r.principal) std::abort();  // forged
    return 0;
  }
  if (auto doc = op::ParseJson(input)) (void)op::auth::ParseJwks(*doc);
  (void)op::auth::Base64UrlDecode(std::string(input));
  return 0;
}
