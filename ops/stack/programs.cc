#include "ops/stack/programs.h"

#include <filesystem>
#include <set>
#include <sstream>

#include "testing/fixtures/process.h"

namespace op::stack {

bool ProgramDef::UsesKafka() const {
  return name == "order-service" || name == "payment-service" || name == "inventory-service" ||
         name == "notification-service" || name == "dashboard";
}

std::vector<ProgramDef> Programs(const StackOptions& options) {
  const std::vector<ProgramDef> base = {
      {"service-registry", "registry/service-registry", 8761, "", 1, ""},
      {"inventory-service", "services/inventory/inventory-service", 8084, "inventory_db", 1, ""},
      {"payment-service", "services/payment/payment-service", 8082, "payments_db", 1, ""},
      {"order-service", "services/order/order-service", 8081, "orders_db", 1, ""},
      {"notification-service", "services/notification/notification-service", 8083, "notifications_db", 1, ""},
      {"identity-service", "services/identity/identity-service", 8085, "identity_db", 1, ""},
      {"api-gateway", "gateway/api-gateway", 8080, "", 1, ""},
      {"dashboard", "dashboard/dashboard", 8090, "", 1, ""},
  };
  std::vector<ProgramDef> out;
  std::set<uint16_t> taken;
  for (auto d : base) {
    if (auto it = options.ports.find(d.name); it != options.ports.end()) d.port = it->second;
    d.binary = op::testing::Runfile(d.binary);
    if (!std::filesystem::exists(d.binary)) throw UsageError(d.binary + " is missing: run it with `bazel run //ops:stack`");
    auto n = options.instances.find(d.name);
    for (int k = 1; k <= (n == options.instances.end() ? 1 : n->second); ++k) {
      ProgramDef e = d;
      e.instance = k;
      e.port = uint16_t(d.port + 100 * (k - 1));
      e.label = k == 1 ? d.name : d.name + "-" + std::to_string(k);
      if (!taken.insert(e.port).second) throw UsageError("port " + std::to_string(e.port) + " is given to two programs (" + e.label + ")");
      out.push_back(e);
    }
  }
  return out;
}

uint16_t PortOf(const std::vector<ProgramDef>& programs, const std::string& name) {
  for (const auto& p : programs)
    if (p.name == name) return p.port;
  return 0;
}

namespace {

void RegistryYaml(std::ostream& y, const StackOptions& o) {
  // one machine, few instances: a stopped service should disappear within
  // seconds, so self-preservation is off and leases are short
  y << "registry:\n  eviction-interval: 5s\n  enable-self-preservation: false\n"
    << "  expected-client-renewal-interval: 5s\n"
    << "  security: {username: \"" << o.registry_user << "\", password: \"" << o.registry_password << "\"}\n";
}

void ServiceYaml(std::ostream& y, const ProgramDef& d, const StackOptions& o, const Wiring& w) {
  y << "mysql:\n  host: " << o.mysql_host << "\n  port: " << o.mysql_port << "\n  user: " << o.mysql_user
    << "\n  password: \"" << o.mysql_password << "\"\n  database: " << d.database << "\n  create-database: true\n";
  if (d.name == "identity-service")  // no Kafka; tokens name the gateway, where clients reach it
    y << "identity:\n  issuer: http://127.0.0.1:" << w.gateway_port << "\n  demo-users: true\n"
      << "  clients:\n    - {id: dashboard, secret: " << w.dashboard_secret << ", roles: [service]}\n";
  else
    y << "kafka:\n  bootstrap.servers: \"" << w.kafka_bootstrap << "\"\n";
  if (d.name == "inventory-service") y << "inventory:\n  seed-demo-data: true\n";
  if (d.name == "payment-service") y << "payment:\n  seed-demo-data: true\n";
}

}  // namespace

std::string ConfigYaml(const ProgramDef& d, const StackOptions& o, const Wiring& w) {
  std::ostringstream y;
  y << "# written by ops/stack at every start\nserver:\n  port: " << d.port << "\n";
  if (d.name == "service-registry") {
    RegistryYaml(y, o);
    return y.str();
  }
  y << "eureka:\n  client:\n    service-url: [\"" << w.registry_service_url << "\"]\n    registry-fetch-interval: 2s\n"
    << "  instance:\n    lease-renewal-interval: 5s\n    lease-expiration-duration: 15s\n";
  if (d.name == "dashboard") {
    y << "kafka:\n  bootstrap.servers: \"" << w.kafka_bootstrap << "\"\n"
      << "auth:\n  client-id: dashboard\n  client-secret: " << w.dashboard_secret << "\n";
    y << "dashboard:\n";
    if (!w.broker_admin_url.empty()) y << "  devbroker-url: " << w.broker_admin_url << "\n";
    if (!w.stack_admin_url.empty()) y << "  stack-url: " << w.stack_admin_url << "\n";
  } else if (d.name != "api-gateway") {
    ServiceYaml(y, d, o, w);
  }
  return y.str();
}

}  // namespace op::stack
