#pragma once
// identity-service's rules, free of HTTP and SQL: what a user name and a
// password must be, the roles, and the OAuth 2.0 token request (RFC 6749)
// read from its form.
#include <map>
#include <optional>
#include <set>
#include <string>

namespace op::identity {

inline const std::set<std::string> kRoles = {"customer", "admin", "viewer", "service"};

// 3 to 64 of a-z 0-9 . _ -  (the customer id is the user name)
bool ValidUsername(const std::string& u);
// 10 to 1024 characters (bounded: Argon2id hashes whatever it is given)
bool ValidPassword(const std::string& p);

struct TokenRequest {
  std::string grant_type;  // password, refresh_token, client_credentials
  std::string username, password, refresh_token, scope;
  std::string client_id, client_secret;  // from the form or HTTP Basic
};
// RFC 6749 §5.2 error codes, for the token endpoint's answers.
struct OAuthError {
  int status;  // 400, or 401 for invalid_client
  std::string error, description;
};
// The form (application/x-www-form-urlencoded, already decoded) and the
// Authorization header; nullopt with `error` when the request is malformed.
std::optional<TokenRequest> ParseTokenRequest(const std::map<std::string, std::string>& form,
                                              const std::optional<std::string>& authorization, OAuthError* error);

}  // namespace op::identity
