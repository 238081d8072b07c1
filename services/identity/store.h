#pragma once
// identity_db, all of its SQL: users, refresh tokens (hashes only, in
// families), signing keys. Times are Unix seconds.
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "runtime/db/db.h"
#include "runtime/db/migrations.h"
#include "services/identity/signing_keys.h"

namespace op::identity {

std::vector<db::Migration> Migrations();

struct User {
  std::string username, password_hash;
  std::set<std::string> roles;
};
// false when the name is taken.
bool CreateUser(db::ConnectionPool& db, const User& u);
std::optional<User> FindUser(db::ConnectionPool& db, const std::string& username);
// Demo identities: created once, an existing user kept as it is.
void EnsureUser(db::ConnectionPool& db, const User& u);

struct RefreshToken {
  std::string hash, family, username, client_id;
  int64_t expires_at;
};
void InsertRefreshToken(db::Session& s, const RefreshToken& t);
enum class RefreshUse { kFirst, kUnknown, kExpired, kReused };
// Spends the token (single use). A token used or revoked before means it
// leaked: its whole family is revoked (RFC 6819 §5.2.2.3; OAuth 2.1).
RefreshUse SpendRefreshToken(db::Session& s, const std::string& hash, int64_t now, RefreshToken* out);
// RFC 7009: revokes the token's family; unknown tokens are no error.
void RevokeRefreshToken(db::ConnectionPool& db, const std::string& hash, int64_t now);

// The signing keys, rotated as `policy` says in one locked transaction (so
// instances agree): returns the keys after rotation.
std::vector<SigningKey> RotateSigningKeys(db::ConnectionPool& db, std::chrono::system_clock::time_point now,
                                          const KeyPolicy& policy);

}  // namespace op::identity
