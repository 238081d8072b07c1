#pragma once
// What identity-service hands out: access tokens (JWT, ES256, `kid` in the
// header; claims iss, sub, aud, exp, iat, jti, roles, customer_id) and
// refresh tokens (256 random bits, base64url; stored only as their SHA-256).
#include <chrono>
#include <set>
#include <string>

#include "services/identity/signing_keys.h"

namespace op::identity {

struct AccessClaims {
  std::string issuer, subject, customer_id;  // customer_id empty for staff and service clients
  std::set<std::string> roles;
  std::string audience = "order-platform";
};

std::string SignAccessToken(const SigningKey& key, const AccessClaims& claims, std::chrono::system_clock::time_point now,
                            std::chrono::seconds lifetime);

std::string NewRefreshToken();
std::string TokenHash(const std::string& token);  // hex SHA-256, what is stored
std::string NewId();                              // a token or family id: 128 random bits, base64url

}  // namespace op::identity
