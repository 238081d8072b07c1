#pragma once
// Token-bucket rate limiter: `limit_for_period` permits per
// `limit_refresh_period`, refilled continuously, bursts up to
// `limit_for_period`. A caller may wait up to `timeout_duration` for a permit;
// otherwise it learns how long until one is free (for 429 Retry-After).
// Time comes from an injected Clock.
#include <chrono>
#include <functional>
#include <mutex>
#include <string>

#include "runtime/core/clock.h"

namespace op::resilience {

struct RateLimiterConfig {
  int limit_for_period = 50;
  std::chrono::nanoseconds limit_refresh_period = std::chrono::seconds(1);
  std::chrono::nanoseconds timeout_duration{0};
};

class RateLimiter {
 public:
  using Sleeper = std::function<void(std::chrono::nanoseconds)>;
  struct Decision {
    bool permitted;
    std::chrono::nanoseconds retry_after;  // when not permitted: until a permit is free
  };

  RateLimiter(std::string name, RateLimiterConfig config, const Clock& clock = SystemClock::Instance());

  // Never waits.
  Decision TryAcquire(int permits = 1);
  // Waits (through `sleep`) up to timeout_duration by reserving a future permit.
  bool Acquire(const Sleeper& sleep, int permits = 1);

  double AvailablePermissions();
  uint64_t PermittedCalls() const { return permitted_; }
  uint64_t RejectedCalls() const { return rejected_; }
  const std::string& Name() const { return name_; }
  const RateLimiterConfig& Config() const { return config_; }

 private:
  void RefillLocked();
  const std::string name_;
  const RateLimiterConfig config_;
  const Clock& clock_;
  const double nanos_per_permit_;
  std::mutex mu_;
  double tokens_;  // may go negative: reservations made by waiting callers
  Clock::TimePoint last_;
  uint64_t permitted_ = 0, rejected_ = 0;
};

}  // namespace op::resilience
