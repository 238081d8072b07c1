#pragma once
// Semaphore bulkhead (Resilience4j SemaphoreBulkhead): at most
// max_concurrent_calls at once; a caller beyond that waits up to
// max_wait_duration for a slot, then is rejected. Lock-free when a slot is
// free; a mutex and condition variable only for waiters.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>

namespace op::resilience {

struct BulkheadConfig {
  int max_concurrent_calls = 25;
  std::chrono::nanoseconds max_wait_duration{0};
};

class Bulkhead {
 public:
  Bulkhead(std::string name, BulkheadConfig config);

  bool TryAcquirePermission();
  void OnComplete();

  // RAII slot: `if (auto p = bulkhead.Acquire()) { ... }`
  class Permit {
   public:
    Permit() = default;
    explicit Permit(Bulkhead* b) : b_(b) {}
    Permit(Permit&& o) noexcept : b_(o.b_) { o.b_ = nullptr; }
    Permit& operator=(Permit&& o) noexcept { std::swap(b_, o.b_); return *this; }
    ~Permit() { if (b_) b_->OnComplete(); }
    explicit operator bool() const { return b_ != nullptr; }
   private:
    Bulkhead* b_ = nullptr;
  };
  Permit Acquire() { return TryAcquirePermission() ? Permit(this) : Permit(); }

  int AvailableConcurrentCalls() const { return available_.load(std::memory_order_relaxed); }
  int WaitingCalls() const { return waiters_.load(); }
  int MaxAllowedConcurrentCalls() const { return config_.max_concurrent_calls; }
  uint64_t PermittedCalls() const { return permitted_.load(std::memory_order_relaxed); }
  uint64_t RejectedCalls() const { return rejected_.load(std::memory_order_relaxed); }
  const std::string& Name() const { return name_; }
  const BulkheadConfig& Config() const { return config_; }

 private:
  bool TryTake();
  const std::string name_;
  const BulkheadConfig config_;
  std::atomic<int> available_;
  std::atomic<int> waiters_{0};
  std::atomic<uint64_t> permitted_{0}, rejected_{0};
  std::mutex mu_;
  std::condition_variable cv_;
};

class BulkheadFull : public std::runtime_error {
 public:
  explicit BulkheadFull(const std::string& name)
      : std::runtime_error("bulkhead '" + name + "' is full and does not permit further calls") {}
};

}  // namespace op::resilience
