#pragma once
// Verifies the platform's access tokens (JWT, RFC 7519; DESIGN section 10):
// signed ES256 or RS256 with a key the identity service publishes in its
// JWKS, `kid` in the header, `iss` and `aud` as configured, `exp` (and `nbf`
// when present) within a bounded clock skew. What it refuses, and why:
//   - any algorithm but the allowed ones, `none` and every HMAC included:
//     the header's `alg` is checked before the signature, and a key is used
//     only with the algorithm of its own type (an RSA or EC public key is
//     never an HMAC secret: RFC 8725 §2.1, §3.1);
//   - an unknown `kid`: the JWKS is fetched again, at most once per
//     `min_refetch_interval` (a flood of made-up kids costs one fetch), then
//     the token is refused;
//   - a token over 8 KiB, malformed base64url or JSON, a missing `sub`.
//
// Threads: Verify() may be called from any thread; keys are swapped under a
// mutex, a fetch runs on the calling thread (one at a time).
#include <chrono>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>

#include "runtime/auth/jwk.h"
#include "runtime/core/clock.h"

namespace op::auth {

struct VerifierOptions {
  std::string issuer;                        // the identity service's
  std::string audience = "order-platform";
  std::chrono::seconds max_skew{60};
  std::set<std::string> algorithms{"ES256", "RS256"};
  std::chrono::milliseconds min_refetch_interval{std::chrono::seconds(10)};
};

// Who is calling, from a verified token.
struct Principal {
  std::string subject;      // sub
  std::string customer_id;  // customer_id (empty for service and staff tokens)
  std::set<std::string> roles;
  std::string token_id;     // jti
  std::chrono::system_clock::time_point expires;
  bool HasRole(const std::string& role) const { return roles.count(role) > 0; }
};

class TokenVerifier {
 public:
  // The JWKS document as text (nullopt and `error` when it cannot be had).
  using FetchJwks = std::function<std::optional<std::string>(std::string* error)>;
  TokenVerifier(VerifierOptions options, FetchJwks fetch, const Clock& clock = SystemClock::Instance());

  struct Result {
    std::optional<Principal> principal;
    std::string error;  // why not, for WWW-Authenticate's error_description (no secret in it)
  };
  Result Verify(std::string_view token);

  size_t Fetches() const;  // JWKS fetches so far (tests, metrics)

 private:
  std::optional<Jwk> KeyFor(const std::string& kid);
  bool Refetch();  // under fetch_mu_; false when rate-limited or failed

  const VerifierOptions options_;
  FetchJwks fetch_;
  const Clock& clock_;
  mutable std::mutex mu_;                   // keys_
  std::map<std::string, Jwk> keys_;         // by kid
  std::mutex fetch_mu_;                     // one fetch at a time
  std::optional<Clock::TimePoint> last_fetch_;  // under fetch_mu_
  size_t fetches_ = 0;                      // under mu_
};

}  // namespace op::auth
