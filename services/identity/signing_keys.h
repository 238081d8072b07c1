#pragma once
// identity-service's signing keys: ES256 (P-256) key pairs, each with a kid.
// The newest signs; one is made when there is none or the current one is
// older than the rotation interval. A retired key stays in the JWKS until
// the last token it signed has expired (retired + access-token lifetime),
// then it is dropped: verifiers refetch the JWKS when they meet a new kid.
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
};

SigningKey NewSigningKey(std::chrono::system_clock::time_point now);

// What a key set should become at `now`: maybe a new key (the newest is
// then the signer, the one before it retired), keys whose last token has
// expired dropped. Returns true when anything changed.
bool Rotate(std::vector<SigningKey>& keys, std::chrono::system_clock::time_point now, const KeyPolicy& policy);
// The key that signs (the newest not retired); nullptr when there is none.
const SigningKey* Signer(const std::vector<SigningKey>& keys);
// {"keys":[...]}: the public half of every key still kept.
nlohmann::json Jwks(const std::vector<SigningKey>& keys);

}  // namespace op::identity
