#include "services/identity/signing_keys.h"


#include <algorithm>
#include <stdexcept>

#include "runtime/auth/jwk.h"

namespace op::identity {

SigningKey NewSigningKey(std::chrono::system_clock::time_point now) {
  return {auth::RandomToken(12), auth::NewPrivateKeyPem("ES256"), now, std::nullopt};  // the kid
}

bool Rotate(std::vector<SigningKey>& keys, std::chrono::system_clock::time_point now, const KeyPolicy& policy) {
  bool changed = false;
  const SigningKey* signer = Signer(keys);
  const SigningKey* successor = nullptr;
  for (const auto& k : keys)
    if (!k.retired && &k != signer) successor = &k;
  if (!signer || (!successor && now - signer->created >= policy.rotate_after - policy.publish_ahead)) {
    keys.push_back(NewSigningKey(now));  // the first key signs at once; a successor waits its turn
    signer = Signer(keys);
    successor = signer == &keys.back() ? nullptr : &keys.back();
    changed = true;
  }
  if (successor && now >= successor->created + policy.publish_ahead) {
    for (auto& k : keys)
      if (&k == signer) k.retired = now;
    changed = true;
  }
  // Kept until the last token it signed has expired (plus a minute of the
  // verifiers' clock skew).
  auto gone = std::remove_if(keys.begin(), keys.end(), [&](const SigningKey& k) {
    return k.retired && now >= *k.retired + policy.token_lifetime + std::chrono::minutes(1);
  });
  if (gone != keys.end()) {
    keys.erase(gone, keys.end());
    changed = true;
  }
  return changed;
}

const SigningKey* Signer(const std::vector<SigningKey>& keys) {
  const SigningKey* best = nullptr;
  for (const auto& k : keys)
    if (!k.retired && (!best || k.created < best->created)) best = &k;
  return best;
}

nlohmann::json Jwks(const std::vector<SigningKey>& keys) {
  nlohmann::json list = nlohmann::json::array();
  for (const auto& k : keys) list.push_back(auth::PublicJwk(k.private_pem, k.kid));
  return {{"keys", list}};
}

}  // namespace op::identity
