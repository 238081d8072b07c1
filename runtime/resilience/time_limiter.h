#pragma once
// TimeLimiter: bounds how long a caller waits for a result. The work runs on
// its own thread; on timeout the caller gets TimeoutError at once and, with
// cancel_running_future, the work's std::stop_token is signalled so
// cooperative work can stop early. Work that cannot be interrupted (a blocking
// syscall) should instead take Timeout() as its own I/O deadline.
#include <atomic>
#include <chrono>
#include <future>
#include <stdexcept>
#include <stop_token>
#include <string>
#include <thread>
#include <type_traits>

namespace op::resilience {

struct TimeLimiterConfig {
  std::chrono::nanoseconds timeout_duration = std::chrono::seconds(1);
  bool cancel_running_future = true;
};

class TimeoutError : public std::runtime_error {
 public:
  explicit TimeoutError(const std::string& name, std::chrono::nanoseconds t)
      : std::runtime_error("time limiter '" + name + "': no result within " +
                           std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(t).count()) +
                           " ms") {}
};

class TimeLimiter {
 public:
  TimeLimiter(std::string name, TimeLimiterConfig config) : name_(std::move(name)), config_(config) {}

  // f() or f(std::stop_token). Throws TimeoutError, or what f threw.
  template <class F>
  auto Execute(F f) {
    constexpr bool takes_token = std::is_invocable_v<F, std::stop_token>;
    using R = decltype([&] {
      if constexpr (takes_token) return f(std::stop_token{});
      else return f();
    }());
    auto promise = std::make_shared<std::promise<R>>();
    auto future = promise->get_future();
    std::stop_source stop;
    std::thread([promise, f = std::move(f), token = stop.get_token()]() mutable {
      try {
        if constexpr (std::is_void_v<R>) {
          if constexpr (takes_token) f(token); else f();
          promise->set_value();
        } else {
          if constexpr (takes_token) promise->set_value(f(token));
          else promise->set_value(f());
        }
      } catch (...) {
        promise->set_exception(std::current_exception());
      }
    }).detach();
    if (future.wait_for(config_.timeout_duration) != std::future_status::ready) {
      timeouts_.fetch_add(1, std::memory_order_relaxed);
      if (config_.cancel_running_future) stop.request_stop();
      throw TimeoutError(name_, config_.timeout_duration);
    }
    try {
      if constexpr (std::is_void_v<R>) {
        future.get();
        successes_.fetch_add(1, std::memory_order_relaxed);
      } else {
        R r = future.get();
        successes_.fetch_add(1, std::memory_order_relaxed);
        return r;
      }
    } catch (...) {
      failures_.fetch_add(1, std::memory_order_relaxed);
      throw;
    }
  }

  std::chrono::nanoseconds Timeout() const { return config_.timeout_duration; }
  uint64_t Successes() const { return successes_; }
  uint64_t Failures() const { return failures_; }
  uint64_t Timeouts() const { return timeouts_; }
  const std::string& Name() const { return name_; }

 private:
  const std::string name_;
  const TimeLimiterConfig config_;
  std::atomic<uint64_t> successes_{0}, failures_{0}, timeouts_{0};
};

}  // namespace op::resilience
