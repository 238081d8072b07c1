#include "ops/stack/stack.h"

#include <curl/curl.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "ops/stack/console.h"
#include "ops/stack/prometheus.h"

namespace op::stack {
namespace fs = std::filesystem;

namespace {

// Whether anything accepts a TCP connection at host:port within `timeout`.
bool TcpReachable(const std::string& host_port, std::chrono::milliseconds timeout) {
  CURL* c = curl_easy_init();
  curl_easy_setopt(c, CURLOPT_URL, ("http://" + host_port + "/").c_str());
  curl_easy_setopt(c, CURLOPT_CONNECT_ONLY, 1L);
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, long(timeout.count()));
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  bool ok = curl_easy_perform(c) == CURLE_OK;
  curl_easy_cleanup(c);
  return ok;
}

// An external dependency that is not there fails the start at once, with one
// line, instead of every service waiting out its start-up timeout.
void RequireReachable(const std::string& what, const std::string& list, const std::string& setting) {
  std::istringstream in(list);
  for (std::string hp; std::getline(in, hp, ',');) {
    while (!hp.empty() && hp.front() == ' ') hp.erase(0, 1);
    auto slash = hp.find("://");
    if (slash != std::string::npos) hp = hp.substr(slash + 3);
    if (!hp.empty() && TcpReachable(hp, std::chrono::milliseconds(3000))) return;
  }
  throw UsageError("no " + what + " accepts connections at " + list + " (" + setting + ")");
}

// `bytes` random bytes as hex, from the kernel.
std::string RandomHex(size_t bytes) {
  std::ifstream in("/dev/urandom", std::ios::binary);
  std::string raw(bytes, '\0');
  if (!in.read(raw.data(), std::streamsize(bytes))) throw std::runtime_error("cannot read /dev/urandom");
  static const char* hex = "0123456789abcdef";
  std::string out;
  for (unsigned char c : raw) out += {hex[c >> 4], hex[c & 15]};
  return out;
}

}  // namespace

Stack::Stack(StackOptions options) : options_(std::move(options)), programs_(Programs(options_)) {
  if (options_.reset) {
    fs::remove_all(options_.data_dir);
    Say("stack", "removed " + options_.data_dir);
  }
  fs::create_directories(options_.data_dir + "/config");
  SetConsole(options_.data_dir + "/logs", options_.verbose);
  CheckPorts();
  const std::string registry = "127.0.0.1:" + std::to_string(PortOf(programs_, "service-registry"));
  wiring_.registry_service_url = "http://" + options_.registry_user + ":" + options_.registry_password + "@" + registry + "/eureka";
  wiring_.dashboard_secret = RandomHex(24);  // identity-service reads its clients from its config; never printed
  wiring_.gateway_port = PortOf(programs_, "api-gateway");
  // External dependencies are checked before anything is started.
  if (options_.kafka == KafkaKind::kExternal)
    RequireReachable("Kafka broker", options_.kafka_bootstrap, "KAFKA_BOOTSTRAP_SERVERS");
  if (options_.external_db)
    RequireReachable("MySQL server", options_.mysql_host + ":" + std::to_string(options_.mysql_port), "MYSQL_HOST, MYSQL_PORT");
  if (!options_.external_db && !fs::exists("/usr/sbin/mariadbd")) throw UsageError("MariaDB is not installed: run `bash ops/setup.sh` first");
}

Stack::~Stack() = default;

void Stack::CheckPorts() const {
  for (const auto& d : programs_)
    if (op::testing::PortOpen(d.port))
      throw UsageError("port " + std::to_string(d.port) + " (" + d.label + ") is already in use: stop whatever listens there or use --port " +
                       d.name + "=PORT");
  if (!options_.external_db && op::testing::PortOpen(options_.mysql_port))
    throw UsageError("port " + std::to_string(options_.mysql_port) + " (MariaDB) is already in use: use --port mariadb=PORT or MYSQL_HOST");
  if (PrometheusInstalled() && op::testing::PortOpen(options_.prometheus_port))
    throw UsageError("port " + std::to_string(options_.prometheus_port) + " (Prometheus) is already in use: use --port prometheus=PORT");
}

void Stack::StartDataLayer() {
  if (!options_.external_db) {
    Say("mariadb", "starting on 127.0.0.1:" + std::to_string(options_.mysql_port) + ", data in " + options_.data_dir + "/mariadb");
    op::testing::MariaDbServer::Options o;
    o.data_dir = options_.data_dir + "/mariadb";
    o.port = options_.mysql_port;
    o.app_user = options_.mysql_user;
    o.app_password = options_.mysql_password;
    auto unit = std::make_unique<MariaDbUnit>(o);
    mariadb_ = unit.get();
    supervisor_.Add(std::move(unit));
    mariadb_->Launch();  // throws: the stack does not start
  } else {
    Say("mariadb", "using external MySQL at " + options_.mysql_host + ":" + std::to_string(options_.mysql_port));
  }
  StartKafka();
}

