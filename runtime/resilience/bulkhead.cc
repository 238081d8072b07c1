#include "runtime/resilience/bulkhead.h"

namespace op::resilience {

Bulkhead::Bulkhead(std::string name, BulkheadConfig config)
    : name_(std::move(name)), config_(config), available_(config.max_concurrent_calls) {}

bool Bulkhead::TryTake() {
  int cur = available_.load(std::memory_order_relaxed);
  while (cur > 0) {
    if (available_.compare_exchange_weak(cur, cur - 1, std::memory_order_acquire)) return true;
  }
  return false;
}

bool Bulkhead::TryAcquirePermission() {
  bool ok = TryTake();
  if (!ok && config_.max_wait_duration.count() > 0) {
    std::unique_lock lock(mu_);
    waiters_.fetch_add(1);
    ok = cv_.wait_for(lock, config_.max_wait_duration, [&] { return TryTake(); });
    waiters_.fetch_sub(1);
  }
  (ok ? permitted_ : rejected_).fetch_add(1, std::memory_order_relaxed);
  return ok;
}

void Bulkhead::OnComplete() {
  available_.fetch_add(1, std::memory_order_release);
  if (waiters_.load() > 0) {
    std::lock_guard lock(mu_);  // pairs with the waiter's predicate check
    cv_.notify_one();
  }
}

}  // namespace op::resilience
