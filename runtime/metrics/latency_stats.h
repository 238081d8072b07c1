#pragma once
// Lock-free cumulative call statistics (count, sum, bucketed latencies) kept by
// each resilience primitive, so recording costs a few relaxed atomic adds and
// the metrics exporter or the dashboard read them at scrape time.
#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>

namespace op::metrics {

class LatencyStats {
 public:
  // Upper bounds in seconds (Prometheus histogram buckets, "le").
  static constexpr std::array<double, 12> kBounds = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                                     0.1,   0.25,   0.5,   1.0,  2.5,   10.0};

  void Record(std::chrono::nanoseconds d) {
    double s = std::chrono::duration<double>(d).count();
    size_t i = 0;
    while (i < kBounds.size() && s > kBounds[i]) ++i;
    buckets_[i].fetch_add(1, std::memory_order_relaxed);
    count_.fetch_add(1, std::memory_order_relaxed);
    sum_ns_.fetch_add(static_cast<uint64_t>(d.count() > 0 ? d.count() : 0), std::memory_order_relaxed);
  }

  struct Snapshot {
    uint64_t count = 0;
    double sum_seconds = 0;
    std::array<uint64_t, kBounds.size() + 1> buckets{};  // non-cumulative, last = +Inf
    // Linear interpolation inside the bucket, as Prometheus' histogram_quantile.
    double Quantile(double q) const;
  };
  Snapshot Read() const {
    Snapshot s;
    s.count = count_.load(std::memory_order_relaxed);
    s.sum_seconds = double(sum_ns_.load(std::memory_order_relaxed)) / 1e9;
    for (size_t i = 0; i < buckets_.size(); ++i) s.buckets[i] = buckets_[i].load(std::memory_order_relaxed);
    return s;
  }

 private:
  std::array<std::atomic<uint64_t>, kBounds.size() + 1> buckets_{};
  std::atomic<uint64_t> count_{0};
  std::atomic<uint64_t> sum_ns_{0};
};

inline double LatencyStats::Snapshot::Quantile(double q) const {
  uint64_t total = 0;
  for (auto b : buckets) total += b;
  if (total == 0) return 0;
  double rank = q * double(total);
  uint64_t cum = 0;
  for (size_t i = 0; i < buckets.size(); ++i) {
    if (double(cum + buckets[i]) >= rank && buckets[i] > 0) {
      if (i == kBounds.size()) return kBounds.back();
      double lo = i == 0 ? 0 : kBounds[i - 1], hi = kBounds[i];
      return lo + (hi - lo) * (rank - double(cum)) / double(buckets[i]);
    }
    cum += buckets[i];
  }
  return kBounds.back();
}

}  // namespace op::metrics