void Stack::StartKafka() {
  // The stack's admin API: its programs for the dashboard, and for a local
  // Apache Kafka cluster the broker buttons.
  broker_admin_ = std::make_unique<BrokerAdmin>(
      supervisor_, options_.kafka == KafkaKind::kApache ? op::testing::KafkaCluster::Options{}.nodes : 0);
  broker_admin_->Start();
  wiring_.stack_admin_url = broker_admin_->Url();
  switch (options_.kafka) {
    case KafkaKind::kExternal:
      wiring_.kafka_bootstrap = options_.kafka_bootstrap;
      Say("kafka", "using external Kafka at " + wiring_.kafka_bootstrap);
      return;
    case KafkaKind::kDev: {
      auto unit = std::make_unique<DevBrokerUnit>();
      devbroker_ = unit.get();
      supervisor_.Add(std::move(unit), [this] { OnDevBrokerRestarted(); });
      devbroker_->Launch();
      wiring_.kafka_bootstrap = devbroker_->broker().Bootstrap();
      wiring_.broker_admin_url = devbroker_->broker().AdminUrl();
      Say("kafka", "dev broker (3 mock brokers, in memory) at " + wiring_.kafka_bootstrap);
      return;
    }
    case KafkaKind::kApache: {
      op::testing::KafkaCluster::Options o;
      o.data_dir = options_.data_dir + "/kafka";
      cluster_ = std::make_unique<op::testing::KafkaCluster>(o);
      Say("kafka", "starting a 3-node Apache Kafka cluster, data and logs in " + o.data_dir);
      cluster_->Start();
      for (int i = 0; i < cluster_->NodeCount(); ++i) supervisor_.Add(std::make_unique<KafkaNodeUnit>(*cluster_, i));
      wiring_.kafka_bootstrap = cluster_->Bootstrap();
      wiring_.broker_admin_url = broker_admin_->Url();
      Say("kafka", "Apache Kafka at " + wiring_.kafka_bootstrap);
      return;
    }
  }
}

// The new broker is empty and elsewhere: every Kafka client gets the new
// bootstrap and starts again; the saga timeout settles what was in flight.
void Stack::OnDevBrokerRestarted() {
  wiring_.kafka_bootstrap = devbroker_->broker().Bootstrap();
  wiring_.broker_admin_url = devbroker_->broker().AdminUrl();
  Say("kafka", "dev broker restarted at " + wiring_.kafka_bootstrap + " (empty: records in flight are gone); restarting its clients");
  WriteConfigs();
  supervisor_.Restart([this](const Unit& u) {
    return std::any_of(programs_.begin(), programs_.end(), [&](const ProgramDef& d) { return d.label == u.name() && d.UsesKafka(); });
  });
}

void Stack::WriteConfigs() {
  for (const auto& d : programs_) {
    const std::string path = options_.data_dir + "/config/" + d.label + ".yaml";
    std::ofstream(path) << ConfigYaml(d, options_, wiring_);
  }
}

// The registry first; then the services, which need only the database and
// Kafka, together; then the gateway and the dashboard in front of them.
bool Stack::StartPrograms(const std::atomic<bool>& stop) {
  WriteConfigs();
  for (const auto& d : programs_) {
    auto unit = std::make_unique<ProcessUnit>(
        d.label, std::vector<std::string>{d.binary, "--config", options_.data_dir + "/config/" + d.label + ".yaml"},
        "http://127.0.0.1:" + std::to_string(d.port) + "/actuator/health/readiness");
    units_[d.label] = unit.get();
    supervisor_.Add(std::move(unit));  // supervised from the first Tick, after the start
  }
  auto group = [&](auto&& pick) {
    std::vector<const ProgramDef*> picked;
    for (const auto& d : programs_)
      if (pick(d)) picked.push_back(&d);
    for (auto* d : picked) units_[d->label]->Launch();
    for (auto* d : picked) {
      auto& u = *units_[d->label];
      if (stop) return false;
      if (!u.WaitReady(std::chrono::seconds(120))) {
        std::string last = u.LastWords();  // the service's own last words, e.g. "cannot reach the database"
        Say("stack", d->label + " did not become ready" + (u.Running() ? " within 120 s" : " (it exited)") +
                         (last.empty() ? "" : ": " + last));
        return false;
      }
    }
    return true;
  };
  bool ok = group([](const ProgramDef& d) { return d.name == "service-registry"; }) &&
            group([](const ProgramDef& d) { return !d.Front(); }) &&
            group([](const ProgramDef& d) { return d.name == "api-gateway" || d.name == "dashboard"; });
  return ok;
}

