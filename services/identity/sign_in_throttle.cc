#include "services/identity/sign_in_throttle.h"

namespace op::identity {

std::optional<std::chrono::seconds> SignInThrottle::Check(const std::string& key, int limit) {
  auto c = counts_.Get(key);
  if (!c || c->failures < limit) return std::nullopt;
  auto left = c->window_start + limits_.window - clock_.Now();
  if (left <= Clock::Duration::zero()) return std::nullopt;
  return std::max<std::chrono::seconds>(std::chrono::seconds(1), std::chrono::ceil<std::chrono::seconds>(left));
}

std::optional<std::chrono::seconds> SignInThrottle::RetryAfter(const std::string& user, const std::string& address) {
  std::lock_guard lock(mu_);
  auto by_user = Check("u:" + user, limits_.per_user);
  auto by_address = Check("a:" + address, limits_.per_address);
  if (by_user && by_address) return std::max(*by_user, *by_address);
  return by_user ? by_user : by_address;
}

void SignInThrottle::Bump(const std::string& key) {
  auto c = counts_.Get(key).value_or(Count{});
  const auto now = clock_.Now();
  if (c.failures == 0 || now - c.window_start >= limits_.window) c = Count{0, now};
  ++c.failures;
  counts_.Put(key, c);
}

void SignInThrottle::Failed(const std::string& user, const std::string& address) {
  std::lock_guard lock(mu_);
  Bump("u:" + user);
  Bump("a:" + address);
}

void SignInThrottle::Succeeded(const std::string& user) {
  std::lock_guard lock(mu_);
  counts_.Put("u:" + user, Count{});
}

}  // namespace op::identity
