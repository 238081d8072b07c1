// `bazel run //ops:stack`: the whole platform on one machine.
//
// With no settings it starts, in dependency order: a MariaDB server on a data
// directory that survives restarts (STACK_DATA_DIR, default
// ~/.local/share/orderplatform), the dev Kafka broker, then the services; it
// waits for each to be ready, prints the URLs, streams every process's log
// with a prefix, restarts a crashed service with backoff, and on Ctrl-C stops
// everything in reverse order. KAFKA_BOOTSTRAP_SERVERS / MYSQL_HOST (+
// MYSQL_PORT, MYSQL_USER, MYSQL_PASSWORD) use external ones instead.
//
// Threads: main supervises (polls children, restarts, waits for signals);
// one thread per child copies its output to the terminal.
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include <cstdlib>
#include <iomanip>
#include <sstream>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <mutex>
#include <thread>

#include "testing/fixtures/devbroker.h"
#include "testing/fixtures/mariadb.h"
#include "testing/fixtures/process.h"

namespace fs = std::filesystem;
using op::testing::Process;

namespace {

std::mutex g_out;
volatile sig_atomic_t g_stop = 0;
void OnSignal(int) { g_stop = 1; }

const char* Color(const std::string& name) {
  static const std::map<std::string, const char*> c = {
      {"order-service", "\033[36m"}, {"payment-service", "\033[33m"}, {"inventory-service", "\033[32m"},
      {"notification-service", "\033[35m"}, {"api-gateway", "\033[31m"}, {"dashboard", "\033[36m"}, {"service-registry", "\033[37m"},
      {"prometheus", "\033[33m"}, {"mariadb", "\033[34m"}, {"kafka", "\033[34m"}};
  auto it = c.find(name);
  return isatty(1) ? (it == c.end() ? "\033[37m" : it->second) : "";
}

void Say(const std::string& who, const std::string& line) {
  std::lock_guard lock(g_out);
  const char* reset = isatty(1) ? "\033[0m" : "";
  std::cout << Color(who) << std::left << std::setw(21) << who << reset << "| " << line << "\n" << std::flush;
}

// One JSON log line → "12:00:01.234 INFO  started port=8081 ..."; anything else as is.
std::string Pretty(const std::string& line) {
  auto j = nlohmann::json::parse(line, nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains("msg")) return line;
  std::string ts = j.value("ts", "");
  std::string out = (ts.size() >= 23 ? ts.substr(11, 12) : ts) + " ";
  std::string level = j.value("level", "info");
  for (auto& c : level) c = char(::toupper(c));
  out += level + std::string(6 - std::min<size_t>(5, level.size()), ' ') + j.value("msg", "");
  for (auto& [k, v] : j.items()) {
    if (k == "ts" || k == "level" || k == "msg" || k == "service" || k == "instance" || k == "thread") continue;
    out += " " + k + "=" + (v.is_string() ? v.get<std::string>() : v.dump());
  }
  return out;
}

struct ServiceDef {
  std::string name;
  std::string binary;  // runfiles path
  uint16_t port;
  std::string database;
};

struct Child {
  ServiceDef def;
  std::string config;
  std::unique_ptr<Process> process;
  std::thread reader;
  int restarts = 0;
  std::chrono::steady_clock::time_point restart_at{};
};

void StartReader(Child& c) {
  int fd = c.process->OutputFd();
  std::string name = c.def.name;
  c.reader = std::thread([fd, name] {
    std::string buf;
    char chunk[4096];
    ssize_t n;
    while ((n = ::read(fd, chunk, sizeof chunk)) > 0) {
      buf.append(chunk, size_t(n));
      size_t nl;
      while ((nl = buf.find('\n')) != std::string::npos) {
        Say(name, Pretty(buf.substr(0, nl)));
        buf.erase(0, nl + 1);
      }
    }
    if (!buf.empty()) Say(name, Pretty(buf));
    ::close(fd);
  });
}

void Launch(Child& c) {
  if (c.reader.joinable()) c.reader.join();
  Process::Options o;
  o.argv = {c.def.binary, "--config", c.config};
  o.pipe_output = true;
  c.process = std::make_unique<Process>(o);
  c.process->Start();
  StartReader(c);
}

std::string Env(const char* k, const std::string& dflt = "") {
  const char* v = std::getenv(k);
  return v && *v ? v : dflt;
}

[[noreturn]] void Die(const std::string& why) {
  std::cerr << "stack: " << why << std::endl;
  std::exit(1);
}

}  // namespace

