#pragma once
// The one way every program reads JSON it did not write (request bodies,
// registrations, other services' answers, JWT segments): nlohmann's parser
// with a nesting limit. nlohmann parses iteratively, but copying, comparing
// and destroying a value recurse: 200,000 nested arrays in a body would end
// the process on a stack overflow long after the parse succeeded.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace op {

inline constexpr int kMaxJsonDepth = 64;

// The value, or nullopt with `error` (parse error, or nesting too deep).
std::optional<nlohmann::json> ParseJson(std::string_view text, std::string* error = nullptr, int max_depth = kMaxJsonDepth);
// The same, as nlohmann's parse(text, nullptr, false) answers: a discarded
// value (is_discarded()) when it cannot be read.
nlohmann::json ParseJsonOrDiscarded(std::string_view text);

// A JSON integer as JSON Schema (and Jackson) take it: 5, and also 5.0 or
// 5e0; nullopt for a fraction, a non-number, or beyond ±2^53 as a float
// (where a double no longer holds every integer).
std::optional<int64_t> JsonInteger(const nlohmann::json& v);
// Characters (Unicode code points) in UTF-8 text, as JSON Schema's
// minLength/maxLength count them; a stray continuation byte counts as none.
size_t Utf8Length(std::string_view text);

}  // namespace op
