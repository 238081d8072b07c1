#pragma once
#include <string>
#include <string_view>

namespace op {
// Random (v4) UUID in canonical lower-case form, from the kernel CSPRNG
// (getrandom, buffered per thread). IsUuid parses with libuuid.
std::string NewUuid();
bool IsUuid(std::string_view s);
}  // namespace op
