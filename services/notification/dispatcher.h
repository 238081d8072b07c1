#pragma once
// Delivers stored notifications: claims due rows with a lease in one short
// transaction (store.h), sends each outside any transaction (SMTP email, SMS
// webhook, or the log) behind a breaker per channel, then marks it sent (with
// the next round's claim), or failed with its next attempt after a backoff
// (rules.h). Never gives up. It also turns events that waited for their
// order's contact into notifications once the contact is stored.
//
// Threads: one "notify-dispatch" task; Wake() (after an event's notifications
// committed) and ContactAwaited() cut its idle wait short.
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
  ~Dispatcher();  // marks what the last round sent
  // Takes back the claims an earlier, killed run of this instance left, then
  // starts the task.
  void Start();
  void Wake() { task_->Wake(); }
  void ContactAwaited() {
    awaiting_ = true;
    task_->Wake();
  }
  bool EmailEnabled() const { return email_enabled_; }
  bool SmsEnabled() const { return sms_enabled_; }
  // One round: resolve what awaited a contact (when told, and every few
  // seconds), mark what the round before sent, claim, send. Returns how many
  // were resolved or delivered.
  size_t DispatchDue();

 private:
  SendResult Deliver(const Claimed& c);
  size_t ResolveAwaitingIfDue();

  Service& svc_;
  const DispatcherOptions options_;
  const bool email_enabled_, sms_enabled_;
  const std::string claimer_;  // "instance#run"
  SmtpChannel smtp_;
  SmsWebhookChannel sms_;
  prometheus::Family<prometheus::Counter>* sent_;
  std::atomic<int64_t> pending_{0};
  std::atomic<bool> awaiting_{true};  // events may await a contact: look (at start: from before a restart)
  // The task thread's own:
  std::chrono::steady_clock::time_point counted_at_{}, resolved_at_{};
  std::vector<int64_t> to_mark_;  // delivered, marked sent with the next claim
  std::unique_ptr<PeriodicTask> task_;  // last: stops first
};

}  // namespace op::notification
