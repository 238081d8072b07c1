#pragma once
// What the database layer throws: classified so callers can tell a transient
// outage (retry later, never skip) from a bug or a constraint.
#include <stdexcept>
#include <string>

#include "runtime/core/unavailable.h"

namespace op::db {

class DbError : public std::runtime_error {
 public:
  DbError(const std::string& what, int code = 0, std::string sql_state = "")
      : std::runtime_error(what), code_(code), sql_state_(std::move(sql_state)) {}
  int code() const { return code_; }
  const std::string& sql_state() const { return sql_state_; }

 private:
  int code_;
  std::string sql_state_;
};
// The database cannot be reached or the connection broke: retry later (an
// HTTP request that meets it is a 503).
class DbUnavailable : public DbError, public Unavailable {
 public:
  using DbError::DbError;
  const char* dependency() const override { return "the database"; }
};
// A unique or primary key was violated (MySQL error 1062).
class DuplicateKey : public DbError {
 public:
  using DbError::DbError;
};

}  // namespace op::db
