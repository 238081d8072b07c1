#include "runtime/resilience/rate_limiter.h"

#include <algorithm>
#include <cmath>

namespace op::resilience {

RateLimiter::RateLimiter(std::string name, RateLimiterConfig config, const Clock& clock)
    : name_(std::move(name)), config_(config), clock_(clock),
      nanos_per_permit_(double(config.limit_refresh_period.count()) /
                        double(std::max(1, config.limit_for_period))),
      tokens_(std::max(1, config.limit_for_period)), last_(clock.Now()) {}

void RateLimiter::RefillLocked() {
  auto now = clock_.Now();
  double elapsed = double((now - last_).count());
  if (elapsed <= 0) return;
  tokens_ = std::min(double(std::max(1, config_.limit_for_period)), tokens_ + elapsed / nanos_per_permit_);
  last_ = now;
}

RateLimiter::Decision RateLimiter::TryAcquire(int permits) {
  std::lock_guard lock(mu_);
  RefillLocked();
  if (tokens_ >= permits) {
    tokens_ -= permits;
    ++permitted_;
    return {true, {}};
  }
  ++rejected_;
  auto wait = std::ceil((permits - tokens_) * nanos_per_permit_);
  return {false, std::chrono::nanoseconds(static_cast<int64_t>(wait))};
}

bool RateLimiter::Acquire(const Sleeper& sleep, int permits) {
  std::chrono::nanoseconds wait{0};
  {
    std::lock_guard lock(mu_);
    RefillLocked();
    if (tokens_ < permits) {
      wait = std::chrono::nanoseconds(
          static_cast<int64_t>(std::ceil((permits - tokens_) * nanos_per_permit_)));
      if (wait > config_.timeout_duration) {
        ++rejected_;
        return false;
      }
    }
    tokens_ -= permits;  // reserve, possibly into the future
    ++permitted_;
  }
  if (wait.count() > 0) sleep(wait);
  return true;
}

double RateLimiter::AvailablePermissions() {
  std::lock_guard lock(mu_);
  RefillLocked();
  return tokens_;
}

}  // namespace op::resilience
