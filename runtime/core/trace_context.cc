#include "runtime/core/trace_context.h"

#include <random>

namespace op {

namespace {
std::string RandomHex(size_t n) {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  static const char* d = "0123456789abcdef";
  std::string out;
  out.reserve(n);
  while (out.size() < n) {
    uint64_t v = rng();
    for (int i = 0; i < 16 && out.size() < n; ++i, v >>= 4) out += d[v & 15];
  }
  if (out.find_first_not_of('0') == std::string::npos) out.back() = '1';  // all-zero ids are invalid
  return out;
}

bool IsHex(std::string_view s, size_t n) {
  if (s.size() != n) return false;
  for (char c : s)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return s.find_first_not_of('0') != std::string_view::npos;
}
}  // namespace

TraceParent TraceParent::Child() const { return TraceParent{trace_id, RandomHex(16), flags}; }

TraceParent TraceParent::New() { return TraceParent{RandomHex(32), RandomHex(16), "01"}; }

std::optional<TraceParent> TraceParent::Parse(std::string_view h) {
  // version "00" is 55 chars; later versions may append fields after a '-'
  if (h.size() < 55 || h.substr(0, 2) == "ff" || h[2] != '-' || h[35] != '-' || h[52] != '-')
    return std::nullopt;
  if (h.substr(0, 2) == "00" && h.size() != 55) return std::nullopt;
  auto trace = h.substr(3, 32), span = h.substr(36, 16), flags = h.substr(53, 2);
  if (!IsHex(trace, 32) || !IsHex(span, 16)) return std::nullopt;
  for (char c : flags)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return std::nullopt;
  return TraceParent{std::string(trace), std::string(span), std::string(flags)};
}

}  // namespace op
