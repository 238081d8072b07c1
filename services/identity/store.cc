#include "services/identity/store.h"

#include <algorithm>
#include <sstream>

namespace op::identity {

namespace {
std::string JoinRoles(const std::set<std::string>& roles) {
  std::string out;
  for (const auto& r : roles) out += (out.empty() ? "" : ",") + r;
  return out;
}
std::set<std::string> SplitRoles(const std::string& text) {
  std::set<std::string> out;
  std::stringstream in(text);
  for (std::string r; std::getline(in, r, ',');)
    if (!r.empty()) out.insert(r);
  return out;
}
int64_t Seconds(std::chrono::system_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}
std::chrono::system_clock::time_point TimeOf(int64_t s) { return std::chrono::system_clock::time_point(std::chrono::seconds(s)); }
}  // namespace

std::vector<db::Migration> Migrations() {
  return {
      {1, "users",
       "CREATE TABLE users (username VARCHAR(64) PRIMARY KEY, password_hash VARCHAR(200) NOT NULL,"
       " roles VARCHAR(200) NOT NULL, created_at TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3)) ENGINE=InnoDB"},
      {2, "refresh tokens",
       "CREATE TABLE refresh_tokens (token_hash CHAR(64) PRIMARY KEY, family VARCHAR(32) NOT NULL,"
       " username VARCHAR(64) NOT NULL, client_id VARCHAR(64) NOT NULL, expires_at BIGINT NOT NULL,"
       " used_at BIGINT NULL, revoked_at BIGINT NULL, INDEX refresh_family (family)) ENGINE=InnoDB"},
      {3, "signing keys",
       "CREATE TABLE signing_keys (kid VARCHAR(32) PRIMARY KEY, private_pem TEXT NOT NULL,"
       " created_at BIGINT NOT NULL, retired_at BIGINT NULL) ENGINE=InnoDB"},
      {4, "the row key rotations lock", "CREATE TABLE key_rotation (id INT PRIMARY KEY) ENGINE=InnoDB"},
      {5, "its one row", "INSERT INTO key_rotation (id) VALUES (1)"},
  };
}

bool CreateUser(db::ConnectionPool& db, const User& u) {
  try {
    db.Exec("INSERT INTO users (username, password_hash, roles) VALUES (?, ?, ?)", u.username, u.password_hash,
            JoinRoles(u.roles));
    return true;
  } catch (const db::DuplicateKey&) {
    return false;
  }
}

std::optional<User> FindUser(db::ConnectionPool& db, const std::string& username) {
  auto r = db.Query("SELECT username, password_hash, roles FROM users WHERE username = ?", username);
  if (!r.Next()) return std::nullopt;
  return User{r.String("username"), r.String("password_hash"), SplitRoles(r.String("roles"))};
}

void EnsureUser(db::ConnectionPool& db, const User& u) {
  db.Exec("INSERT IGNORE INTO users (username, password_hash, roles) VALUES (?, ?, ?)", u.username, u.password_hash,
          JoinRoles(u.roles));
}

void InsertRefreshToken(db::Session& s, const RefreshToken& t) {
  s.Exec("INSERT INTO refresh_tokens (token_hash, family, username, client_id, expires_at) VALUES (?, ?, ?, ?, ?)", t.hash,
         t.family, t.username, t.client_id, t.expires_at);
}

RefreshUse SpendRefreshToken(db::Session& s, const std::string& hash, int64_t now, RefreshToken* out) {
  RefreshToken t;
  bool spent = false;
  {
    auto r = s.Query("SELECT family, username, client_id, expires_at, used_at, revoked_at FROM refresh_tokens "
                     "WHERE token_hash = ? FOR UPDATE", hash);
    if (!r.Next()) return RefreshUse::kUnknown;
    t = {hash, r.String("family"), r.String("username"), r.String("client_id"), r.Int("expires_at")};
    spent = !r.IsNull("used_at") || !r.IsNull("revoked_at");
  }
  if (spent) {
    s.Exec("UPDATE refresh_tokens SET revoked_at = ? WHERE family = ? AND revoked_at IS NULL", now, t.family);
    return RefreshUse::kReused;
  }
  if (now >= t.expires_at) return RefreshUse::kExpired;
  s.Exec("UPDATE refresh_tokens SET used_at = ? WHERE token_hash = ?", now, hash);
  if (out) *out = t;
  return RefreshUse::kFirst;
}

void RevokeRefreshToken(db::ConnectionPool& db, const std::string& hash, int64_t now) {
  db.Exec("UPDATE refresh_tokens SET revoked_at = ? WHERE revoked_at IS NULL AND family = "
          "(SELECT family FROM (SELECT family FROM refresh_tokens WHERE token_hash = ?) AS f)",
          now, hash);
}

std::vector<SigningKey> RotateSigningKeys(db::ConnectionPool& db, std::chrono::system_clock::time_point now,
                                          const KeyPolicy& policy) {
  return db.Transact([&](db::Session& s) {
    // Instances rotating at once wait for each other on this row.
    s.Query("SELECT id FROM key_rotation WHERE id = 1 FOR UPDATE").Next();
    std::vector<SigningKey> keys;
    {
      auto r = s.Query("SELECT kid, private_pem, created_at, retired_at FROM signing_keys ORDER BY created_at");
      while (r.Next()) {
        SigningKey k{r.String("kid"), r.String("private_pem"), TimeOf(r.Int("created_at")), std::nullopt};
        if (auto retired = r.OptInt("retired_at")) k.retired = TimeOf(*retired);
        keys.push_back(std::move(k));
      }
    }
    std::vector<SigningKey> before = keys;
    if (Rotate(keys, now, policy)) {
      std::set<std::string> kept;
      for (const auto& k : keys) kept.insert(k.kid);
      for (const auto& k : before)
        if (!kept.count(k.kid)) s.Exec("DELETE FROM signing_keys WHERE kid = ?", k.kid);
      for (const auto& k : keys) {
        auto was = std::find_if(before.begin(), before.end(), [&](const SigningKey& b) { return b.kid == k.kid; });
        if (was == before.end())
          s.Exec("INSERT INTO signing_keys (kid, private_pem, created_at) VALUES (?, ?, ?)", k.kid, k.private_pem,
                 Seconds(k.created));
        else if (k.retired && !was->retired)
          s.Exec("UPDATE signing_keys SET retired_at = ? WHERE kid = ?", Seconds(*k.retired), k.kid);
      }
    }
    return keys;
  });
}

}  // namespace op::identity
