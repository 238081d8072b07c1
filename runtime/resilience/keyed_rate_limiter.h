#pragma once
// One token bucket per client key (API key, client IP) under one name, for
// per-client limits at the edge. Keys are kept in a bounded map: when it
// holds `max_keys`, buckets that have refilled completely (idle clients) are
// dropped first, so memory stays bounded under many distinct clients.
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

#include "runtime/resilience/rate_limiter.h"

namespace op::resilience {

class KeyedRateLimiter {
 public:
  KeyedRateLimiter(std::string name, RateLimiterConfig config, const Clock& clock = SystemClock::Instance(),
                   size_t max_keys = 100000)
      : name_(std::move(name)), config_(config), clock_(clock), max_keys_(max_keys) {}

  RateLimiter::Decision TryAcquire(const std::string& key) {
    RateLimiter* limiter;
    {
      std::lock_guard lock(mu_);
      auto it = buckets_.find(key);
      if (it == buckets_.end()) {
        if (buckets_.size() >= max_keys_) EvictIdleLocked();
        it = buckets_.emplace(key, std::make_unique<RateLimiter>(name_, config_, clock_)).first;
      }
      limiter = it->second.get();
    }
    auto d = limiter->TryAcquire();
    (d.permitted ? permitted_ : rejected_).fetch_add(1, std::memory_order_relaxed);
    return d;
  }
  size_t Keys() const {
    std::lock_guard lock(mu_);
    return buckets_.size();
  }
  uint64_t Permitted() const { return permitted_; }
  uint64_t Rejected() const { return rejected_; }
  const std::string& Name() const { return name_; }

 private:
  void EvictIdleLocked() {
    for (auto it = buckets_.begin(); it != buckets_.end();) {
      if (it->second->AvailablePermissions() >= config_.limit_for_period) it = buckets_.erase(it);
      else ++it;
    }
    if (buckets_.size() >= max_keys_) buckets_.clear();  // all busy: start over rather than grow
  }
  const std::string name_;
  const RateLimiterConfig config_;
  const Clock& clock_;
  const size_t max_keys_;
  mutable std::mutex mu_;
  std::unordered_map<std::string, std::unique_ptr<RateLimiter>> buckets_;
  std::atomic<uint64_t> permitted_{0}, rejected_{0};
};

}  // namespace op::resilience
