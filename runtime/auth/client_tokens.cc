#include "runtime/auth/client_tokens.h"

#include <cctype>

#include "runtime/auth/basic.h"
#include "runtime/core/json.h"

namespace op::auth {

namespace {
// application/x-www-form-urlencoded (RFC 6749 §2.3.1 asks it of the Basic parts).
std::string FormEncode(const std::string& s) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') out += char(c);
    else out += {'%', hex[c >> 4], hex[c & 15]};
  }
  return out;
}
}  // namespace

ClientTokens::ClientTokens(ClientCredentials credentials, Send send, const Clock& clock)
    : credentials_(std::move(credentials)), send_(std::move(send)), clock_(clock) {}

size_t ClientTokens::Fetches() const {
  std::lock_guard lock(mu_);
  return fetches_;
}

std::optional<std::string> ClientTokens::Get(std::string* error) {
  std::lock_guard lock(mu_);
  const auto now = clock_.Now();
  if (!token_.empty() && now < renew_at_) return token_;
  const bool may_fetch = !failed_at_ || now - *failed_at_ >= std::chrono::seconds(1);
  if (may_fetch && Fetch(error)) return token_;
  if (!token_.empty() && now < expires_at_) return token_;  // the old one, while it lasts
  if (error) *error = last_error_;
  return std::nullopt;
}

bool ClientTokens::Fetch(std::string* error) {
  ++fetches_;
  failed_at_ = clock_.Now();
  // RFC 6749 §2.3.1: client id and secret form-encoded, then Basic.
  const std::string basic = BasicAuthorization(FormEncode(credentials_.client_id), FormEncode(credentials_.client_secret));
  std::string why;
  auto answer = send_("grant_type=client_credentials", basic, &why);
  if (!answer) {
    last_error_ = "the identity service did not answer: " + why;
  } else if (answer->status != 200) {
    last_error_ = "the identity service refused this program's client credentials (HTTP " + std::to_string(answer->status) + ")";
  } else {
    auto body = ParseJsonOrDiscarded(answer->body);
    if (body.is_object() && body.contains("access_token") && body["access_token"].is_string() &&
        body.contains("expires_in") && body["expires_in"].is_number_integer() && body["expires_in"].get<int64_t>() > 0) {
      const auto lifetime = std::chrono::seconds(body["expires_in"].get<int64_t>());
      const auto now = clock_.Now();
      token_ = body["access_token"];
      expires_at_ = now + lifetime;
      renew_at_ = now + lifetime * 8 / 10;
      failed_at_.reset();
      return true;
    }
    last_error_ = "the identity service's token response has no access_token and expires_in";
  }
  if (error) *error = last_error_;
  return false;
}

}  // namespace op::auth
