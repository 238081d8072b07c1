#pragma once
// Delivers stored notifications: claims due rows with a lease in one short
// transaction (store.h), sends each outside any transaction (SMTP email, SMS
// webhook, or the log) behind a breaker per channel, then marks it sent, or
// failed with its next attempt after a backoff (rules.h). Never gives up.
//
// Threads: one "notify-dispatch" task; Wake() (after an event's notifications
// committed) cuts its idle wait short.
#include <atomic>
#include <memory>

#include "runtime/core/periodic_task.h"
#include "runtime/service/service.h"
#include "services/notification/channels.h"
#include "services/notification/store.h"

namespace op::notification {

struct DispatcherOptions {
  int batch = 20;                                       // rows claimed at once
  std::chrono::milliseconds lease{std::chrono::minutes(5)};  // > batch × the slowest channel's timeout
  std::chrono::milliseconds idle_wait{250};
  std::chrono::milliseconds max_backoff{std::chrono::minutes(5)};
};

class Dispatcher {
 public:
  Dispatcher(Service& svc, DispatcherOptions options);
  void Start() { task_->Start(); }
  void Wake() { task_->Wake(); }
  bool EmailEnabled() const { return email_enabled_; }
  bool SmsEnabled() const { return sms_enabled_; }
  // One round: claim, send, mark. Returns how many were delivered.
  size_t DispatchDue();

 private:
  SendResult Deliver(const Claimed& c);

  Service& svc_;
  const DispatcherOptions options_;
  const bool email_enabled_, sms_enabled_;
  SmtpChannel smtp_;
  SmsWebhookChannel sms_;
  prometheus::Family<prometheus::Counter>* sent_;
  std::atomic<int64_t> pending_{0};
  std::chrono::steady_clock::time_point counted_at_{};  // task thread
  std::unique_ptr<PeriodicTask> task_;  // last: stops first
};

}  // namespace op::notification
