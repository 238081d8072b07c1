#pragma once
#include <string>
#include <string_view>

namespace op {
// Random (v4) UUID in canonical lower-case form, from libuuid.
std::string NewUuid();
bool IsUuid(std::string_view s);
}  // namespace op
