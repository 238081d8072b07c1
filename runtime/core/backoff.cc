#include "runtime/core/backoff.h"

#include <algorithm>
#include <cmath>

namespace op {

std::chrono::milliseconds BackoffPolicy::Cap(int64_t attempt) const {
  if (attempt < 1) attempt = 1;
  // Computed in floating point and clamped: no overflow however many attempts.
  double ms = double(initial.count()) * std::pow(std::max(1.0, multiplier), double(attempt - 1));
  if (!(ms < double(max.count()))) return max;  // also catches inf
  return std::chrono::milliseconds(int64_t(ms));
}

Backoff::Backoff(BackoffPolicy policy, uint64_t seed) : policy_(policy), rng_(seed) {}

std::chrono::milliseconds Backoff::Next() {
  auto cap = policy_.Cap(++attempts_);
  if (!policy_.full_jitter || cap.count() <= 0) return cap;
  return std::chrono::milliseconds(std::uniform_int_distribution<int64_t>(0, cap.count())(rng_));
}

}  // namespace op