int main(int argc, char** argv) {
  bool reset = false;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--reset") reset = true;
    else if (a == "--help" || a == "-h") {
      std::cout << "usage: bazel run //ops:stack [-- --reset]\n\n"
                   "  --reset   delete the stack's data (databases) before starting\n\n"
                   "environment:\n"
                   "  STACK_DATA_DIR            data directory (default ~/.local/share/orderplatform)\n"
                   "  STACK_MYSQL_PORT          port of the embedded MariaDB (default 3307)\n"
                   "  KAFKA_BOOTSTRAP_SERVERS   use this Kafka instead of the dev broker\n"
                   "  MYSQL_HOST, MYSQL_PORT, MYSQL_USER, MYSQL_PASSWORD   use this MySQL instead of the embedded MariaDB\n";
      return 0;
    } else {
      Die("unknown argument '" + a + "' (try --help)");
    }
  }

  std::string home = Env("HOME", "/root");
  std::string data = Env("STACK_DATA_DIR", home + "/.local/share/orderplatform");
  if (reset) {
    fs::remove_all(data);
    std::cout << "stack: removed " << data << "\n";
  }
  fs::create_directories(data + "/config");

  std::vector<ServiceDef> defs = {
      {"service-registry", "registry/service-registry", 8761, ""},
      {"inventory-service", "services/inventory/inventory-service", 8084, "inventory_db"},
      {"payment-service", "services/payment/payment-service", 8082, "payments_db"},
      {"order-service", "services/order/order-service", 8081, "orders_db"},
      {"notification-service", "services/notification/notification-service", 8083, "notifications_db"},
      {"api-gateway", "gateway/api-gateway", 8080, ""},
      {"dashboard", "dashboard/dashboard", 8090, ""},
  };
  for (auto& d : defs) {
    d.binary = op::testing::Runfile(d.binary);
    if (!fs::exists(d.binary)) Die(d.binary + " is missing: run it with `bazel run //ops:stack`");
  }
  // Ports: a clear one-line answer instead of a half-started stack.
  bool embedded_db = Env("MYSQL_HOST").empty(), embedded_kafka = Env("KAFKA_BOOTSTRAP_SERVERS").empty();
  uint16_t mysql_port = uint16_t(std::stoi(Env("STACK_MYSQL_PORT", "3307")));
  for (auto& d : defs)
    if (op::testing::PortOpen(d.port))
      Die("port " + std::to_string(d.port) + " (" + d.name + ") is already in use: stop whatever listens there");
  if (embedded_db && op::testing::PortOpen(mysql_port))
    Die("port " + std::to_string(mysql_port) + " (MariaDB) is already in use: set STACK_MYSQL_PORT or MYSQL_HOST");
  if (embedded_db && !fs::exists("/usr/sbin/mariadbd")) Die("MariaDB is not installed: run `bash ops/setup.sh` first");
  const bool with_prometheus = fs::exists("/usr/bin/prometheus");
  const uint16_t prometheus_port = uint16_t(std::stoi(Env("STACK_PROMETHEUS_PORT", "9090")));
  if (with_prometheus && op::testing::PortOpen(prometheus_port))
    Die("port " + std::to_string(prometheus_port) + " (Prometheus) is already in use: set STACK_PROMETHEUS_PORT");

  struct sigaction sa {};
  sa.sa_handler = OnSignal;
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  signal(SIGPIPE, SIG_IGN);

  std::unique_ptr<op::testing::MariaDbServer> mariadb;
  std::string mysql_host = Env("MYSQL_HOST", "127.0.0.1"), mysql_user = Env("MYSQL_USER", "app"),
              mysql_password = Env("MYSQL_PASSWORD", "app-secret");
  if (embedded_db) {
    Say("mariadb", "starting on 127.0.0.1:" + std::to_string(mysql_port) + ", data in " + data + "/mariadb");
    op::testing::MariaDbServer::Options o;
    o.data_dir = data + "/mariadb";
    o.port = mysql_port;
    o.app_user = mysql_user;
    o.app_password = mysql_password;
    mariadb = std::make_unique<op::testing::MariaDbServer>(o);
    try {
      mariadb->Start();
    } catch (const std::exception& e) {
      Die(std::string("MariaDB did not start: ") + e.what());
    }
  } else {
    mysql_port = uint16_t(std::stoi(Env("MYSQL_PORT", "3306")));
    Say("mariadb", "using external MySQL at " + mysql_host + ":" + std::to_string(mysql_port));
  }
  std::unique_ptr<op::testing::DevBroker> broker;
  std::string bootstrap = Env("KAFKA_BOOTSTRAP_SERVERS");
  if (embedded_kafka) {
    broker = std::make_unique<op::testing::DevBroker>();
    try {
      broker->Start();
    } catch (const std::exception& e) {
      Die(std::string("the dev Kafka broker did not start: ") + e.what());
    }
    bootstrap = broker->Bootstrap();
    Say("kafka", "dev broker (3 mock brokers) at " + bootstrap + ", admin " + broker->AdminUrl());
  } else {
    Say("kafka", "using external Kafka at " + bootstrap);
  }

  std::map<std::string, std::unique_ptr<Child>> children;
  for (auto& d : defs) {
    auto c = std::make_unique<Child>();
    c->def = d;
    c->config = data + "/config/" + d.name + ".yaml";
    std::ofstream y(c->config);
    y << "# written by ops/stack at every start\n"
      << "server:\n  port: " << d.port << "\n";
    if (d.name == "service-registry") {
      // one machine, few instances: a stopped service should disappear within
      // seconds, so self-preservation is off and leases are short
      y << "registry:\n  eviction-interval: 5s\n  enable-self-preservation: false\n"
        << "  expected-client-renewal-interval: 5s\n";
      y.close();
      children[d.name] = std::move(c);
      continue;
    }
    y << "eureka:\n  client:\n    service-url: [http://127.0.0.1:8761/eureka]\n    registry-fetch-interval: 2s\n"
      << "  instance:\n    lease-renewal-interval: 5s\n    lease-expiration-duration: 15s\n";
    if (d.name == "dashboard") {
      y << "kafka:\n  bootstrap.servers: \"" << bootstrap << "\"\n";
      if (broker) y << "dashboard:\n  devbroker-url: " << broker->AdminUrl() << "\n";
      y.close();
      children[d.name] = std::move(c);
      continue;
    }
    if (d.name == "api-gateway") {
      y.close();
      children[d.name] = std::move(c);
      continue;
    }
    y << "mysql:\n  host: " << mysql_host << "\n  port: " << mysql_port << "\n  user: " << mysql_user
      << "\n  password: \"" << mysql_password << "\"\n  database: " << d.database << "\n  create-database: true\n"
      << "kafka:\n  bootstrap.servers: \"" << bootstrap << "\"\n";
    if (d.name == "inventory-service") y << "inventory:\n  seed-demo-data: true\n";
    if (d.name == "payment-service") y << "payment:\n  seed-demo-data: true\n";
    y.close();
    children[d.name] = std::move(c);
  }
  // The services need only the database and Kafka: start them together, then
  // the gateway in front of them once they are ready.
  auto ready = [&](const ServiceDef& d) {
    auto& c = *children[d.name];
    std::string url = "http://127.0.0.1:" + std::to_string(d.port) + "/actuator/health/readiness";
    if (!op::testing::WaitForHttp(url, 200, std::chrono::seconds(120), c.process.get()) || g_stop) {
      g_stop = 1;
      Say("stack", d.name + " did not become ready; stopping");
      return false;
    }
    return true;
  };
  Launch(*children["service-registry"]);
  bool all_ready = ready(defs.front());
  auto front = [](const std::string& n) { return n == "api-gateway" || n == "dashboard" || n == "service-registry"; };
  for (auto& d : defs)
    if (all_ready && !front(d.name)) Launch(*children[d.name]);
  for (auto& d : defs)
    if (all_ready && !front(d.name)) all_ready = ready(d);
  // then the gateway and the dashboard in front of them
  if (all_ready) {
    Launch(*children["api-gateway"]);
    Launch(*children["dashboard"]);
    for (auto& d : defs)
      if (d.name == "api-gateway" || d.name == "dashboard") all_ready = all_ready && ready(d);
  }

  // Prometheus (when installed) finds every instance through the registry.
  std::unique_ptr<Process> prometheus;
  std::thread prometheus_reader;
  if (!g_stop && with_prometheus) {
    fs::create_directories(data + "/prometheus");
    auto subst = [](std::string text, const std::string& from, const std::string& to) {
      for (size_t p = text.find(from); p != std::string::npos; p = text.find(from, p + to.size())) text.replace(p, from.size(), to);
      return text;
    };
    auto read = [](const std::string& path) {
      std::ifstream in(path);
      std::stringstream ss;
      ss << in.rdbuf();
      return ss.str();
    };
    std::string cfg = read(op::testing::Runfile("ops/prometheus/prometheus.yml"));
    cfg = subst(subst(cfg, "REGISTRY_URL", "http://127.0.0.1:8761/eureka"), "REGISTRY_TARGET", "127.0.0.1:8761");
    std::ofstream(data + "/prometheus/prometheus.yml") << cfg;
    std::ofstream(data + "/prometheus/alerts.yml") << read(op::testing::Runfile("ops/prometheus/alerts.yml"));
    Process::Options o;
    o.argv = {"/usr/bin/prometheus", "--config.file=" + data + "/prometheus/prometheus.yml",
              "--storage.tsdb.path=" + data + "/prometheus/tsdb", "--storage.tsdb.retention.time=2d",
              "--web.listen-address=127.0.0.1:" + std::to_string(prometheus_port), "--log.level=warn"};
    o.pipe_output = true;
    prometheus = std::make_unique<Process>(o);
    prometheus->Start();
    int fd = prometheus->OutputFd();
    prometheus_reader = std::thread([fd] {
      char buf[4096];
      std::string acc;
      ssize_t n;
      while ((n = ::read(fd, buf, sizeof buf)) > 0) {
        acc.append(buf, size_t(n));
        for (size_t nl; (nl = acc.find('\n')) != std::string::npos; acc.erase(0, nl + 1)) Say("prometheus", acc.substr(0, nl));
      }
      ::close(fd);
    });
    if (!op::testing::WaitForHttp("http://127.0.0.1:" + std::to_string(prometheus_port) + "/-/ready", 200,
                                  std::chrono::seconds(60), prometheus.get()))
      Say("stack", "Prometheus did not become ready; the platform runs without it");
  }

  if (!g_stop) {
    std::lock_guard lock(g_out);
    std::cout << "\n  Order platform is up.\n\n"
              << "  dashboard              http://127.0.0.1:8090/\n"
              << "  API gateway (REST API) http://127.0.0.1:8080/api/orders\n"
              << "  service registry       http://127.0.0.1:8761/eureka/apps  (view: /registry/view)\n"
              << "  order-service          http://127.0.0.1:8081/api/orders\n"
              << "  payment-service        http://127.0.0.1:8082/api/accounts/alice\n"
              << "  notification-service   http://127.0.0.1:8083/api/notifications\n"
              << "  inventory-service      http://127.0.0.1:8084/api/products\n"
              << "  metrics (each service) http://127.0.0.1:8081/actuator/prometheus\n"
              << "  Kafka bootstrap        " << bootstrap << "\n"
              << "  Prometheus             "
              << (with_prometheus ? "http://127.0.0.1:" + std::to_string(prometheus_port) + "/targets" : std::string("(not installed)"))
              << "\n"
              << "  MySQL                  " << mysql_host << ":" << mysql_port << " (user " << mysql_user << ")\n\n"
              << "  Place an order:\n"
              << "    curl -s -XPOST http://127.0.0.1:8080/api/orders -H 'Content-Type: application/json' \\\n"
              << "      -d '{\"customerId\":\"alice\",\"items\":[{\"sku\":\"SKU-BOOK\",\"quantity\":1}]}'\n\n"
              << "  Ctrl-C stops everything.\n\n"
              << std::flush;
  }

  // Supervise: a service that exits is restarted with backoff (1 s, 2 s, ... 30 s).
  while (!g_stop) {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    auto now = std::chrono::steady_clock::now();
    for (auto& [name, c] : children) {
      if (!c->process || c->process->Running()) continue;
      if (c->restart_at == std::chrono::steady_clock::time_point{}) {
        auto backoff = std::chrono::seconds(std::min(30, 1 << std::min(c->restarts, 5)));
        Say("stack", name + " exited; restarting in " + std::to_string(backoff.count()) + " s");
        c->restart_at = now + backoff;
      } else if (now >= c->restart_at) {
        c->restarts++;
        c->restart_at = {};
        Launch(*c);
      }
    }
  }

  Say("stack", "stopping");
  if (prometheus) {
    prometheus->Stop(std::chrono::seconds(20));
    if (prometheus_reader.joinable()) prometheus_reader.join();
  }
  for (auto it = defs.rbegin(); it != defs.rend(); ++it) {
    auto& c = *children[it->name];
    if (c.process) c.process->Signal(SIGTERM);
  }
  for (auto& [name, c] : children) {
    if (c->process) c->process->Stop(std::chrono::seconds(20));
    if (c->reader.joinable()) c->reader.join();
  }
  broker.reset();
  if (mariadb) {
    Say("mariadb", "stopping");
    mariadb->Stop();
  }
  Say("stack", "stopped");
  return 0;
}
