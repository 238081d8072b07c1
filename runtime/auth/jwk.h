#pragma once
// JSON Web Keys (RFC 7517) for the platform's signing algorithms: ES256
// (P-256) and RS256. A verifier turns the public keys of a JWKS into PEM for
// the JWT library; identity-service turns its public keys into JWKs.
// OpenSSL does the key work; this file only maps fields (RFC 7518 §6).
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace op::auth {

struct Jwk {
  std::string kid;
  std::string alg;         // ES256 or RS256 (from "alg", or implied by kty/crv)
  std::string public_pem;  // SubjectPublicKeyInfo
};

// One public key of a JWKS; nullopt (and `error`) for a key this platform
// does not use or cannot read: another curve, a private or symmetric key
// ("oct" is refused: an HMAC key in a JWKS is how algorithm confusion starts).
std::optional<Jwk> ParseJwk(const nlohmann::json& jwk, std::string* error = nullptr);
// Every usable key of {"keys":[...]}; unusable ones are skipped.
std::vector<Jwk> ParseJwks(const nlohmann::json& jwks);

// The public JWK of a PEM key (public or private): {"kty","crv","x","y"} or
// {"kty","n","e"}, with "kid", "alg" and "use":"sig". Throws on a key of
// another kind.
nlohmann::json PublicJwk(const std::string& pem, const std::string& kid);

// base64url without padding (RFC 7515 §2), as JWTs and JWKs use it.
std::string Base64UrlEncode(const std::string& bytes);
std::optional<std::string> Base64UrlDecode(const std::string& text);
// `bytes` random bytes from OpenSSL's CSPRNG, base64url: refresh tokens, ids,
// session ids. Throws when the generator fails.
std::string RandomToken(size_t bytes);

// A fresh private signing key as PEM (PKCS#8): "ES256" (P-256) or "RS256"
// (RSA 2048). Throws when OpenSSL cannot make one.
std::string NewPrivateKeyPem(const std::string& alg);

}  // namespace op::auth