void Stack::StartPrometheus() {
  if (!PrometheusInstalled()) return;
  auto argv = PrometheusCommand(options_, "127.0.0.1:" + std::to_string(PortOf(programs_, "service-registry")));
  auto unit = std::make_unique<ProcessUnit>("prometheus", argv,
                                            "http://127.0.0.1:" + std::to_string(options_.prometheus_port) + "/-/ready");
  auto* p = unit.get();
  supervisor_.Add(std::move(unit));
  p->Launch();
  prometheus_ready_ = p->WaitReady(std::chrono::seconds(60));
  if (!prometheus_ready_) Say("stack", "Prometheus did not become ready; the platform runs without it");
}

void Stack::PrintBanner() const {
  auto url = [&](const std::string& name, const std::string& path) {
    std::string out;
    for (const auto& d : programs_)
      if (d.name == name) out += (out.empty() ? "" : "  ") + ("http://127.0.0.1:" + std::to_string(d.port) + path);
    return out;
  };
  const std::string gateway = std::to_string(wiring_.gateway_port);
  const char* kafka_kind = options_.kafka == KafkaKind::kDev
                               ? "the dev broker: in memory, its records are lost when it restarts"
                           : options_.kafka == KafkaKind::kApache ? "Apache Kafka, 3 nodes, data in the data directory"
                                                                  : "external";
  std::ostringstream b;
  b << "\n  Order platform is up.\n\n"
    << "  dashboard              " << url("dashboard", "/") << "\n"
    << "  API gateway (REST API) " << url("api-gateway", "/api/orders") << "\n"
    << "  service registry       " << url("service-registry", "/eureka/apps") << "  (view: /registry/view; HTTP Basic "
    << options_.registry_user << " / " << (options_.registry_password == "eureka-secret" ? options_.registry_password : "<STACK_REGISTRY_PASSWORD>")
    << ")\n"
    << "  order-service          " << url("order-service", "/api/orders") << "\n"
    << "  payment-service        " << url("payment-service", "/api/accounts/alice") << "\n"
    << "  notification-service   " << url("notification-service", "/api/notifications") << "\n"
    << "  inventory-service      " << url("inventory-service", "/api/products") << "\n"
    << "  identity-service       " << url("identity-service", "/.well-known/openid-configuration") << "\n"
    << "  metrics (each service) " << url("order-service", "/actuator/prometheus") << "\n"
    << "  Kafka bootstrap        " << wiring_.kafka_bootstrap << " (" << kafka_kind << ")\n"
    << "  Prometheus             "
    << (prometheus_ready_ ? "http://127.0.0.1:" + std::to_string(options_.prometheus_port) + "/targets" : std::string("(not running)"))
    << "\n"
    << "  MySQL                  " << options_.mysql_host << ":" << options_.mysql_port << " (user " << options_.mysql_user << ")\n"
    << "  data                   " << options_.data_dir << "\n"
    << "  logs                   " << LogDir() << "/<program>.log"
    << (options_.verbose ? " (and here: --verbose)" : " (here: lifecycle, warnings, errors; --verbose for every line)")
    << "\n\n"
    << "  Demo identities (user / password): alice, bob, carol, dave / <name>-secret (customers),\n"
    << "    admin / admin-secret, viewer / viewer-secret. A token:\n"
    << "    TOKEN=$(curl -s http://127.0.0.1:" << gateway
    << "/oauth2/token -d grant_type=password -d username=alice -d password=alice-secret \\\n"
    << "      | sed 's/.*\"access_token\":\"\\([^\"]*\\)\".*/\\1/')\n\n"
    << "  Place an order with it:\n"
    << "    curl -s -XPOST http://127.0.0.1:" << gateway
    << "/api/orders -H \"Authorization: Bearer $TOKEN\" -H 'Content-Type: application/json' \\\n"
    << "      -d '{\"customerId\":\"alice\",\"items\":[{\"sku\":\"SKU-BOOK\",\"quantity\":1}]}'\n\n"
    << "  Every program, MariaDB and Kafka included, is restarted when it exits. Ctrl-C stops everything.\n\n";
  Print(b.str());
}

int Stack::Run(const std::atomic<bool>& stop) {
  bool started = false;
  try {
    StartDataLayer();
    started = StartPrograms(stop);
  } catch (const std::exception& e) {
    Say("stack", std::string("the stack did not start: ") + e.what());
  }
  if (started && !stop) {
    StartPrometheus();
    PrintBanner();
    while (!stop) {
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
      supervisor_.Tick();
    }
  }
  Say("stack", "stopping");
  broker_admin_.reset();
  supervisor_.StopAll();
  Say("stack", "stopped");
  return started ? 0 : 1;
}

}  // namespace op::stack
