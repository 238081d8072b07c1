#pragma once
// Password hashing: Argon2id (RFC 9106) through libargon2, a salt of its own
// per hash, the parameters kept in the encoded hash so they can be raised
// later without invalidating stored ones. Deliberately slow: callers run it
// behind a bulkhead so a sign-in flood cannot take every server thread.
// Passwords are never logged, stored or returned; only the encoded hash is.
#include <cstdint>
#include <string>

namespace op::identity {

struct PasswordPolicy {
  uint32_t time_cost = 3;           // passes
  uint32_t memory_kib = 64 * 1024;  // RFC 9106's second recommended option
  uint32_t parallelism = 1;
};

// "$argon2id$v=19$m=...,t=...,p=...$salt$hash"
std::string HashPassword(const std::string& password, const PasswordPolicy& policy = {});
bool VerifyPassword(const std::string& password, const std::string& encoded);

}  // namespace op::identity
