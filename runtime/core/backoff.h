#pragma once
// Exponential backoff, the one policy every loop that retries uses (start-up
// waits, lease renewals, relays, deliveries, consumer retries, the stack's
// supervisor). The n-th wait is min(max, initial * multiplier^(n-1)); with
// full jitter it is uniform in [0, that] ("Exponential Backoff and Jitter",
// as Envoy's JitteredExponentialBackOffStrategy), so many clients failing
// together do not retry together.
//
// BackoffPolicy is a plain value; Backoff is one retry sequence (not
// thread-safe: owned by the loop that retries).
#include <chrono>
#include <cstdint>
#include <random>

namespace op {

struct BackoffPolicy {
  std::chrono::milliseconds initial{100};
  std::chrono::milliseconds max{10'000};
  double multiplier = 2.0;
  bool full_jitter = false;

  // The cap of the `attempt`-th wait (attempt >= 1), before any jitter.
  std::chrono::milliseconds Cap(int64_t attempt) const;
};

class Backoff {
 public:
  explicit Backoff(BackoffPolicy policy, uint64_t seed = std::random_device{}());

  // The wait before the next attempt; each call counts one failure.
  std::chrono::milliseconds Next();
  // After a success: the next failure waits `initial` again.
  void Reset() { attempts_ = 0; }
  int64_t attempts() const { return attempts_; }
  const BackoffPolicy& policy() const { return policy_; }

 private:
  BackoffPolicy policy_;
  int64_t attempts_ = 0;
  std::mt19937_64 rng_;
};

}  // namespace op
