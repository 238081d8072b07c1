#pragma once
// identity-service's signing keys: ES256 (P-256) key pairs, each with a kid.
// The oldest key not retired signs. Its successor is made `publish_ahead`
// before the signer is due for rotation and is published in the JWKS from
// then on without signing: verifiers, which refresh their copy of the JWKS
// more often than that, know it before the first token it signs. When the
// successor's time has come the signer is retired; a retired key stays in
// the JWKS until the last token it signed has expired (retired + access
// token lifetime), then it is dropped. (A verifier that meets a kid it does
// not know also refetches, rate-limited, so a JWKS it missed costs little.)
//
// What to keep is decided here, on an injected clock; where the keys live is
// the caller's (identity_db, so every instance signs with the same keys).
#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace op::identity {

struct SigningKey {
  std::string kid;
  std::string private_pem;
  std::chrono::system_clock::time_point created;
  std::optional<std::chrono::system_clock::time_point> retired;
};

struct KeyPolicy {
  std::chrono::seconds rotate_after{std::chrono::hours(24)};
  std::chrono::seconds token_lifetime{std::chrono::minutes(15)};
  std::chrono::seconds publish_ahead{0};  // less than rotate_after
};

SigningKey NewSigningKey(std::chrono::system_clock::time_point now);

// What a key set should become at `now`: maybe a successor published, maybe
// the signer retired for it, keys whose last token has expired dropped.
// Returns true when anything changed.
bool Rotate(std::vector<SigningKey>& keys, std::chrono::system_clock::time_point now, const KeyPolicy& policy);
// The key that signs (the oldest not retired); nullptr when there is none.
const SigningKey* Signer(const std::vector<SigningKey>& keys);
// {"keys":[...]}: the public half of every key still kept.
nlohmann::json Jwks(const std::vector<SigningKey>& keys);

}  // namespace op::identity
