#include "runtime/core/json.h"

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

}  // namespace op
