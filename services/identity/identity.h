#pragma once
// What identity-service's handlers share (owned by the runtime): its
// settings, the signing keys (rotated by the "key-rotation" task, from
// identity_db), the sign-in throttle, the bulkhead that bounds password
// hashing. Its own access tokens (/api/users/me) are verified by the
// runtime's verifier, given these keys.
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "runtime/auth/token_verifier.h"
#include "runtime/core/periodic_task.h"
#include "runtime/service/service.h"
#include "services/identity/hashing_pool.h"
#include "services/identity/passwords.h"
#include "services/identity/sign_in_throttle.h"
#include "services/identity/signing_keys.h"

namespace op::identity {

struct Client {  // an OAuth client allowed the client_credentials grant
  std::string secret;
  std::set<std::string> roles;
};

struct IdentityOptions {
  std::string issuer;
  std::chrono::seconds access_ttl{std::chrono::minutes(15)};
  std::chrono::seconds refresh_ttl{std::chrono::hours(24 * 30)};
  KeyPolicy keys;
  std::map<std::string, Client> clients;  // by client id
  SignInThrottle::Limits throttle;
  std::set<std::string> trusted_proxies{"127.0.0.1"};  // whose X-Forwarded-For names the client
  PasswordPolicy passwords;
  int hashing_concurrency = 2;  // Argon2id calls at once; more wait their turn, briefly, or get 503
};

class Identity : public ServiceState {
 public:
  Identity(Service& svc, IdentityOptions options);
  Service& svc;
  const IdentityOptions options;
  SignInThrottle throttle;
  resilience::Bulkhead& hashing;  // its metrics; the pool below bounds the work
  HashingPool hashing_pool;        // where sign-in and sign-up hash (hashing_pool.h)

  std::vector<SigningKey> Keys() const;
  void RotateKeys();  // now, from identity_db

 private:
  mutable std::mutex mu_;
  std::vector<SigningKey> keys_;
  PeriodicTask rotation_;  // last: stops first
};

}  // namespace op::identity
