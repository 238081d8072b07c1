#pragma once
// One token bucket per client key (the caller's subject, or its address)
// under one name, for per-client limits at the edge. Memory is bounded: at
// most `max_keys` buckets, in shards (so concurrent clients rarely share a
// lock), each evicting its least recently used bucket when full. A bucket is
// shared-owned: one evicted while a caller still uses it stays alive until
// that caller is done. An evicted client starts again with a full bucket, as
// a new one would; a client that keeps calling is never the least recent.
//
// Thread-safe.
#include <array>
#include <atomic>
#include <functional>
#include <list>
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
      : name_(std::move(name)), config_(config), clock_(clock), per_shard_(std::max<size_t>(1, max_keys / kShards)) {}

  RateLimiter::Decision TryAcquire(const std::string& key) {
    auto limiter = Bucket(key);  // kept alive by this reference, evicted or not
    auto d = limiter->TryAcquire();
    (d.permitted ? permitted_ : rejected_).fetch_add(1, std::memory_order_relaxed);
    return d;
  }
  size_t Keys() const {
    size_t n = 0;
    for (const auto& s : shards_) {
      std::lock_guard lock(s.mu);
      n += s.buckets.size();
    }
    return n;
  }
  uint64_t Permitted() const { return permitted_; }
  uint64_t Rejected() const { return rejected_; }
  const std::string& Name() const { return name_; }

 private:
  static constexpr size_t kShards = 16;
  struct Entry {
    std::shared_ptr<RateLimiter> limiter;
    std::list<std::string>::iterator recency;
  };
  struct Shard {
    mutable std::mutex mu;
    std::unordered_map<std::string, Entry> buckets;
    std::list<std::string> recency;  // most recent first
  };

  std::shared_ptr<RateLimiter> Bucket(const std::string& key) {
    Shard& s = shards_[std::hash<std::string>{}(key) % kShards];
    std::lock_guard lock(s.mu);
    if (auto it = s.buckets.find(key); it != s.buckets.end()) {
      s.recency.splice(s.recency.begin(), s.recency, it->second.recency);
      return it->second.limiter;
    }
    if (s.buckets.size() >= per_shard_) {
      s.buckets.erase(s.recency.back());
      s.recency.pop_back();
    }
    s.recency.push_front(key);
    auto limiter = std::make_shared<RateLimiter>(name_, config_, clock_);
    s.buckets.emplace(key, Entry{limiter, s.recency.begin()});
    return limiter;
  }

  const std::string name_;
  const RateLimiterConfig config_;
  const Clock& clock_;
  const size_t per_shard_;
  std::array<Shard, kShards> shards_;
  std::atomic<uint64_t> permitted_{0}, rejected_{0};
};

}  // namespace op::resilience
