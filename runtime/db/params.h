#pragma once
// Statement parameters: every value goes to the server as a prepared
// statement's parameter, never into the SQL text.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace op::db {

using Param = std::variant<std::nullptr_t, int64_t, uint64_t, double, bool, std::string>;

// "?, ?, ?": the placeholders of an IN list of n values (n > 0).
std::string InList(size_t n);
// Placeholders for `x IN (...)` over `values`, which it pads (repeating the
// last value) to a power of two: lists of 1 to n values then share
// log2(n) + 1 statement texts, and their prepared statements stay cached
// instead of one per length. Only where a repeated value changes nothing
// (the IN of a SELECT, UPDATE or DELETE); never for multi-row VALUES.
std::string PaddedInList(std::vector<Param>& values);

inline Param ToParam(Param p) { return p; }
inline Param ToParam(std::nullptr_t) { return nullptr; }
inline Param ToParam(int v) { return int64_t(v); }
inline Param ToParam(long v) { return int64_t(v); }
inline Param ToParam(long long v) { return int64_t(v); }
inline Param ToParam(unsigned v) { return uint64_t(v); }
inline Param ToParam(unsigned long v) { return uint64_t(v); }
inline Param ToParam(unsigned long long v) { return uint64_t(v); }
inline Param ToParam(double v) { return v; }
inline Param ToParam(bool v) { return v; }
inline Param ToParam(std::string v) { return v; }
inline Param ToParam(std::string_view v) { return std::string(v); }
inline Param ToParam(const char* v) { return std::string(v); }
template <class T>
Param ToParam(const std::optional<T>& v) { return v ? ToParam(*v) : Param(nullptr); }

}  // namespace op::db
