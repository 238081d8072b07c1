#include "services/identity/identity.h"

#include "runtime/logging/log.h"
#include "services/identity/store.h"

namespace op::identity {

Identity::Identity(Service& s, IdentityOptions o)
    : svc(s),
      options(std::move(o)),
      throttle(options.throttle, SystemClock::Instance()),
      hashing(s.resilience().GetBulkhead("password-hashing", {options.hashing_concurrency, std::chrono::milliseconds(500)})),
      verifier({options.issuer, "order-platform", std::chrono::seconds(60), {"ES256"}, std::chrono::seconds(1)},
               [this](std::string*) -> std::optional<std::string> { return Jwks(Keys()).dump(); }),
      rotation_("key-rotation", [this] {
        RotateKeys();
        return std::chrono::milliseconds(std::chrono::minutes(1));
      }) {
  RotateKeys();  // a signer before the first request
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
