#include "services/identity/identity.h"

#include <algorithm>

#include "runtime/logging/log.h"
#include "services/identity/store.h"

namespace op::identity {

Identity::Identity(Service& s, IdentityOptions o)
    : svc(s),
      options(std::move(o)),
      throttle(options.throttle, SystemClock::Instance()),
      hashing(s.resilience().GetBulkhead("password-hashing", {options.hashing_concurrency, std::chrono::milliseconds(500)})),
      hashing_pool(options.hashing_concurrency, size_t(8 * options.hashing_concurrency)),
      rotation_("key-rotation", [this] {
        RotateKeys();
        // often enough to retire and publish on time: a tenth of the interval, 1 s to 1 min
        return std::clamp<std::chrono::milliseconds>(options.keys.rotate_after / 10, std::chrono::seconds(1), std::chrono::minutes(1));
      }) {
  RotateKeys();  // a signer before the first request
  // Its own routes verify with its own keys, not through discovery.
  svc.auth().UseKeySource([this](std::string*) -> std::optional<auth::TokenVerifier::KeySource> {
    return auth::TokenVerifier::KeySource{Jwks(Keys()).dump(), options.issuer};
  });
  rotation_.Start();
}

std::vector<SigningKey> Identity::Keys() const {
  std::lock_guard lock(mu_);
  return keys_;
}

void Identity::RotateKeys() {
  auto keys = RotateSigningKeys(svc.db(), std::chrono::system_clock::now(), options.keys);
  std::lock_guard lock(mu_);
  if (keys.size() != keys_.size() || (Signer(keys) && Signer(keys_) && Signer(keys)->kid != Signer(keys_)->kid))
    log::Info("signing keys", {{"signer", Signer(keys) ? Signer(keys)->kid : ""}, {"published", keys.size()}});
  keys_ = std::move(keys);
}

}  // namespace op::identity
