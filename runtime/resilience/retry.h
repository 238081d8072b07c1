#pragma once
// Retry with exponential backoff and full jitter (AWS architecture blog,
// "Exponential Backoff And Jitter"): the wait before attempt n+1 is uniform in
// [0, min(max_wait, wait * multiplier^(n-1))]. A RetryBudget shared by all
// calls through one Retry caps retries at a fraction of first attempts, so a
// failing upstream sees at most (1 + ratio) x its normal traffic, not
// max_attempts x.
#include <atomic>
#include <chrono>
#include <functional>
#include <optional>
#include <random>
#include <stdexcept>
#include <string>
#include <thread>

namespace op::resilience {

struct RetryConfig {
  int max_attempts = 3;  // including the first
  std::chrono::nanoseconds wait_duration = std::chrono::milliseconds(500);
  double exponential_multiplier = 2.0;
  std::chrono::nanoseconds max_wait_duration = std::chrono::seconds(30);
  bool full_jitter = true;
  double budget_ratio = 0.1;   // retries allowed per first attempt
  int budget_min_retries = 10; // retries always affordable in a burst (the cap)
};

// Deposit `ratio` per first attempt, withdraw 1 per retry, balance capped at
// `min_retries`; lock-free (milli-tokens in one atomic).
class RetryBudget {
 public:
  RetryBudget(double ratio, int min_retries)
      : deposit_(static_cast<int64_t>(ratio * 1000)), cap_(int64_t(min_retries) * 1000),
        balance_(cap_) {}
  void OnFirstAttempt() {
    int64_t cur = balance_.load(std::memory_order_relaxed);
    while (cur < cap_ && !balance_.compare_exchange_weak(cur, std::min(cap_, cur + deposit_),
                                                         std::memory_order_relaxed)) {
    }
  }
  bool TryWithdraw() {
    int64_t cur = balance_.load(std::memory_order_relaxed);
    while (cur >= 1000) {
      if (balance_.compare_exchange_weak(cur, cur - 1000, std::memory_order_relaxed)) return true;
    }
    return false;
  }
  double Balance() const { return double(balance_.load(std::memory_order_relaxed)) / 1000; }

 private:
  const int64_t deposit_, cap_;
  std::atomic<int64_t> balance_;
};

class Retry {
 public:
  using Sleeper = std::function<void(std::chrono::nanoseconds)>;
  struct Counts {
    uint64_t successful_without_retry, successful_with_retry, failed_with_retry,
        failed_without_retry, budget_exhausted;
  };

  explicit Retry(std::string name, RetryConfig config = {}, uint64_t seed = std::random_device{}());

  // Runs f up to max_attempts times while `should_retry(result)` is true or f
  // throws; returns the last result or rethrows the last exception. Waits with
  // `sleep` (tests pass one that records instead of sleeping).
  template <class F, class ShouldRetry>
  auto Execute(F&& f, ShouldRetry&& should_retry, const Sleeper& sleep = DefaultSleep)
      -> decltype(f()) {
    OnCall();
    for (int attempt = 1;; ++attempt) {
      std::optional<std::chrono::nanoseconds> wait;
      try {
        auto result = f();
        if (!should_retry(result)) {
          OnSuccess(attempt);
          return result;
        }
        if (!(wait = OnFailure(attempt))) return result;
      } catch (...) {
        if (!(wait = OnFailure(attempt))) throw;
      }
      sleep(*wait);
    }
  }

  // The same decisions for a caller that cannot block between attempts (an
  // event loop schedules the next attempt on a timer): OnCall() once per call,
  // then after attempt n (1-based) either OnSuccess(n), or OnFailure(n), which
  // says how long to wait before attempt n+1, or nullopt when the call ends
  // failed (attempts or budget exhausted). Each records the outcome.
  void OnCall() { budget_.OnFirstAttempt(); }
  void OnSuccess(int attempt) { Count(attempt == 1 ? successful_without_retry_ : successful_with_retry_); }
  std::optional<std::chrono::nanoseconds> OnFailure(int attempt) {
    if (attempt >= config_.max_attempts || !MayRetry()) {
      Count(attempt == 1 ? failed_without_retry_ : failed_with_retry_);
      return std::nullopt;
    }
    return NextWait(attempt);
  }

  // The wait after failed attempt n (1-based), jitter applied.
  std::chrono::nanoseconds NextWait(int attempt);
  Counts GetCounts() const;
  const std::string& Name() const { return name_; }
  const RetryConfig& Config() const { return config_; }
  const RetryBudget& Budget() const { return budget_; }
  static void DefaultSleep(std::chrono::nanoseconds d) { std::this_thread::sleep_for(d); }

 private:
  bool MayRetry() {
    if (budget_.TryWithdraw()) return true;
    Count(budget_exhausted_);
    return false;
  }
  static void Count(std::atomic<uint64_t>& c) { c.fetch_add(1, std::memory_order_relaxed); }

  const std::string name_;
  const RetryConfig config_;
  RetryBudget budget_;
  std::atomic<uint64_t> successful_without_retry_{0}, successful_with_retry_{0},
      failed_with_retry_{0}, failed_without_retry_{0}, budget_exhausted_{0};
  std::atomic<uint64_t> rng_state_;
};

}  // namespace op::resilience
