#include "runtime/db/rows.h"

#include <cppconn/connection.h>
#include <cppconn/exception.h>
#include <cppconn/prepared_statement.h>
#include <cppconn/resultset.h>
#include <cppconn/statement.h>

namespace op::db {

Rows::Rows(std::unique_ptr<sql::ResultSet> rs) : rs_(std::move(rs)) {}
Rows::~Rows() = default;
Rows::Rows(Rows&&) noexcept = default;
Rows& Rows::operator=(Rows&& o) noexcept {
  if (this == &o) return *this;
  rs_.reset();  // before what it reads from
  keep_.clear();
  rs_ = std::move(o.rs_);
  keep_ = std::move(o.keep_);
  return *this;
}
bool Rows::Next() { return rs_->next(); }
size_t Rows::Count() const { return rs_->rowsCount(); }
int64_t Rows::Int(const std::string& c) const { return rs_->getInt64(c); }
uint64_t Rows::UInt(const std::string& c) const { return rs_->getUInt64(c); }
double Rows::Double(const std::string& c) const { return double(rs_->getDouble(c)); }
bool Rows::Bool(const std::string& c) const { return rs_->getBoolean(c); }
std::string Rows::String(const std::string& c) const { return std::string(rs_->getString(c).asStdString()); }
bool Rows::IsNull(const std::string& c) const { return rs_->isNull(c); }
std::optional<std::string> Rows::OptString(const std::string& c) const {
  if (rs_->isNull(c)) return std::nullopt;
  return String(c);
}
std::optional<int64_t> Rows::OptInt(const std::string& c) const {
  if (rs_->isNull(c)) return std::nullopt;
  return Int(c);
}

}  // namespace op::db
