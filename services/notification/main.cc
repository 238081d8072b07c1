// notification-service: tells customers about confirmations, cancellations,
// payments and refunds. Each (event, channel) becomes exactly one stored
// notification, in the same transaction as the event's processed mark
// (event_handlers.h); a dispatcher delivers them (SMTP email, SMS webhook, or
// the log), retrying with backoff behind a breaker per channel until
// delivered (dispatcher.h). None is dropped.
#include "events/topics.h"
#include "runtime/service/service.h"
#include "services/notification/dispatcher.h"
#include "services/notification/event_handlers.h"
#include "services/notification/http_api.h"
#include "services/notification/schema.h"

namespace op::notification {
namespace {

void DeclareConfig(config::Schema& s) {
  using config::Type;
  s.Add("notification.smtp.url", Type::kString, "", "SMTP server, e.g. smtp://127.0.0.1:2525 (empty: no email)");
  s.Add("notification.smtp.from", Type::kString, "orders@orderplatform.local", "sender address");
  s.Add("notification.smtp.timeout", Type::kDuration, "10s", "one SMTP delivery at most");
  s.Add("notification.sms.webhook-url", Type::kString, "", "SMS gateway webhook (empty: no SMS)");
  s.Add("notification.retry.max-backoff", Type::kDuration, "5m", "longest wait between delivery attempts");
  s.Add(config::KeySpec{"notification.dispatch.batch", Type::kInt, "20", "notifications claimed for delivery at once", 1, 500});
  s.Add("notification.dispatch.lease", Type::kDuration, "5m",
        "how long claimed notifications are left to their dispatcher before another takes them");
}

DispatcherOptions DispatcherOptionsOf(const config::Config& c) {
  const auto smtp = c.GetString("notification.smtp.url");
  if (!smtp.empty() && smtp.rfind("smtp://", 0) != 0 && smtp.rfind("smtps://", 0) != 0)
    throw config::ConfigError("key 'notification.smtp.url' must start with smtp:// or smtps://: got '" + smtp + "'");
  const auto sms = c.GetString("notification.sms.webhook-url");
  if (!sms.empty() && sms.rfind("http://", 0) != 0 && sms.rfind("https://", 0) != 0)
    throw config::ConfigError("key 'notification.sms.webhook-url' must be an http(s) URL: got '" + sms + "'");
  DispatcherOptions o;
  o.batch = int(c.GetInt("notification.dispatch.batch"));
  o.lease = c.GetDuration("notification.dispatch.lease");
  o.max_backoff = c.GetDuration("notification.retry.max-backoff");
  // A claim must outlive the sends of its whole batch, or a second
  // dispatcher would send the same messages.
  auto slowest = std::max(c.GetDuration("notification.smtp.timeout"), c.GetDuration("http-client.timeout"));
  if (o.lease <= slowest * o.batch)
    throw config::ConfigError("key 'notification.dispatch.lease' must be longer than notification.dispatch.batch × the "
                              "slowest channel's timeout (" + std::to_string((slowest * o.batch).count()) + " ms)");
  return o;
}

// Owned by the runtime: destroyed after the consumers stopped. The
// dispatcher's thread stops first (members go in reverse).
struct NotificationService : ServiceState {
  std::unique_ptr<ContactCache> contacts;
  std::unique_ptr<Dispatcher> dispatcher;
};

std::unique_ptr<ServiceState> Wire(Service& svc) {
  auto state = std::make_unique<NotificationService>();
  state->dispatcher = std::make_unique<Dispatcher>(svc, DispatcherOptionsOf(svc.config()));
  state->contacts = std::make_unique<ContactCache>(10'000);
  AddRoutes(svc);
  svc.HandleEventBatches({std::string(events::kOrderEvents), std::string(events::kPaymentEvents)},
                         [d = state->dispatcher.get(), c = state->contacts.get()] { return std::make_unique<NotificationBatch>(*d, *c); });
  state->dispatcher->Start();
  return state;
}

}  // namespace
}  // namespace op::notification

int main(int argc, char** argv) {
  op::ServiceSpec spec;
  spec.name = "notification-service";
  spec.default_port = 8083;
  spec.uses_database = true;
  spec.uses_kafka = true;
  spec.migrations = op::notification::Migrations();
  spec.declare_config = op::notification::DeclareConfig;
  return op::Service::Run(spec, argc, argv, op::notification::Wire);
}
