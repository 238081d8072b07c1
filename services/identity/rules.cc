#include "services/identity/rules.h"
#include "runtime/core/json.h"

#include <algorithm>

#include "runtime/auth/basic.h"
#include "runtime/http/types.h"

namespace op::identity {


bool ValidUsername(const std::string& u) {
  if (u.size() < 3 || u.size() > 64) return false;
  return std::all_of(u.begin(), u.end(), [](unsigned char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
  });
}

// In characters, as DESIGN section 10 and the API document count them.
bool ValidPassword(const std::string& p) { return Utf8Length(p) >= 10 && Utf8Length(p) <= 1024; }

std::optional<TokenRequest> ParseTokenRequest(const std::map<std::string, std::string>& form,
                                              const std::optional<std::string>& authorization, OAuthError* error) {
  auto field = [&](const char* k) {
    auto it = form.find(k);
    return it == form.end() ? std::string() : it->second;
  };
  auto fail = [&](std::string code, std::string why, int status = 400) -> std::optional<TokenRequest> {
    if (error) *error = {status, std::move(code), std::move(why)};
    return std::nullopt;
  };
  TokenRequest r;
  r.grant_type = field("grant_type");
  r.scope = field("scope");
  r.client_id = field("client_id");
  r.client_secret = field("client_secret");
  if (authorization) {
    auto basic = auth::ParseBasic(*authorization);
    if (!basic) return fail("invalid_client", "malformed HTTP Basic credentials", 401);
    // RFC 6749 §2.3.1: the id and secret are form-encoded inside Basic
    const std::string id = http::PercentDecode(basic->user, true), secret = http::PercentDecode(basic->password, true);
    if (!r.client_id.empty() && r.client_id != id) return fail("invalid_request", "two different client ids");
    r.client_id = id;
    r.client_secret = secret;
  }
  if (r.grant_type == "password") {
    r.username = field("username");
    r.password = field("password");
    if (r.username.empty() || r.password.empty()) return fail("invalid_request", "username and password are required");
    if (r.username.size() > 64 || Utf8Length(r.password) > 1024) return fail("invalid_grant", "invalid username or password");
  } else if (r.grant_type == "refresh_token") {
    r.refresh_token = field("refresh_token");
    if (r.refresh_token.empty() || r.refresh_token.size() > 128) return fail("invalid_request", "refresh_token is required");
  } else if (r.grant_type == "client_credentials") {
    if (r.client_id.empty() || r.client_secret.empty()) return fail("invalid_client", "client authentication is required", 401);
  } else if (r.grant_type.empty()) {
    return fail("invalid_request", "grant_type is required");
  } else {
    return fail("unsupported_grant_type", "grant_type must be password, refresh_token or client_credentials");
  }
  return r;
}

}  // namespace op::identity
