#pragma once
// Failed sign-ins counted per user name and per client address in a fixed
// window: past the limit, sign-ins for that key are refused (429 with
// Retry-After) until the window ends, right or wrong password. Bounded: the
// least recently seen keys are forgotten first. Thread-safe.
#include <chrono>
#include <mutex>
#include <optional>
#include <string>

#include "runtime/core/bounded_cache.h"
#include "runtime/core/clock.h"

namespace op::identity {

class SignInThrottle {
 public:
  struct Limits {
    int per_user = 5;
    int per_address = 20;
    std::chrono::seconds window{std::chrono::minutes(5)};
  };
  SignInThrottle(Limits limits, const Clock& clock, size_t max_keys = 100'000)
      : limits_(limits), clock_(clock), counts_(max_keys) {}

  // How long the caller must wait; nullopt when it may try.
  std::optional<std::chrono::seconds> RetryAfter(const std::string& user, const std::string& address);
  void Failed(const std::string& user, const std::string& address);
  void Succeeded(const std::string& user);  // the user's own count starts over

 private:
  struct Count {
    int failures = 0;
    Clock::TimePoint window_start;
  };
  std::optional<std::chrono::seconds> Check(const std::string& key, int limit);
  void Bump(const std::string& key);

  const Limits limits_;
  const Clock& clock_;
  std::mutex mu_;
  BoundedCache<std::string, Count> counts_;  // "u:name", "a:address"
};

}  // namespace op::identity
