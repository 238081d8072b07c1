#include "runtime/resilience/retry.h"

#include <algorithm>
#include <cmath>

namespace op::resilience {

Retry::Retry(std::string name, RetryConfig config, uint64_t seed)
    : name_(std::move(name)), config_(config),
      budget_(config.budget_ratio, config.budget_min_retries), rng_state_(seed | 1) {}

std::chrono::nanoseconds Retry::NextWait(int attempt) {
  double base = double(config_.wait_duration.count()) *
                std::pow(config_.exponential_multiplier, std::max(0, attempt - 1));
  double cap = std::min(base, double(config_.max_wait_duration.count()));
  if (!config_.full_jitter) return std::chrono::nanoseconds(static_cast<int64_t>(cap));
  // splitmix64 on an atomic state: thread-safe without a lock
  uint64_t z = rng_state_.fetch_add(0x9e3779b97f4a7c15ULL, std::memory_order_relaxed);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  z ^= z >> 31;
  double u = double(z >> 11) / double(1ULL << 53);
  return std::chrono::nanoseconds(static_cast<int64_t>(u * cap));
}

Retry::Counts Retry::GetCounts() const {
  return Counts{successful_without_retry_.load(), successful_with_retry_.load(),
                failed_with_retry_.load(), failed_without_retry_.load(), budget_exhausted_.load()};
}

}  // namespace op::resilience
