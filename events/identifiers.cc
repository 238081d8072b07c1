#include "events/identifiers.h"

#include <algorithm>
#include <cctype>

namespace op::events {

namespace {
bool OfAtMost64(std::string_view s, std::string_view extra) {
  if (s.empty() || s.size() > 64) return false;
  return std::all_of(s.begin(), s.end(), [extra](unsigned char c) {
    return std::isalnum(c) || extra.find(char(c)) != std::string_view::npos;
  });
}
}  // namespace

bool ValidCustomerId(std::string_view id) { return OfAtMost64(id, "-_.@"); }
bool ValidSku(std::string_view sku) { return OfAtMost64(sku, "-_."); }

}  // namespace op::events
