#include "runtime/resilience/circuit_breaker.h"

#include <algorithm>

namespace op::resilience {

const char* StateName(CircuitState s) {
  switch (s) {
    case CircuitState::kClosed: return "closed";
    case CircuitState::kOpen: return "open";
    case CircuitState::kHalfOpen: return "half_open";
    case CircuitState::kDisabled: return "disabled";
    case CircuitState::kForcedOpen: return "forced_open";
    case CircuitState::kMetricsOnly: return "metrics_only";
  }
  return "unknown";
}

namespace {
CircuitBreakerConfig Sanitized(CircuitBreakerConfig c) {
  c.sliding_window_size = std::max(1, c.sliding_window_size);
  c.permitted_calls_in_half_open = std::max(1, c.permitted_calls_in_half_open);
  c.minimum_number_of_calls = std::max(1, c.minimum_number_of_calls);
  return c;
}
}  // namespace

CircuitBreaker::CircuitBreaker(std::string name, CircuitBreakerConfig config, const Clock& clock)
    : name_(std::move(name)), config_(Sanitized(config)), clock_(clock) {
  std::lock_guard lock(mu_);
  state_since_ = clock_.Now();
  ResetWindowLocked(config_.sliding_window_size,
                    config_.window_type == CircuitBreakerConfig::WindowType::kCountBased);
}

int64_t CircuitBreaker::NowSecond() const {
  return std::chrono::duration_cast<std::chrono::seconds>(clock_.Now().time_since_epoch()).count();
}

void CircuitBreaker::ResetWindowLocked(int size, bool count_based) {
  window_count_based_ = count_based;
  ring_.assign(count_based ? size : 0, Outcome{});
  buckets_.assign(count_based ? 0 : size, Bucket{});
  ring_head_ = 0;
  total_ = failed_count_ = slow_count_ = slow_failed_count_ = 0;
}

void CircuitBreaker::AdvanceTimeWindowLocked(int64_t now) {
  const int64_t n = static_cast<int64_t>(buckets_.size());
  for (auto& b : buckets_) {
    if (b.epoch_second >= 0 && b.epoch_second <= now - n) {
      total_ -= b.calls;
      failed_count_ -= b.failed;
      slow_count_ -= b.slow;
      slow_failed_count_ -= b.slow_failed;
      b = Bucket{};
    }
  }
}

void CircuitBreaker::AddToWindowLocked(bool failed, bool slow) {
  if (window_count_based_) {
    Outcome& slot = ring_[ring_head_];
    if (total_ == static_cast<int>(ring_.size())) {  // full: evict the oldest
      failed_count_ -= slot.failed;
      slow_count_ -= slot.slow;
      slow_failed_count_ -= (slot.slow && slot.failed);
      --total_;
    }
    slot = Outcome{failed, slow};
    ring_head_ = (ring_head_ + 1) % ring_.size();
  } else {
    int64_t now = NowSecond();
    AdvanceTimeWindowLocked(now);
    Bucket& b = buckets_[static_cast<size_t>(now % static_cast<int64_t>(buckets_.size()))];
    b.epoch_second = now;
    b.calls++;
    b.failed += failed;
    b.slow += slow;
    b.slow_failed += (slow && failed);
  }
  ++total_;
  failed_count_ += failed;
  slow_count_ += slow;
  slow_failed_count_ += (slow && failed);
}

float CircuitBreaker::FailureRateLocked(int min_calls) const {
  if (total_ == 0 || total_ < min_calls) return -1;
  return float(failed_count_) * 100.0f / float(total_);
}

float CircuitBreaker::SlowRateLocked(int min_calls) const {
  if (total_ == 0 || total_ < min_calls) return -1;
  return float(slow_count_) * 100.0f / float(total_);
}

bool CircuitBreaker::TryAcquirePermission() {
  CircuitState s = state_.load(std::memory_order_acquire);
  if (s == CircuitState::kClosed || s == CircuitState::kDisabled || s == CircuitState::kMetricsOnly)
    return true;
  if (s == CircuitState::kForcedOpen) {
    not_permitted_.fetch_add(1, std::memory_order_relaxed);
    return false;
  }
  std::vector<std::pair<CircuitState, CircuitState>> fired;
  bool permitted = false;
  {
    std::lock_guard lock(mu_);
    s = state_.load(std::memory_order_relaxed);
    auto now = clock_.Now();
    if (s == CircuitState::kOpen && now - state_since_ >= config_.wait_duration_in_open_state) {
      TransitionLocked(CircuitState::kHalfOpen, fired);
      s = CircuitState::kHalfOpen;
    }
    if (s == CircuitState::kHalfOpen) {
      if (config_.max_wait_in_half_open.count() > 0 && now - state_since_ >= config_.max_wait_in_half_open) {
        TransitionLocked(CircuitState::kOpen, fired);
      } else if (half_open_permits_left_ > 0) {
        --half_open_permits_left_;
        permitted = true;
      }
    } else if (s == CircuitState::kClosed || s == CircuitState::kDisabled ||
               s == CircuitState::kMetricsOnly) {
      permitted = true;  // changed state while we waited for the lock
    }
  }
  if (!permitted) not_permitted_.fetch_add(1, std::memory_order_relaxed);
  Fire(fired);
  return permitted;
}

void CircuitBreaker::OnSuccess(std::chrono::nanoseconds d) { Record(false, d); }
void CircuitBreaker::OnError(std::chrono::nanoseconds d) { Record(true, d); }

void CircuitBreaker::OnIgnored(std::chrono::nanoseconds d) {
  ignored_.Record(d);
  // An ignored call still gives its half-open permit back.
  std::lock_guard lock(mu_);
  if (state_.load(std::memory_order_relaxed) == CircuitState::kHalfOpen) ++half_open_permits_left_;
}

void CircuitBreaker::Record(bool failed, std::chrono::nanoseconds d) {
  CircuitState s = state_.load(std::memory_order_acquire);
  if (s == CircuitState::kDisabled) return;
  (failed ? failed_ : successful_).Record(d);
  const bool slow = d >= config_.slow_call_duration_threshold;
  std::vector<std::pair<CircuitState, CircuitState>> fired;
  {
    std::lock_guard lock(mu_);
    s = state_.load(std::memory_order_relaxed);
    if (s == CircuitState::kClosed || s == CircuitState::kMetricsOnly) {
      AddToWindowLocked(failed, slow);
      if (s == CircuitState::kClosed) {
        int min_calls = config_.minimum_number_of_calls;
        if (window_count_based_) min_calls = std::min(min_calls, config_.sliding_window_size);
        float fr = FailureRateLocked(min_calls), sr = SlowRateLocked(min_calls);
        if ((fr >= 0 && fr >= config_.failure_rate_threshold) ||
            (sr >= 0 && sr >= config_.slow_call_rate_threshold))
          TransitionLocked(CircuitState::kOpen, fired);
      }
    } else if (s == CircuitState::kHalfOpen) {
      AddToWindowLocked(failed, slow);
      if (total_ >= config_.permitted_calls_in_half_open) {
        float fr = FailureRateLocked(config_.permitted_calls_in_half_open);
        float sr = SlowRateLocked(config_.permitted_calls_in_half_open);
        bool trip = fr >= config_.failure_rate_threshold || sr >= config_.slow_call_rate_threshold;
        TransitionLocked(trip ? CircuitState::kOpen : CircuitState::kClosed, fired);
      }
    }
    // OPEN / FORCED_OPEN: a call permitted before the breaker opened finished
    // late; its outcome says nothing about the current state.
  }
  Fire(fired);
}

void CircuitBreaker::TransitionLocked(CircuitState to,
                                      std::vector<std::pair<CircuitState, CircuitState>>& fired) {
  CircuitState from = state_.load(std::memory_order_relaxed);
  if (from == to) return;
  state_since_ = clock_.Now();
  switch (to) {
    case CircuitState::kClosed:
    case CircuitState::kMetricsOnly:
      ResetWindowLocked(config_.sliding_window_size,
                        config_.window_type == CircuitBreakerConfig::WindowType::kCountBased);
      break;
    case CircuitState::kHalfOpen:
      ResetWindowLocked(config_.permitted_calls_in_half_open, true);
      half_open_permits_left_ = config_.permitted_calls_in_half_open;
      break;
    case CircuitState::kOpen:
    case CircuitState::kForcedOpen:
      break;  // keep the window: its rates explain why the breaker opened
    case CircuitState::kDisabled:
      ResetWindowLocked(config_.sliding_window_size, true);
      break;
  }
  state_.store(to, std::memory_order_release);
  fired.emplace_back(from, to);
}

void CircuitBreaker::Fire(const std::vector<std::pair<CircuitState, CircuitState>>& fired) {
  if (fired.empty()) return;
  std::vector<Listener> listeners;
  {
    std::lock_guard lock(mu_);
    listeners = listeners_;
  }
  for (auto [from, to] : fired)
    for (auto& l : listeners) l(name_, from, to);
}

CircuitBreaker::Snapshot CircuitBreaker::GetSnapshot() const {
  std::lock_guard lock(mu_);
  CircuitState s = state_.load(std::memory_order_relaxed);
  int min_calls = s == CircuitState::kHalfOpen ? config_.permitted_calls_in_half_open
                                               : config_.minimum_number_of_calls;
  if (window_count_based_ && s != CircuitState::kHalfOpen)
    min_calls = std::min(min_calls, config_.sliding_window_size);
  if (!window_count_based_) const_cast<CircuitBreaker*>(this)->AdvanceTimeWindowLocked(NowSecond());
  return Snapshot{s,
                  FailureRateLocked(min_calls),
                  SlowRateLocked(min_calls),
                  total_,
                  failed_count_,
                  slow_count_,
                  slow_failed_count_,
                  not_permitted_.load(std::memory_order_relaxed)};
}

std::chrono::nanoseconds CircuitBreaker::RemainingOpenWait() const {
  std::lock_guard lock(mu_);
  if (state_.load(std::memory_order_relaxed) != CircuitState::kOpen) return {};
  auto left = config_.wait_duration_in_open_state - (clock_.Now() - state_since_);
  return left.count() > 0 ? std::chrono::duration_cast<std::chrono::nanoseconds>(left)
                          : std::chrono::nanoseconds{0};
}

#define OP_TRANSITION(fn, st)                               \
  void CircuitBreaker::fn() {                               \
    std::vector<std::pair<CircuitState, CircuitState>> f;   \
    {                                                       \
      std::lock_guard lock(mu_);                            \
      TransitionLocked(st, f);                              \
    }                                                       \
    Fire(f);                                                \
  }
OP_TRANSITION(TransitionToClosed, CircuitState::kClosed)
OP_TRANSITION(TransitionToOpen, CircuitState::kOpen)
OP_TRANSITION(TransitionToForcedOpen, CircuitState::kForcedOpen)
OP_TRANSITION(TransitionToDisabled, CircuitState::kDisabled)
OP_TRANSITION(TransitionToMetricsOnly, CircuitState::kMetricsOnly)
#undef OP_TRANSITION

void CircuitBreaker::Reset() {
  std::vector<std::pair<CircuitState, CircuitState>> f;
  {
    std::lock_guard lock(mu_);
    TransitionLocked(CircuitState::kClosed, f);
    ResetWindowLocked(config_.sliding_window_size,
                      config_.window_type == CircuitBreakerConfig::WindowType::kCountBased);
  }
  Fire(f);
}

void CircuitBreaker::AddListener(Listener l) {
  std::lock_guard lock(mu_);
  listeners_.push_back(std::move(l));
}

}  // namespace op::resilience
