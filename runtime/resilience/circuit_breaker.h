#pragma once
// CircuitBreaker with Resilience4j's semantics (CircuitBreakerStateMachine):
//
//   CLOSED --(failure or slow-call rate >= threshold, once minimum calls seen)--> OPEN
//   OPEN --(wait-duration-in-open-state elapsed; checked on the next call)--> HALF_OPEN
//   HALF_OPEN --(after permitted calls: rates below thresholds)--> CLOSED, else --> OPEN
//   HALF_OPEN --(max-wait-duration-in-half-open-state elapsed, if > 0)--> OPEN
//   forced states: DISABLED (always permits, records nothing), FORCED_OPEN
//   (never permits), METRICS_ONLY (always permits, records, never trips).
//
// Outcomes land in a count-based window (the last N calls) or a time-based one
// (the calls of the last N seconds, in one-second buckets). Time comes from an
// injected Clock. Thread-safe; a permitted call in CLOSED costs one relaxed
// atomic load plus one short critical section when its outcome is recorded.
#include <atomic>
#include <chrono>
#include <functional>
#include <mutex>
#include <string>
#include <vector>

#include "runtime/core/clock.h"
#include "runtime/metrics/latency_stats.h"

namespace op::resilience {

enum class CircuitState { kClosed, kOpen, kHalfOpen, kDisabled, kForcedOpen, kMetricsOnly };
// Lower-case names as Resilience4j's metrics label them ("half_open", ...).
const char* StateName(CircuitState s);

struct CircuitBreakerConfig {
  enum class WindowType { kCountBased, kTimeBased };
  double failure_rate_threshold = 50;      // percent
  double slow_call_rate_threshold = 100;   // percent
  std::chrono::nanoseconds slow_call_duration_threshold = std::chrono::seconds(60);
  int permitted_calls_in_half_open = 10;
  std::chrono::nanoseconds max_wait_in_half_open{0};  // 0: wait for the trial calls
  WindowType window_type = WindowType::kCountBased;
  int sliding_window_size = 100;  // calls, or seconds when time-based
  int minimum_number_of_calls = 100;
  std::chrono::nanoseconds wait_duration_in_open_state = std::chrono::seconds(60);
};

class CircuitBreaker {
 public:
  struct Snapshot {
    CircuitState state;
    float failure_rate;    // percent, -1 while fewer than the minimum calls
    float slow_call_rate;  // percent, -1 likewise
    int buffered_calls, failed_calls, slow_calls, slow_failed_calls;
    uint64_t not_permitted_calls;
  };
  using Listener = std::function<void(const std::string& name, CircuitState from, CircuitState to)>;

  CircuitBreaker(std::string name, CircuitBreakerConfig config,
                 const Clock& clock = SystemClock::Instance());

  // Asks to make a call. false: the call must not be made (counted as not permitted).
  bool TryAcquirePermission();
  // Exactly one of these after each permitted call.
  void OnSuccess(std::chrono::nanoseconds duration);
  void OnError(std::chrono::nanoseconds duration);
  // The call's outcome should not count (e.g. a 4xx caused by the caller).
  void OnIgnored(std::chrono::nanoseconds duration);

  CircuitState State() const { return state_.load(std::memory_order_acquire); }
  Snapshot GetSnapshot() const;
  // How long until an OPEN breaker lets a trial call through (for Retry-After).
  std::chrono::nanoseconds RemainingOpenWait() const;

  void TransitionToClosed();
  void TransitionToOpen();
  void TransitionToForcedOpen();
  void TransitionToDisabled();
  void TransitionToMetricsOnly();
  void Reset();  // CLOSED with an empty window

  void AddListener(Listener l);
  const std::string& Name() const { return name_; }
  const CircuitBreakerConfig& Config() const { return config_; }

  // Cumulative timers for metrics: successful, failed, ignored calls.
  const metrics::LatencyStats& SuccessfulCalls() const { return successful_; }
  const metrics::LatencyStats& FailedCalls() const { return failed_; }
  const metrics::LatencyStats& IgnoredCalls() const { return ignored_; }

 private:
  struct Outcome {
    bool failed = false, slow = false;
  };
  struct Bucket {
    int64_t epoch_second = -1;
    int calls = 0, failed = 0, slow = 0, slow_failed = 0;
  };
  void Record(bool failed, std::chrono::nanoseconds d);
  void ResetWindowLocked(int size, bool count_based);
  void AdvanceTimeWindowLocked(int64_t now_second);
  void AddToWindowLocked(bool failed, bool slow);
  float FailureRateLocked(int min_calls) const;
  float SlowRateLocked(int min_calls) const;
  void TransitionLocked(CircuitState to, std::vector<std::pair<CircuitState, CircuitState>>& fired);
  void Fire(const std::vector<std::pair<CircuitState, CircuitState>>& fired);
  int64_t NowSecond() const;

  const std::string name_;
  const CircuitBreakerConfig config_;
  const Clock& clock_;

  std::atomic<CircuitState> state_{CircuitState::kClosed};
  std::atomic<uint64_t> not_permitted_{0};
  metrics::LatencyStats successful_, failed_, ignored_;

  mutable std::mutex mu_;
  // window: count-based ring or time-based buckets; totals kept incrementally
  bool window_count_based_ = true;
  std::vector<Outcome> ring_;
  std::vector<Bucket> buckets_;
  size_t ring_head_ = 0;
  int total_ = 0, failed_count_ = 0, slow_count_ = 0, slow_failed_count_ = 0;
  Clock::TimePoint state_since_;
  int half_open_permits_left_ = 0;
  std::vector<Listener> listeners_;
};

class CallNotPermitted : public std::runtime_error {
 public:
  explicit CallNotPermitted(const std::string& name)
      : std::runtime_error("circuit breaker '" + name + "' is OPEN and does not permit further calls") {}
};

}  // namespace op::resilience
