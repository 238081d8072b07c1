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
//     `min_refetch_interval` (a flood of made-up kids costs one fetch; after
//     a failed fetch, once a second), then the token is refused;
//   - a token over 8 KiB, malformed base64url or JSON, a missing `sub`.
//
// A verified token is remembered (bounded: 16 shards of 1,024) until it
// expires or the keys are fetched again, so a client's next requests cost a
// hash look-up instead of a signature check (the gateway's budget per
// request is a few microseconds; an ES256 verification is about 100).
//
// The issuer is configured, or, when `issuer` is empty, learned from the key
// source (the identity service's discovery document, fetched with its keys).
//
// Threads: Verify() may be called from any thread; keys are swapped under a
// mutex, a fetch runs on the calling thread (one at a time, at most one per
// `min_refetch_interval`).
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>

#include "runtime/auth/jwk.h"
#include "runtime/auth/principal.h"
#include "runtime/core/clock.h"

namespace op::auth {

struct VerifierOptions {
  std::string issuer;                        // the identity service's; empty: learned from the key source
  std::string audience = "order-platform";
  std::chrono::seconds max_skew{60};
  std::set<std::string> algorithms{"ES256", "RS256"};
  std::chrono::milliseconds min_refetch_interval{std::chrono::seconds(10)};
};

class TokenVerifier {
 public:
  // The JWKS document as text (nullopt and `error` when it cannot be had);
  // a source that also knows the issuer sets `*issuer`.
  struct KeySource {
    std::string jwks;
    std::string issuer;  // empty: not known to the source
  };
  using FetchJwks = std::function<std::optional<std::string>(std::string* error)>;
  using FetchKeys = std::function<std::optional<KeySource>(std::string* error)>;
  TokenVerifier(VerifierOptions options, FetchJwks fetch, const Clock& clock = SystemClock::Instance());
  TokenVerifier(VerifierOptions options, FetchKeys fetch, const Clock& clock = SystemClock::Instance());
  ~TokenVerifier();

  struct Result {
    std::shared_ptr<const Principal> principal;
    std::string error;  // why not, for WWW-Authenticate's error_description (no secret in it)
    int64_t not_before = 0;  // nbf, seconds since the epoch (when verified)
    bool unavailable = false;  // refused for want of keys: none fetched yet, or the last fetch failed
  };
  Result Verify(std::string_view token);

  size_t Fetches() const;  // JWKS fetches so far (tests, metrics)
  // Fetches the keys now, whatever the rate limit (a program's periodic
  // refresh, so it knows a key before the first token it signs arrives).
  bool Refresh();

 private:
  class Cache;
  Result VerifyUncached(std::string_view token);
  std::optional<Jwk> KeyFor(const std::string& kid);
  bool Refetch();  // under fetch_mu_; false when rate-limited or failed

  const VerifierOptions options_;
  FetchKeys fetch_;
  const Clock& clock_;
  std::unique_ptr<Cache> cache_;
  mutable std::mutex mu_;                   // keys_, issuer_
  std::map<std::string, Jwk> keys_;         // by kid
  std::string issuer_;                      // options_.issuer, or learned
  std::mutex fetch_mu_;                     // one fetch at a time
  std::optional<Clock::TimePoint> last_fetch_;  // under fetch_mu_
  bool last_fetch_failed_ = false;              // under fetch_mu_
  size_t fetches_ = 0;                      // under mu_
};

}  // namespace op::auth
