#include "runtime/db/migrations.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <set>

#include "runtime/logging/log.h"

namespace op::db {

std::vector<std::string> SplitStatements(const std::string& s) {
  std::vector<std::string> out;
  std::string cur;
  char quote = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (quote) {
      cur += c;
      if (c == '\\' && i + 1 < s.size()) cur += s[++i];
      else if (c == quote) quote = 0;
      continue;
    }
    if (c == '-' && i + 1 < s.size() && s[i + 1] == '-') {  // line comment
      while (i < s.size() && s[i] != '\n') ++i;
      continue;
    }
    if (c == '/' && i + 1 < s.size() && s[i + 1] == '*') {  // block comment
      i += 2;
      while (i + 1 < s.size() && !(s[i] == '*' && s[i + 1] == '/')) ++i;
      ++i;
      continue;
    }
    if (c == '\'' || c == '"' || c == '`') quote = c;
    if (c == ';') {
      if (cur.find_first_not_of(" \t\r\n") != std::string::npos) out.push_back(cur);
      cur.clear();
      continue;
    }
    cur += c;
  }
  if (cur.find_first_not_of(" \t\r\n") != std::string::npos) out.push_back(cur);
  return out;
}

uint64_t Checksum(const std::string& text) {
  uint64_t h = 1469598103934665603ULL;  // FNV-1a: stable across builds, unlike std::hash
  for (unsigned char c : text) h = (h ^ c) * 1099511628211ULL;
  return h;
}

MigrationResult Migrate(ConnectionPool& pool, const std::vector<Migration>& migrations) {
  std::set<int> versions;
  for (const auto& m : migrations)
    if (!versions.insert(m.version).second)
      throw DbError(fmt::format("migration version {} is defined twice", m.version));
  auto sorted = migrations;
  std::sort(sorted.begin(), sorted.end(), [](auto& a, auto& b) { return a.version < b.version; });

  // One connection holds the named lock for the whole run.
  auto lease = pool.Acquire();
  Session s = lease.session();
  MigrationResult result;
  try {
    auto lock = s.Query("SELECT GET_LOCK(CONCAT(DATABASE(), '.schema_history'), 60) AS got");
    if (!lock.Next() || lock.Int("got") != 1)
      throw DbError("could not take the migration lock within 60 s [" + pool.Describe() + "]");
    s.Exec(
        "CREATE TABLE IF NOT EXISTS schema_history ("
        " version INT PRIMARY KEY, description VARCHAR(200) NOT NULL,"
        " checksum BIGINT UNSIGNED NOT NULL, applied_at TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),"
        " execution_ms INT NOT NULL)");
    std::map<int, uint64_t> applied;
    auto rows = s.Query("SELECT version, checksum FROM schema_history");
    while (rows.Next()) applied[int(rows.Int("version"))] = rows.UInt("checksum");

    for (const auto& m : sorted) {
      uint64_t sum = Checksum(m.sql);
      if (auto it = applied.find(m.version); it != applied.end()) {
        if (it->second != sum)
          throw DbError(fmt::format("migration V{} ({}) was changed after it was applied: add a new "
                                    "migration instead [{}]", m.version, m.description, pool.Describe()));
        continue;
      }
      auto start = std::chrono::steady_clock::now();
      // MySQL DDL commits implicitly, so a migration is not atomic: keep each one
      // to statements that are safe to re-run or a single DDL.
      for (const auto& stmt : SplitStatements(m.sql)) {
        try {
          s.Exec(stmt);
        } catch (const DbError& e) {
          throw DbError(fmt::format("migration V{} ({}) failed: {}\nstatement: {}", m.version,
                                    m.description, e.what(), stmt), e.code());
        }
      }
      auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start).count();
      s.Exec("INSERT INTO schema_history (version, description, checksum, execution_ms) VALUES (?, ?, ?, ?)",
             m.version, m.description, sum, int64_t(ms));
      log::Info("migration applied", {{"version", m.version}, {"description", m.description}, {"ms", ms}});
      result.applied.push_back(m.version);
    }
    s.Query("SELECT RELEASE_LOCK(CONCAT(DATABASE(), '.schema_history')) AS r");
  } catch (const DbError&) {
    lease.MarkBroken();  // closing the connection also releases the named lock
    throw;
  } catch (const std::exception& e) {
    lease.MarkBroken();
    ConnectionPool::Rethrow(e, pool.Describe());
  }
  result.current_version = sorted.empty() ? 0 : std::max(sorted.back().version, 0);
  return result;
}

}  // namespace op::db
