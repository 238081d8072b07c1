// For gateway_bench's authenticated path: a fresh ES256 key, the JWKS and the
// discovery document an identity service would publish for it (written under
// DIR/.well-known/), and one access token signed with it (printed), valid for
// an hour: usage: bench_token DIR ISSUER
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>

#include <nlohmann/json.hpp>

#include "runtime/auth/jwk.h"
#include "testing/fixtures/jwt_signer.h"

int main(int argc, char** argv) {
  if (argc != 3) {
    std::cerr << "usage: bench_token DIR ISSUER\n";
    return 2;
  }
  const std::string dir = argv[1], issuer = argv[2];
  const std::string pem = op::testing::NewEcPem();

  std::filesystem::create_directories(dir + "/.well-known");
  std::ofstream(dir + "/.well-known/jwks.json") << nlohmann::json{{"keys", {op::auth::PublicJwk(pem, "bench-1")}}}.dump();
  std::ofstream(dir + "/.well-known/openid-configuration")
      << nlohmann::json{{"issuer", issuer}, {"jwks_uri", issuer + "/.well-known/jwks.json"}}.dump();

  const int64_t now = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  nlohmann::json claims = {{"iss", issuer}, {"sub", "alice"}, {"aud", "order-platform"}, {"customer_id", "alice"},
                           {"roles", {"customer"}}, {"jti", "bench"}, {"iat", now}, {"exp", now + 3600}};
  const std::string token = op::testing::SignJwt(JWT_ALG_ES256, pem, "bench-1", claims);
  if (token.empty()) return 1;
  std::cout << token << "\n";
  return 0;
}
