#pragma once
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace sql {
class ResultSet;
}  // namespace sql

namespace op::db {

// Rows of a query, read by column name or 1-based index.
class Rows {
 public:
  explicit Rows(std::unique_ptr<sql::ResultSet> rs);
  // Also keeps `owner` (the statement the rows come from, the pool lease of
  // its connection) until the rows are gone.
  void Keep(std::shared_ptr<void> owner) { keep_.push_back(std::move(owner)); }
  ~Rows();
  Rows(Rows&&) noexcept;
  Rows& operator=(Rows&&) noexcept;
  bool Next();
  size_t Count() const;
  int64_t Int(const std::string& col) const;
  uint64_t UInt(const std::string& col) const;
  double Double(const std::string& col) const;
  bool Bool(const std::string& col) const;
  std::string String(const std::string& col) const;  // binary-safe
  bool IsNull(const std::string& col) const;
  std::optional<std::string> OptString(const std::string& col) const;
  std::optional<int64_t> OptInt(const std::string& col) const;

 private:
  std::vector<std::shared_ptr<void>> keep_;  // declared first: outlives rs_
  std::unique_ptr<sql::ResultSet> rs_;
};

}  // namespace op::db
