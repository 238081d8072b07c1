#include "services/identity/passwords.h"

#include <argon2.h>
#include <openssl/rand.h>

#include <stdexcept>

namespace op::identity {

std::string HashPassword(const std::string& password, const PasswordPolicy& p) {
  unsigned char salt[16];
  if (RAND_bytes(salt, sizeof salt) != 1) throw std::runtime_error("no randomness for a password salt");
  constexpr uint32_t kHashLen = 32;
  std::string encoded(argon2_encodedlen(p.time_cost, p.memory_kib, p.parallelism, sizeof salt, kHashLen, Argon2_id), '\0');
  int rc = argon2id_hash_encoded(p.time_cost, p.memory_kib, p.parallelism, password.data(), password.size(), salt,
                                 sizeof salt, kHashLen, encoded.data(), encoded.size());
  if (rc != ARGON2_OK) throw std::runtime_error(std::string("argon2id: ") + argon2_error_message(rc));
  encoded.resize(encoded.find('\0'));
  return encoded;
}

bool VerifyPassword(const std::string& password, const std::string& encoded) {
  if (encoded.rfind("$argon2id$", 0) != 0) return false;
  return argon2id_verify(encoded.c_str(), password.data(), password.size()) == ARGON2_OK;
}

}  // namespace op::identity
