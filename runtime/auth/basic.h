#pragma once
// HTTP Basic credentials (RFC 7617): what the registry checks, what Eureka
// clients and the runtime's client_credentials fetch send, what the identity
// service's token endpoint reads. One parser and one encoder for all of them.
#include <optional>
#include <string>
#include <string_view>

namespace op::auth {

struct BasicCredential {
  std::string user, password;
};

// "Basic base64(user:password)" (the scheme case-insensitive, at most 1 KiB);
// nullopt for anything else. The password is what follows the first ':'.
std::optional<BasicCredential> ParseBasic(std::string_view authorization);
// The Authorization value for user and password.
std::string BasicAuthorization(const std::string& user, const std::string& password);

}  // namespace op::auth
