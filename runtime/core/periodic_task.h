#pragma once
// A named thread that runs one step again and again until stopped: the shape
// of every background loop in the platform (lease renewal, eviction, peer
// replication, the saga timeout sweep, notification delivery, the outbox
// relay's idle poll). The step returns how long to wait before it runs again
// (its interval, or a backoff after a failure); Wake() cuts a wait short.
//
// Threads: Start() starts the thread, Stop() (or the destructor) lets the
// running step finish, then joins. The step runs on that thread only, never
// twice at once. An exception from the step is logged with the task's name
// and the step runs again after `error_wait`: no loop dies silently.
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

namespace op {

class PeriodicTask {
 public:
  using Step = std::function<std::chrono::milliseconds()>;

  PeriodicTask(std::string name, Step step, std::chrono::milliseconds error_wait = std::chrono::seconds(1));
  ~PeriodicTask();
  PeriodicTask(const PeriodicTask&) = delete;
  PeriodicTask& operator=(const PeriodicTask&) = delete;

  void Start();
  // Runs the step again now (or as soon as the running one ends).
  void Wake();
  // Idempotent; returns once the thread has ended.
  void Stop();
  // Waits up to `d` unless Stop() comes first; for steps with waits of their
  // own (a backoff between retries). Returns false once stopping.
  bool SleepFor(std::chrono::milliseconds d);
  bool stopping() const;
  const std::string& name() const { return name_; }

 private:
  void Loop();

  const std::string name_;
  Step step_;
  const std::chrono::milliseconds error_wait_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  bool woken_ = false;
  std::thread thread_;
};

}  // namespace op
