#include "ops/stack/options.h"

#include <charconv>
#include <cstdlib>
#include <functional>
#include <set>

namespace op::stack {
namespace {

std::string Env(const char* k, const std::string& dflt = "") {
  const char* v = std::getenv(k);
  return v && *v ? v : dflt;
}

uint16_t ParsePort(const std::string& what, const std::string& v) {
  int n = 0;
  auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
  if (v.empty() || ec != std::errc() || end != v.data() + v.size() || n < 1 || n > 65535)
    throw UsageError(what + " must be a port number in [1, 65535], got '" + v + "'");
  return uint16_t(n);
}

std::pair<std::string, std::string> SplitAssign(const std::string& flag, const std::string& v) {
  auto eq = v.find('=');
  if (eq == std::string::npos || eq == 0) throw UsageError(flag + " takes NAME=VALUE, got '" + v + "'");
  return {v.substr(0, eq), v.substr(eq + 1)};
}

const std::set<std::string> kScalable = {"order-service", "payment-service", "notification-service", "inventory-service",
                                         "api-gateway"};
const std::set<std::string> kPrograms = {"service-registry", "api-gateway", "dashboard", "order-service",
                                         "payment-service", "notification-service", "inventory-service",
                                         "identity-service", "prometheus", "mariadb"};

void ParseFlag(StackOptions& o, const std::string& a, const std::function<std::string()>& value) {
  if (a == "--reset") {
    o.reset = true;
  } else if (a == "--verbose" || a == "-v") {
    o.verbose = true;
  } else if (a == "--help" || a == "-h") {
    o.help = true;
  } else if (a == "--instances") {
    auto [name, n] = SplitAssign(a, value());
    if (!kScalable.count(name))
      throw UsageError("--instances: '" + name + "' cannot be scaled (one of: order-service, payment-service, "
                       "notification-service, inventory-service, api-gateway)");
    if (n.size() != 1 || n[0] < '1' || n[0] > '5') throw UsageError("--instances " + name + "=N: N must be 1..5, got '" + n + "'");
    o.instances[name] = n[0] - '0';
  } else if (a == "--port") {
    auto [name, v] = SplitAssign(a, value());
    if (!kPrograms.count(name)) throw UsageError("--port: no program named '" + name + "' (try --help)");
    o.ports[name] = ParsePort("--port " + name, v);
  } else if (a == "--kafka" || a.rfind("--kafka=", 0) == 0) {
    std::string v = a == "--kafka" ? value() : a.substr(8);
    if (v == "dev") o.kafka = KafkaKind::kDev;
    else if (v == "apache") o.kafka = KafkaKind::kApache;
    else throw UsageError("--kafka takes dev or apache, got '" + v + "' (KAFKA_BOOTSTRAP_SERVERS for your own)");
  } else {
    throw UsageError("unknown argument '" + a + "' (try --help)");
  }
}

}  // namespace

StackOptions ParseOptions(int argc, char** argv) {
  StackOptions o;
  bool kafka_flag = false;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    kafka_flag |= a.rfind("--kafka", 0) == 0;
    ParseFlag(o, a, [&]() -> std::string {
      if (i + 1 >= argc) throw UsageError("missing value for " + a);
      return argv[++i];
    });
  }
  o.data_dir = Env("STACK_DATA_DIR", Env("HOME", "/root") + "/.local/share/orderplatform");
  o.kafka_bootstrap = Env("KAFKA_BOOTSTRAP_SERVERS");
  if (!o.kafka_bootstrap.empty()) {
    if (kafka_flag) throw UsageError("--kafka and KAFKA_BOOTSTRAP_SERVERS together: choose one");
    o.kafka = KafkaKind::kExternal;
  }
  o.external_db = !Env("MYSQL_HOST").empty();
  o.mysql_host = Env("MYSQL_HOST", "127.0.0.1");
  o.mysql_user = Env("MYSQL_USER", "app");
  o.mysql_password = Env("MYSQL_PASSWORD", "app-secret");
  if (o.external_db) o.mysql_port = ParsePort("MYSQL_PORT", Env("MYSQL_PORT", "3306"));
  else o.mysql_port = o.ports.count("mariadb") ? o.ports["mariadb"] : ParsePort("STACK_MYSQL_PORT", Env("STACK_MYSQL_PORT", "3307"));
  o.prometheus_port = o.ports.count("prometheus") ? o.ports["prometheus"]
                                                  : ParsePort("STACK_PROMETHEUS_PORT", Env("STACK_PROMETHEUS_PORT", "9090"));
  o.registry_user = Env("STACK_REGISTRY_USER", "eureka");
  o.registry_password = Env("STACK_REGISTRY_PASSWORD", "eureka-secret");
  return o;
}

const char* HelpText() {
  return "usage: bazel run //ops:stack [-- OPTIONS]\n\n"
         "  --reset                 delete the stack's data (databases, Kafka logs) before starting\n"
         "  --verbose               every program's every log line on the terminal (by default they go to\n"
         "                          DATA_DIR/logs/<program>.log; the terminal shows lifecycle lines, warnings, errors)\n"
         "  --kafka dev|apache      the embedded dev broker (default; in memory: lost when it restarts)\n"
         "                          or a local 3-node Apache Kafka cluster (data kept in the data directory)\n"
         "  --instances NAME=N      run N instances of a service (1..5), e.g. payment-service=2;\n"
         "                          instance k listens on the service's port + 100*(k-1)\n"
         "  --port NAME=PORT        move one program: service-registry, api-gateway, dashboard,\n"
         "                          order-service, payment-service, notification-service,\n"
         "                          inventory-service, identity-service, prometheus, mariadb\n\n"
         "environment:\n"
         "  STACK_DATA_DIR            data directory (default ~/.local/share/orderplatform)\n"
         "  STACK_MYSQL_PORT          port of the embedded MariaDB (default 3307)\n"
         "  STACK_PROMETHEUS_PORT     port of Prometheus (default 9090)\n"
         "  STACK_REGISTRY_USER, STACK_REGISTRY_PASSWORD   the registry's credential (default eureka / eureka-secret)\n"
         "  KAFKA_BOOTSTRAP_SERVERS   use this Kafka instead of an embedded one\n"
         "  MYSQL_HOST, MYSQL_PORT, MYSQL_USER, MYSQL_PASSWORD   use this MySQL instead of the embedded MariaDB\n";
}

}  // namespace op::stack
