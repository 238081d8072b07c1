#pragma once
// The largest value recorded in the last `expiry` (Micrometer's TimeWindowMax,
// behind every Timer's _max gauge): a ring of `buffers` slots, each recording
// every value; every expiry/buffers the oldest slot is cleared and becomes
// the newest, and the current one is read. Lock-free: Record is a few CAS
// loops on atomics, cheap enough for a request's hot path; rotation is done
// by whichever thread finds it due first.
#include <array>
#include <atomic>
#include <chrono>

namespace op::metrics {

class WindowMax {
 public:
  using Clock = std::chrono::steady_clock;
  static constexpr int kBuffers = 3;

  explicit WindowMax(Clock::duration expiry = std::chrono::minutes(2), Clock::time_point now = Clock::now())
      : step_((expiry / kBuffers).count()), last_rotate_(now.time_since_epoch().count()) {
    for (auto& s : slots_) s.store(0);
  }

  void Record(double v, Clock::time_point now = Clock::now()) {
    Rotate(now);
    for (auto& s : slots_) {
      double seen = s.load(std::memory_order_relaxed);
      while (v > seen && !s.compare_exchange_weak(seen, v, std::memory_order_relaxed)) {
      }
    }
  }

  double Poll(Clock::time_point now = Clock::now()) {
    Rotate(now);
    return slots_[current_.load(std::memory_order_acquire)].load(std::memory_order_relaxed);
  }

 private:
  void Rotate(Clock::time_point now) {
    const Clock::rep t = now.time_since_epoch().count();
    Clock::rep since = t - last_rotate_.load(std::memory_order_relaxed);
    if (since < step_) return;
    bool expected = false;
    if (!rotating_.compare_exchange_strong(expected, true, std::memory_order_acquire)) return;
    int cur = current_.load(std::memory_order_relaxed);
    Clock::rep last = last_rotate_.load(std::memory_order_relaxed);
    since = t - last;
    for (int i = 0; since >= step_ && i < kBuffers; ++i) {
      slots_[cur].store(0, std::memory_order_relaxed);
      cur = (cur + 1) % kBuffers;
      since -= step_;
      last += step_;
    }
    if (since >= step_) last = t;  // idle for longer than the window: start afresh
    last_rotate_.store(last, std::memory_order_relaxed);
    current_.store(cur, std::memory_order_release);
    rotating_.store(false, std::memory_order_release);
  }

  const Clock::rep step_;
  std::array<std::atomic<double>, kBuffers> slots_;
  std::atomic<int> current_{0};
  std::atomic<Clock::rep> last_rotate_;
  std::atomic<bool> rotating_{false};
};

}  // namespace op::metrics
