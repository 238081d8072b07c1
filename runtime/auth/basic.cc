#include "runtime/auth/basic.h"

#include <strings.h>

#include "runtime/auth/jwk.h"

namespace op::auth {

std::optional<BasicCredential> ParseBasic(std::string_view authorization) {
  if (authorization.size() < 7 || authorization.size() > 1024 || strncasecmp(authorization.data(), "Basic ", 6) != 0)
    return std::nullopt;
  // standard base64 (padding optional) through the base64url decoder
  std::string b64(authorization.substr(6));
  for (char& c : b64) c = c == '+' ? '-' : c == '/' ? '_' : c;
  while (!b64.empty() && b64.back() == '=') b64.pop_back();
  auto text = Base64UrlDecode(b64);
  if (!text) return std::nullopt;
  auto colon = text->find(':');
  if (colon == std::string::npos) return std::nullopt;
  return BasicCredential{text->substr(0, colon), text->substr(colon + 1)};
}

std::string BasicAuthorization(const std::string& user, const std::string& password) {
  std::string b64 = Base64UrlEncode(user + ":" + password);
  for (char& c : b64) c = c == '-' ? '+' : c == '_' ? '/' : c;
  while (b64.size() % 4) b64 += '=';
  return "Basic " + b64;
}

}  // namespace op::auth
