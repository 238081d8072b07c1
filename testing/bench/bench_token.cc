// For gateway_bench's authenticated path: a fresh ES256 key, the JWKS and the
// discovery document an identity service would publish for it (written under
// DIR/.well-known/), and one access token signed with it (printed), valid for
// an hour: usage: bench_token DIR ISSUER
#include <jwt.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>

#include <nlohmann/json.hpp>

#include "runtime/auth/jwk.h"

int main(int argc, char** argv) {
  if (argc != 3) {
    std::cerr << "usage: bench_token DIR ISSUER\n";
    return 2;
  }
  const std::string dir = argv[1], issuer = argv[2];
  EVP_PKEY* key = EVP_EC_gen("P-256");
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_PrivateKey(bio, key, nullptr, nullptr, 0, nullptr, nullptr);
  char* data = nullptr;
  long n = BIO_get_mem_data(bio, &data);
  const std::string pem(data, size_t(n));
  BIO_free(bio);
  EVP_PKEY_free(key);

  std::filesystem::create_directories(dir + "/.well-known");
  std::ofstream(dir + "/.well-known/jwks.json") << nlohmann::json{{"keys", {op::auth::PublicJwk(pem, "bench-1")}}}.dump();
  std::ofstream(dir + "/.well-known/openid-configuration")
      << nlohmann::json{{"issuer", issuer}, {"jwks_uri", issuer + "/.well-known/jwks.json"}}.dump();

  const int64_t now = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  jwt_t* j = nullptr;
  jwt_new(&j);
  jwt_set_alg(j, JWT_ALG_ES256, reinterpret_cast<const unsigned char*>(pem.data()), int(pem.size()));
  jwt_add_header(j, "kid", "bench-1");
  nlohmann::json claims = {{"iss", issuer}, {"sub", "alice"}, {"aud", "order-platform"}, {"customer_id", "alice"},
                           {"roles", {"customer"}}, {"jti", "bench"}, {"iat", now}, {"exp", now + 3600}};
  jwt_add_grants_json(j, claims.dump().c_str());
  char* token = jwt_encode_str(j);
  if (!token) return 1;
  std::cout << token << "\n";
  free(token);
  jwt_free(j);
  return 0;
}
