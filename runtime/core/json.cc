#include "runtime/core/json.h"

#include <cmath>

namespace op {

namespace {
struct TooDeep {};
}  // namespace

std::optional<nlohmann::json> ParseJson(std::string_view text, std::string* error, int max_depth) {
  // The callback sees each value's depth as the parser meets it: stop at the
  // first one too deep, before anything deeper exists.
  auto limit = [max_depth](int depth, nlohmann::json::parse_event_t, nlohmann::json&) {
    if (depth >= max_depth) throw TooDeep{};
    return true;
  };
  try {
    return nlohmann::json::parse(text.begin(), text.end(), limit);
  } catch (const TooDeep&) {
    if (error) *error = "JSON nested deeper than " + std::to_string(max_depth) + " levels";
  } catch (const nlohmann::json::exception& e) {
    if (error) *error = e.what();
  }
  return std::nullopt;
}

nlohmann::json ParseJsonOrDiscarded(std::string_view text) {
  auto j = ParseJson(text);
  return j ? std::move(*j) : nlohmann::json(nlohmann::json::value_t::discarded);
}

std::optional<int64_t> JsonInteger(const nlohmann::json& v) {
  if (v.is_number_integer()) {
    if (v.is_number_unsigned() && v.get<uint64_t>() > uint64_t(INT64_MAX)) return std::nullopt;
    return v.get<int64_t>();
  }
  if (!v.is_number_float()) return std::nullopt;
  const double d = v.get<double>();
  constexpr double kExact = 9007199254740992.0;  // 2^53
  if (!(d >= -kExact && d <= kExact) || d != std::trunc(d)) return std::nullopt;  // NaN fails the first test
  return int64_t(d);
}

size_t Utf8Length(std::string_view text) {
  size_t n = 0;
  for (unsigned char c : text) n += (c & 0xC0) != 0x80;
  return n;
}

}  // namespace op
