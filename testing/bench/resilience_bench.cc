// Per-call overhead of the resilience primitives on the hot path, beside two
// baselines measured in the same run: an uncontended std::mutex lock/unlock
// and a relaxed atomic increment. Run:
//   bazel run -c opt //testing/bench:resilience_bench
// ThreadRange(1, 2) gives the uncontended and the 2-thread contended cost.
#include <benchmark/benchmark.h>

#include <atomic>
#include <mutex>

#include "runtime/resilience/bulkhead.h"
#include "runtime/resilience/circuit_breaker.h"
#include "runtime/resilience/rate_limiter.h"
#include "runtime/resilience/retry.h"

namespace op::resilience {
namespace {

using namespace std::chrono_literals;

void BM_Baseline_MutexLockUnlock(benchmark::State& state) {
  static std::mutex mu;
  for (auto _ : state) {
    mu.lock();
    mu.unlock();
  }
}
BENCHMARK(BM_Baseline_MutexLockUnlock)->ThreadRange(1, 2);

void BM_Baseline_AtomicIncrement(benchmark::State& state) {
  static std::atomic<uint64_t> n{0};
  for (auto _ : state) benchmark::DoNotOptimize(n.fetch_add(1, std::memory_order_relaxed));
}
BENCHMARK(BM_Baseline_AtomicIncrement)->ThreadRange(1, 2);

// A permitted call: TryAcquirePermission + OnSuccess (the outcome recorded in
// the sliding window and the latency histogram).
void BM_CircuitBreaker_PermittedCall(benchmark::State& state) {
  static CircuitBreaker cb("bench", [] {
    CircuitBreakerConfig c;
    c.sliding_window_size = 100;
    c.minimum_number_of_calls = 100;
    return c;
  }());
  for (auto _ : state) {
    if (cb.TryAcquirePermission()) cb.OnSuccess(250us);
  }
}
BENCHMARK(BM_CircuitBreaker_PermittedCall)->ThreadRange(1, 2);

void BM_CircuitBreaker_PermittedCallTimeWindow(benchmark::State& state) {
  static CircuitBreaker cb("bench-time", [] {
    CircuitBreakerConfig c;
    c.window_type = CircuitBreakerConfig::WindowType::kTimeBased;
    c.sliding_window_size = 10;
    return c;
  }());
  for (auto _ : state) {
    if (cb.TryAcquirePermission()) cb.OnSuccess(250us);
  }
}
BENCHMARK(BM_CircuitBreaker_PermittedCallTimeWindow)->ThreadRange(1, 2);

void BM_CircuitBreaker_RejectedCallWhileOpen(benchmark::State& state) {
  static CircuitBreaker cb("bench-open", CircuitBreakerConfig{});
  if (state.thread_index() == 0) cb.TransitionToForcedOpen();
  for (auto _ : state) benchmark::DoNotOptimize(cb.TryAcquirePermission());
}
BENCHMARK(BM_CircuitBreaker_RejectedCallWhileOpen)->ThreadRange(1, 2);

void BM_Bulkhead_AcquireRelease(benchmark::State& state) {
  static Bulkhead b("bench", {64, 0ms});
  for (auto _ : state) {
    if (b.TryAcquirePermission()) b.OnComplete();
  }
}
BENCHMARK(BM_Bulkhead_AcquireRelease)->ThreadRange(1, 2);

void BM_RateLimiter_PermittedCall(benchmark::State& state) {
  // a limit no benchmark reaches: every call is permitted
  static RateLimiter rl("bench", {1'000'000'000, 1s, 0ms});
  for (auto _ : state) benchmark::DoNotOptimize(rl.TryAcquire().permitted);
}
BENCHMARK(BM_RateLimiter_PermittedCall)->ThreadRange(1, 2);

void BM_RetryBudget_FirstAttempt(benchmark::State& state) {
  static RetryBudget budget(0.1, 10);
  for (auto _ : state) budget.OnFirstAttempt();
}
BENCHMARK(BM_RetryBudget_FirstAttempt)->ThreadRange(1, 2);

}  // namespace
}  // namespace op::resilience

BENCHMARK_MAIN();
