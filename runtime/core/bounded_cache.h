#pragma once
// A thread-safe cache of at most `capacity` entries, least recently used
// evicted first, each entry expiring `ttl` after it was put (none: kept until
// evicted). For values that are expensive to fetch and fine to fetch again:
// prices from another service, an order's contact read per notification.
#include <chrono>
#include <list>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <unordered_map>
#include <utility>

#include "runtime/core/clock.h"

namespace op {

template <class K, class V>
class BoundedCache {
 public:
  explicit BoundedCache(size_t capacity, std::optional<Clock::Duration> ttl = std::nullopt,
                        const Clock& clock = SystemClock::Instance())
      : capacity_(capacity), ttl_(ttl), clock_(clock) {
    if (capacity == 0) throw std::invalid_argument("BoundedCache: capacity must be at least 1");
  }

  std::optional<V> Get(const K& key) {
    std::lock_guard lock(mu_);
    auto it = index_.find(key);
    if (it == index_.end()) return std::nullopt;
    auto entry = it->second;
    if (ttl_ && clock_.Now() >= entry->expires) {
      order_.erase(entry);
      index_.erase(it);
      return std::nullopt;
    }
    order_.splice(order_.begin(), order_, entry);  // now the most recently used
    return entry->value;
  }

  void Put(const K& key, V value) {
    std::lock_guard lock(mu_);
    const auto expires = ttl_ ? clock_.Now() + *ttl_ : Clock::TimePoint::max();
    if (auto it = index_.find(key); it != index_.end()) {
      it->second->value = std::move(value);
      it->second->expires = expires;
      order_.splice(order_.begin(), order_, it->second);
      return;
    }
    order_.push_front({key, std::move(value), expires});
    index_.emplace(key, order_.begin());
    if (index_.size() > capacity_) {
      index_.erase(order_.back().key);
      order_.pop_back();
    }
  }

  size_t Size() const {
    std::lock_guard lock(mu_);
    return index_.size();
  }

 private:
  struct Entry {
    K key;
    V value;
    Clock::TimePoint expires;
  };
  const size_t capacity_;
  const std::optional<Clock::Duration> ttl_;
  const Clock& clock_;
  mutable std::mutex mu_;
  std::list<Entry> order_;  // most recently used first
  std::unordered_map<K, typename std::list<Entry>::iterator> index_;
};

}  // namespace op
