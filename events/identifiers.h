#pragma once
// The platform's identifiers, validated the same way at every boundary: in
// REST paths and bodies, and in events.
#include <string_view>

namespace op::events {

// A customer id (also a user name: identity-service makes them equal):
// 1 to 64 of A-Z a-z 0-9 . _ @ -
bool ValidCustomerId(std::string_view id);
inline constexpr const char* kCustomerIdRule = "1 to 64 of A-Z a-z 0-9 . _ @ -";

// A product's sku: 1 to 64 of A-Z a-z 0-9 . _ -
bool ValidSku(std::string_view sku);
inline constexpr const char* kSkuRule = "1 to 64 of A-Z a-z 0-9 . _ -";

}  // namespace op::events
