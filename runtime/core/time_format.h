#pragma once
#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace op {
// RFC 3339 UTC with millisecond precision: 2026-11-25T01:02:03.456Z
std::string FormatRfc3339(std::chrono::system_clock::time_point t);
// The same instant as MariaDB/MySQL take it in a UTC session:
// 2026-11-25 01:02:03.456
std::string FormatSqlTimestamp(std::chrono::system_clock::time_point t);
// Accepts "YYYY-MM-DDTHH:MM:SS[.fff...]Z"; nullopt when malformed.
std::optional<std::chrono::system_clock::time_point> ParseRfc3339(std::string_view s);
}  // namespace op
