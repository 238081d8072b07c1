#pragma once
// Time as a dependency: resilience state machines, leases and timeouts take a
// Clock so tests drive them with ManualClock instead of sleeping.
#include <atomic>
#include <chrono>

namespace op {

class Clock {
 public:
  using Duration = std::chrono::nanoseconds;
  using TimePoint = std::chrono::steady_clock::time_point;
  virtual ~Clock() = default;
  // Monotonic time for durations and deadlines.
  virtual TimePoint Now() const = 0;
  // Wall time for timestamps shown to people and stored in databases.
  virtual std::chrono::system_clock::time_point WallNow() const = 0;
};

class SystemClock final : public Clock {
 public:
  TimePoint Now() const override { return std::chrono::steady_clock::now(); }
  std::chrono::system_clock::time_point WallNow() const override {
    return std::chrono::system_clock::now();
  }
  static SystemClock& Instance();
};

// Test clock: starts at an arbitrary fixed point and moves only when told.
class ManualClock final : public Clock {
 public:
  TimePoint Now() const override { return TimePoint(Duration(now_.load())); }
  std::chrono::system_clock::time_point WallNow() const override {
    return std::chrono::system_clock::time_point(
        std::chrono::duration_cast<std::chrono::system_clock::duration>(
            Duration(now_.load() + kWallEpochOffset)));
  }
  void Advance(Duration d) { now_ += d.count(); }

 private:
  // 2026-01-01T00:00:00Z, so wall timestamps in tests are plausible.
  static constexpr int64_t kWallEpochOffset = 1767225600LL * 1000000000LL;
  std::atomic<int64_t> now_{1'000'000'000'000};
};

}  // namespace op
