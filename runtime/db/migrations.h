#pragma once
// Versioned schema migrations applied at start (Flyway's model): each
// migration runs once, in version order, and is recorded in schema_history
// with a checksum; a recorded migration whose text changed fails start-up.
// Concurrent instances serialise on a named lock (GET_LOCK), so two replicas
// starting together apply each migration once.
#include <string>
#include <vector>

#include "runtime/db/db.h"

namespace op::db {

struct Migration {
  int version;
  std::string description;
  std::string sql;  // one or more statements separated by ';'
};

struct MigrationResult {
  std::vector<int> applied;  // versions applied by this call
  int current_version = 0;
};

// Throws DbError naming the version and statement that failed.
MigrationResult Migrate(ConnectionPool& pool, const std::vector<Migration>& migrations);

// Splits a script at top-level ';' (outside quotes and comments).
std::vector<std::string> SplitStatements(const std::string& script);
uint64_t Checksum(const std::string& text);

}  // namespace op::db
