#include "runtime/core/periodic_task.h"

#include <pthread.h>

#include "runtime/logging/log.h"

namespace op {

PeriodicTask::PeriodicTask(std::string name, Step step, std::chrono::milliseconds error_wait)
    : name_(std::move(name)), step_(std::move(step)), error_wait_(error_wait) {}

PeriodicTask::~PeriodicTask() { Stop(); }

void PeriodicTask::Start() {
  std::lock_guard lock(mu_);
  if (thread_.joinable() || stop_) return;
  thread_ = std::thread([this] { Loop(); });
}

void PeriodicTask::Wake() {
  {
    std::lock_guard lock(mu_);
    woken_ = true;
  }
  cv_.notify_all();
}

void PeriodicTask::Stop() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable() && thread_.get_id() != std::this_thread::get_id()) thread_.join();
}

bool PeriodicTask::stopping() const {
  std::lock_guard lock(mu_);
  return stop_;
}

bool PeriodicTask::SleepFor(std::chrono::milliseconds d) {
  std::unique_lock lock(mu_);
  cv_.wait_for(lock, d, [this] { return stop_; });
  return !stop_;
}

void PeriodicTask::Loop() {
  // Linux thread names are at most 15 characters.
  pthread_setname_np(pthread_self(), name_.substr(0, 15).c_str());
  while (true) {
    std::chrono::milliseconds wait;
    try {
      wait = step_();
    } catch (const std::exception& e) {
      log::Error("periodic task failed; runs again", {{"task", name_}, {"error", e.what()}, {"waitMs", error_wait_.count()}});
      wait = error_wait_;
    }
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, wait, [this] { return stop_ || woken_; });
    if (stop_) return;
    woken_ = false;
  }
}

}  // namespace op
