#include "services/notification/dispatcher.h"

#include "runtime/core/uuid.h"
#include "runtime/logging/log.h"

namespace op::notification {

Dispatcher::Dispatcher(Service& svc, DispatcherOptions options)
    : svc_(svc),
      options_(options),
      email_enabled_(!svc.config().GetString("notification.smtp.url").empty()),
      sms_enabled_(!svc.config().GetString("notification.sms.webhook-url").empty()),
      claimer_(svc.instance_id() + "#" + NewUuid()),
      smtp_(svc.config().GetString("notification.smtp.url"), svc.config().GetString("notification.smtp.from"),
            svc.config().GetDuration("notification.smtp.timeout")),
      sms_(svc.http_client(), svc.config().GetString("notification.sms.webhook-url")),
      sent_(&prometheus::BuildCounter().Name("notifications_total").Help("Notification delivery attempts by channel and result")
                 .Register(svc.metrics().Registry())) {
  svc.metrics().AddCollector([this](metrics::Families& out) {
    auto f = metrics::Family("notifications_pending", "Notifications not yet delivered", prometheus::MetricType::Gauge);
    metrics::AddSample(f, {}, double(pending_.load()));
    out.push_back(std::move(f));
  });
  task_ = std::make_unique<PeriodicTask>("notify-dispatch", [this] {
    // Progress may mean more is due, and marks what was sent: go again at once.
    return DispatchDue() > 0 ? std::chrono::milliseconds(0) : options_.idle_wait;
  });
}

void Dispatcher::Start() {
  try {
    if (auto n = ReleaseEarlierRunsClaims(svc_.db(), svc_.instance_id(), claimer_))
      log::Info("notifications claimed by an earlier run of this instance are due again", {{"count", n}});
  } catch (const std::exception& e) {
    log::Warn("earlier claims not released; they are taken when their lease ends", {{"error", e.what()}});
  }
  task_->Start();
}

Dispatcher::~Dispatcher() {
  task_->Stop();
  try {
    if (!to_mark_.empty()) MarkSentAndClaimDue(svc_.db(), to_mark_, 0, options_.lease, claimer_);
  } catch (const std::exception& e) {
    log::Warn("sent notifications not marked at shutdown; sent again after their lease", {{"error", e.what()}});
  }
}

size_t Dispatcher::ResolveAwaitingIfDue() {
  const auto now = std::chrono::steady_clock::now();
  if (!awaiting_.exchange(false) && now - resolved_at_ < std::chrono::seconds(5)) return 0;
  resolved_at_ = now;
  size_t n = ResolveAwaiting(svc_.db(), 100, [this](const Contact& c) { return TargetsFor(c, email_enabled_, sms_enabled_); });
  if (n > 0) awaiting_ = true;  // maybe more: look again next round
  return n;
}

SendResult Dispatcher::Deliver(const Claimed& c) {
  Message m{c.id, c.order_id, c.event_type, c.recipient, c.subject, c.body};
  if (c.channel == "log") {
    log::Info("notification", {{"orderId", m.order_id}, {"to", m.recipient}, {"subject", m.subject}, {"body", m.body}});
    return {true, ""};
  }
  auto& breaker = svc_.resilience().GetCircuitBreaker("notification-" + c.channel);
  if (!breaker.TryAcquirePermission()) return {false, "circuit breaker 'notification-" + c.channel + "' is OPEN"};
  auto start = std::chrono::steady_clock::now();
  SendResult r = c.channel == "email" ? smtp_.Send(m) : sms_.Send(m);
  auto took = std::chrono::steady_clock::now() - start;
  if (r.delivered) breaker.OnSuccess(took);
  else breaker.OnError(took);
  return r;
}

size_t Dispatcher::DispatchDue() {
  auto& db = svc_.db();
  const size_t resolved = ResolveAwaitingIfDue();
  auto claimed = MarkSentAndClaimDue(db, to_mark_, options_.batch, options_.lease, claimer_);
  to_mark_.clear();
  std::vector<int64_t>& delivered = to_mark_;
  for (const auto& c : claimed) {
    auto res = Deliver(c);
    sent_->Add({{"channel", c.channel}, {"result", res.delivered ? "delivered" : "failed"}}).Increment();
    if (res.delivered) {
      delivered.push_back(c.id);
      continue;
    }
    MarkFailed(db, c.id, res.error, RetryDelay(c.attempts + 1, options_.max_backoff));
    log::Warn("notification not delivered; will retry",
              {{"notificationId", c.id}, {"channel", c.channel}, {"attempt", c.attempts + 1}, {"error", res.error}});
  }
  // Sent messages are marked with the next round's claim, at once when
  // anything was sent. A crash before that sends them again once their
  // lease is over: at-least-once.
  // The pending gauge, refreshed at most twice a second (not once per round).
  if (auto now = std::chrono::steady_clock::now(); now - counted_at_ >= std::chrono::milliseconds(500)) {
    pending_ = CountPending(db);
    counted_at_ = now;
  }
  return resolved + delivered.size();
}

}  // namespace op::notification
