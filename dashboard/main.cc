// The admin dashboard: one page (dashboard/web, compiled in) that polls
// /api/snapshot every second, plus a few actions (order look-up, dev-broker
// faults, dead-letter replay). Registered in the registry as "dashboard".
#include <memory>

#include "dashboard/dashboard.h"
#include "events/topics.h"
#include "runtime/kafka/security.h"

namespace op::dashboard {
namespace {

// The first registry's base URL, its credentials taken out (CollectorOptions).
discovery::CredentialedUrl RegistryBase(const config::Config& c) {
  auto urls = c.GetList("eureka.client.service-url");
  if (urls.empty()) return {};
  auto split = discovery::SplitCredentials(urls.front());
  std::string& u = split.url;
  while (!u.empty() && u.back() == '/') u.pop_back();
  if (u.size() >= 7 && u.compare(u.size() - 7, 7, "/eureka") == 0) u.resize(u.size() - 7);
  return split;
}

CollectorOptions CollectorOptionsOf(const config::Config& c) {
  CollectorOptions o;
  auto registry = RegistryBase(c);
  o.registry_url = registry.url;
  o.registry_authorization = registry.authorization;
  o.devbroker_url = c.GetString("dashboard.devbroker-url");
  while (!o.devbroker_url.empty() && o.devbroker_url.back() == '/') o.devbroker_url.pop_back();
  o.stack_url = c.GetString("dashboard.stack-url");
  while (!o.stack_url.empty() && o.stack_url.back() == '/') o.stack_url.pop_back();
  o.bootstrap_servers = c.GetString("kafka.bootstrap.servers");
  o.consumer_groups = c.GetList("dashboard.consumer-groups");
  o.interval = c.GetDuration("dashboard.refresh-interval");
  o.probe_timeout = c.GetDuration("dashboard.probe-timeout");
  o.forget_after = std::chrono::duration_cast<std::chrono::seconds>(c.GetDuration("dashboard.forget-after"));
  o.recent_orders = int(c.GetInt("dashboard.recent-orders"));
  if (o.interval < std::chrono::milliseconds(100))
    throw config::ConfigError("key 'dashboard.refresh-interval' must be at least 100ms");
  if (o.recent_orders < 1 || o.recent_orders > 100)
    throw config::ConfigError("key 'dashboard.recent-orders' must be in [1, 100]");
  return o;
}

std::unique_ptr<ServiceState> Wire(Service& svc) {
  const auto& c = svc.config();
  auto state = std::make_unique<Dashboard>(svc, Sessions::Limits{
      std::chrono::duration_cast<std::chrono::seconds>(c.GetDuration("dashboard.session.lifetime")),
      std::chrono::duration_cast<std::chrono::seconds>(c.GetDuration("dashboard.session.idle-timeout")), 10000});
  Dashboard* d = state.get();
  CollectorOptions o = CollectorOptionsOf(c);
  d->admin = std::make_unique<kafka::ClusterAdmin>(o.bootstrap_servers, "dashboard-admin",
                                                   kafka::SecurityOptions::FromConfig(c).Properties());
  auto co = kafka::ConsumerOptions::FromConfig(c);
  co.group_id = "dashboard-" + svc.instance_id();  // every instance reads all dead letters
  co.topics = {};
  for (auto t : events::kAllTopics) co.topics.push_back(events::DeadLetterTopic(t));
  co.auto_offset_reset = "earliest";
  d->dead_letters = std::make_unique<DeadLetters>(co, svc.producer());
  d->collector = std::make_unique<Collector>(o, svc.http_client(), svc.services(), d->admin.get(), d->dead_letters.get());
  AddRoutes(svc.router(), d);
  d->dead_letters->Start();
  d->collector->Start();
  return state;
}

}  // namespace
}  // namespace op::dashboard

int main(int argc, char** argv) {
  op::ServiceSpec spec;
  spec.name = "dashboard";
  spec.default_port = 8090;
  spec.uses_kafka = true;
  spec.declare_config = [](op::config::Schema& s) {
    using op::config::Type;
    s.Add("dashboard.session.lifetime", Type::kDuration, "8h", "a sign-in lasts this long at most");
    s.Add("dashboard.session.idle-timeout", Type::kDuration, "30m", "a session without a request ends after this");
    s.Add("dashboard.devbroker-url", Type::kString, "", "admin URL of the dev Kafka broker (faults from the page)");
    s.Add("dashboard.stack-url", Type::kString, "", "admin URL of the local stack (its programs and restart counts)");
    s.Add("dashboard.refresh-interval", Type::kDuration, "1s", "how often the snapshot is rebuilt");
    s.Add("dashboard.probe-timeout", Type::kDuration, "800ms", "timeout of each instance probe");
    s.Add("dashboard.forget-after", Type::kDuration, "5m", "how long an instance gone from the registry stays shown");
    s.Add("dashboard.consumer-groups", Type::kStringList,
          "order-service,payment-service,inventory-service,notification-service", "consumer groups whose lag is shown");
    s.Add("dashboard.recent-orders", Type::kInt, "25", "orders listed on the page");
  };
  return op::Service::Run(spec, argc, argv, op::dashboard::Wire);
}
