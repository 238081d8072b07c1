#include "services/identity/tokens.h"

#include <jwt.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <nlohmann/json.hpp>
#include <stdexcept>

#include "runtime/auth/jwk.h"

namespace op::identity {


std::string SignAccessToken(const SigningKey& key, const AccessClaims& c, std::chrono::system_clock::time_point now,
                            std::chrono::seconds lifetime) {
  const int64_t iat = std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();
  nlohmann::json grants = {{"iss", c.issuer}, {"sub", c.subject}, {"aud", c.audience}, {"iat", iat},
                           {"exp", iat + lifetime.count()}, {"jti", NewId()}, {"roles", c.roles}};
  if (!c.customer_id.empty()) grants["customer_id"] = c.customer_id;
  jwt_t* j = nullptr;
  if (jwt_new(&j) != 0) throw std::runtime_error("jwt_new failed");
  std::unique_ptr<jwt_t, void (*)(jwt_t*)> owned(j, jwt_free);
  if (jwt_set_alg(j, JWT_ALG_ES256, reinterpret_cast<const unsigned char*>(key.private_pem.data()),
                  int(key.private_pem.size())) != 0 ||
      jwt_add_header(j, "kid", key.kid.c_str()) != 0 || jwt_add_grants_json(j, grants.dump().c_str()) != 0)
    throw std::runtime_error("cannot build the access token");
  char* text = jwt_encode_str(j);
  if (!text) throw std::runtime_error("cannot sign the access token");
  std::string token(text);
  free(text);
  return token;
}

std::string NewRefreshToken() { return auth::RandomToken(32); }
std::string NewId() { return auth::RandomToken(16); }

std::string TokenHash(const std::string& token) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  EVP_Digest(token.data(), token.size(), digest, &n, EVP_sha256(), nullptr);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned int i = 0; i < n; ++i) out += {kHex[digest[i] >> 4], kHex[digest[i] & 15]};
  return out;
}

}  // namespace op::identity
