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
#include <curl/curl.h>
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
#include <set>
#include <mutex>
#include <thread>

#include "runtime/core/backoff.h"
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

void Say(const std::string& who_label, const std::string& line) {
  std::string who = who_label;
  std::lock_guard lock(g_out);
  const char* reset = isatty(1) ? "\033[0m" : "";
  std::string app = who;
  if (app.size() > 2 && app[app.size() - 2] == '-' && isdigit(app.back())) app.resize(app.size() - 2);
  std::cout << Color(app) << std::left << std::setw(21) << who << reset << "| " << line << "\n" << std::flush;
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
  int instance = 1;    // 2, 3, ... for extra instances (--instances)
  std::string label{}; // log prefix and key: the name, or "payment-service-2"
};

struct Child {
  ServiceDef def;
  std::string config;
  std::unique_ptr<Process> process;
  std::thread reader;
  int restarts = 0;
  std::chrono::steady_clock::time_point restart_at{};
  struct LastLine {
    std::mutex mu;
    std::string text;  // the child's last log line, for a one-line failure message
  };
  std::shared_ptr<LastLine> last = std::make_shared<LastLine>();
};

void StartReader(Child& c) {
  int fd = c.process->OutputFd();
  std::string name = c.def.label;
  auto last = c.last;
  c.reader = std::thread([fd, name, last] {
    std::string buf;
    char chunk[4096];
    ssize_t n;
    while ((n = ::read(fd, chunk, sizeof chunk)) > 0) {
      buf.append(chunk, size_t(n));
      size_t nl;
      while ((nl = buf.find('\n')) != std::string::npos) {
        std::string line = Pretty(buf.substr(0, nl));
        buf.erase(0, nl + 1);
        if (!line.empty() && line[0] != '%') {  // librdkafka's own noise lines start with %
          std::lock_guard lock(last->mu);
          last->text = line;
        }
        Say(name, line);
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
  Die("no " + what + " accepts connections at " + list + " (" + setting + ")");
}

uint16_t ParsePort(const std::string& what, const std::string& v) {
  char* end = nullptr;
  long n = std::strtol(v.c_str(), &end, 10);
  if (v.empty() || *end || n < 1 || n > 65535) Die(what + " must be a port number in [1, 65535], got '" + v + "'");
  return uint16_t(n);
}

std::pair<std::string, std::string> SplitAssign(const std::string& flag, const std::string& v) {
  auto eq = v.find('=');
  if (eq == std::string::npos || eq == 0) Die(flag + " takes NAME=VALUE, got '" + v + "'");
  return {v.substr(0, eq), v.substr(eq + 1)};
}

}  // namespace

// `bytes` random bytes as hex, from the kernel.
std::string RandomHex(size_t bytes) {
  std::ifstream in("/dev/urandom", std::ios::binary);
  std::string raw(bytes, '\0');
  if (!in.read(raw.data(), std::streamsize(bytes))) Die("cannot read /dev/urandom");
  static const char* hex = "0123456789abcdef";
  std::string out;
  for (unsigned char c : raw) out += {hex[c >> 4], hex[c & 15]};
  return out;
}

int main(int argc, char** argv) {
  bool reset = false;
  std::map<std::string, int> instances;       // --instances payment-service=2
  std::map<std::string, uint16_t> port_flags;  // --port api-gateway=9080
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) Die("missing value for " + a);
      return argv[++i];
    };
    if (a == "--reset") reset = true;
    else if (a == "--instances") {
      auto [name, n] = SplitAssign(a, value());
      if (n.empty() || n.find_first_not_of("0123456789") != std::string::npos || std::stoi(n) < 1 || std::stoi(n) > 5)
        Die("--instances " + name + "=N: N must be 1..5, got '" + n + "'");
      instances[name] = std::stoi(n);
    } else if (a == "--port") {
      auto [name, v] = SplitAssign(a, value());
      port_flags[name] = ParsePort("--port " + name, v);
    } else if (a == "--help" || a == "-h") {
      std::cout << "usage: bazel run //ops:stack [-- OPTIONS]\n\n"
                   "  --reset                 delete the stack's data (databases) before starting\n"
                   "  --instances NAME=N      run N instances of a service (1..5), e.g. payment-service=2;\n"
                   "                          instance k listens on the service's port + 100*(k-1)\n"
                   "  --port NAME=PORT        move one program: service-registry, api-gateway, dashboard,\n"
                   "                          order-service, payment-service, notification-service,\n"
                   "                          inventory-service, prometheus, mariadb\n\n"
                   "environment:\n"
                   "  STACK_DATA_DIR            data directory (default ~/.local/share/orderplatform)\n"
                   "  STACK_MYSQL_PORT          port of the embedded MariaDB (default 3307)\n"
                   "  STACK_PROMETHEUS_PORT     port of Prometheus (default 9090)\n"
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
      {"service-registry", "registry/service-registry", 8761, "", 1, ""},
      {"inventory-service", "services/inventory/inventory-service", 8084, "inventory_db", 1, ""},
      {"payment-service", "services/payment/payment-service", 8082, "payments_db", 1, ""},
      {"order-service", "services/order/order-service", 8081, "orders_db", 1, ""},
      {"notification-service", "services/notification/notification-service", 8083, "notifications_db", 1, ""},
      {"identity-service", "services/identity/identity-service", 8085, "identity_db", 1, ""},
      {"api-gateway", "gateway/api-gateway", 8080, "", 1, ""},
      {"dashboard", "dashboard/dashboard", 8090, "", 1, ""},
  };
  const std::set<std::string> scalable = {"order-service", "payment-service", "notification-service",
                                          "inventory-service", "api-gateway"};
  for (auto& [name, n] : instances)
    if (!scalable.count(name)) Die("--instances: '" + name + "' cannot be scaled (one of: order-service, payment-service, "
                                   "notification-service, inventory-service, api-gateway)");
  std::set<std::string> known = {"prometheus", "mariadb"};
  for (auto& d : defs) known.insert(d.name);
  for (auto& [name, port] : port_flags)
    if (!known.count(name)) Die("--port: no program named '" + name + "' (try --help)");
  {
    std::vector<ServiceDef> expanded;
    for (auto d : defs) {
      if (port_flags.count(d.name)) d.port = port_flags[d.name];
      d.binary = op::testing::Runfile(d.binary);
      if (!fs::exists(d.binary)) Die(d.binary + " is missing: run it with `bazel run //ops:stack`");
      int n = instances.count(d.name) ? instances[d.name] : 1;
      for (int k = 1; k <= n; ++k) {
        ServiceDef e = d;
        e.instance = k;
        e.port = uint16_t(d.port + 100 * (k - 1));
        e.label = k == 1 ? d.name : d.name + "-" + std::to_string(k);
        expanded.push_back(e);
      }
    }
    defs = std::move(expanded);
  }
  auto port_of = [&](const std::string& name) {
    for (auto& d : defs)
      if (d.name == name) return d.port;
    return uint16_t(0);
  };
  const std::string registry_url = "http://127.0.0.1:" + std::to_string(port_of("service-registry"));
  // The registry's credential (DESIGN section 10's demo one unless given);
  // clients carry it in their service URL, as Eureka clients do.
  const std::string registry_user = Env("STACK_REGISTRY_USER", "eureka"),
                    registry_password = Env("STACK_REGISTRY_PASSWORD", "eureka-secret");
  const std::string registry_service_url =
      "http://" + registry_user + ":" + registry_password + "@" + registry_url.substr(7) + "/eureka";
  // The dashboard's client secret: new at every start (identity-service reads
  // its clients from its config), never printed.
  const std::string dashboard_secret = RandomHex(24);
  // Ports: a clear one-line answer instead of a half-started stack.
  bool embedded_db = Env("MYSQL_HOST").empty(), embedded_kafka = Env("KAFKA_BOOTSTRAP_SERVERS").empty();
  uint16_t mysql_port = port_flags.count("mariadb") ? port_flags["mariadb"]
                                                    : ParsePort("STACK_MYSQL_PORT", Env("STACK_MYSQL_PORT", "3307"));
  std::set<uint16_t> taken;
  for (auto& d : defs) {
    if (!taken.insert(d.port).second) Die("port " + std::to_string(d.port) + " is given to two programs (" + d.label + ")");
    if (op::testing::PortOpen(d.port))
      Die("port " + std::to_string(d.port) + " (" + d.label + ") is already in use: stop whatever listens there or use --port " +
          d.name + "=PORT");
  }
  if (embedded_db && op::testing::PortOpen(mysql_port))
    Die("port " + std::to_string(mysql_port) + " (MariaDB) is already in use: use --port mariadb=PORT or MYSQL_HOST");
  if (embedded_db && !fs::exists("/usr/sbin/mariadbd")) Die("MariaDB is not installed: run `bash ops/setup.sh` first");
  const bool with_prometheus = fs::exists("/usr/bin/prometheus");
  const uint16_t prometheus_port = port_flags.count("prometheus")
                                       ? port_flags["prometheus"]
                                       : ParsePort("STACK_PROMETHEUS_PORT", Env("STACK_PROMETHEUS_PORT", "9090"));
  if (with_prometheus && op::testing::PortOpen(prometheus_port))
    Die("port " + std::to_string(prometheus_port) + " (Prometheus) is already in use: use --port prometheus=PORT");

  // External dependencies are checked before anything is started.
  if (!embedded_kafka) RequireReachable("Kafka broker", Env("KAFKA_BOOTSTRAP_SERVERS"), "KAFKA_BOOTSTRAP_SERVERS");
  if (!embedded_db)
    RequireReachable("MySQL server", Env("MYSQL_HOST") + ":" + Env("MYSQL_PORT", "3306"), "MYSQL_HOST, MYSQL_PORT");

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
    mysql_port = ParsePort("MYSQL_PORT", Env("MYSQL_PORT", "3306"));
    Say("mariadb", "using external MySQL at " + mysql_host + ":" + std::to_string(mysql_port));
  }
  std::unique_ptr<op::testing::DevBroker> broker;
  std::string bootstrap = Env("KAFKA_BOOTSTRAP_SERVERS");
  if (embedded_kafka) {
    broker = std::make_unique<op::testing::DevBroker>();
    try {
      broker->Start();
    } catch (const std::exception& e) {
      if (mariadb) mariadb->Stop();
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
    c->config = data + "/config/" + d.label + ".yaml";
    std::ofstream y(c->config);
    y << "# written by ops/stack at every start\n"
      << "server:\n  port: " << d.port << "\n";
    if (d.name == "service-registry") {
      // one machine, few instances: a stopped service should disappear within
      // seconds, so self-preservation is off and leases are short
      y << "registry:\n  eviction-interval: 5s\n  enable-self-preservation: false\n"
        << "  expected-client-renewal-interval: 5s\n"
        << "  security: {username: \"" << registry_user << "\", password: \"" << registry_password << "\"}\n";
      y.close();
      children[d.label] = std::move(c);
      continue;
    }
    y << "eureka:\n  client:\n    service-url: [\"" << registry_service_url << "\"]\n    registry-fetch-interval: 2s\n"
      << "  instance:\n    lease-renewal-interval: 5s\n    lease-expiration-duration: 15s\n";
    if (d.name == "dashboard") {
      y << "kafka:\n  bootstrap.servers: \"" << bootstrap << "\"\n"
        << "auth:\n  client-id: dashboard\n  client-secret: " << dashboard_secret << "\n";
      if (broker) y << "dashboard:\n  devbroker-url: " << broker->AdminUrl() << "\n";
      y.close();
      children[d.label] = std::move(c);
      continue;
    }
    if (d.name == "api-gateway") {
      y.close();
      children[d.label] = std::move(c);
      continue;
    }
    y << "mysql:\n  host: " << mysql_host << "\n  port: " << mysql_port << "\n  user: " << mysql_user
      << "\n  password: \"" << mysql_password << "\"\n  database: " << d.database << "\n  create-database: true\n";
    if (d.name == "identity-service")  // no Kafka; tokens name the gateway, where clients reach it
      y << "identity:\n  issuer: http://127.0.0.1:" << port_of("api-gateway") << "\n  demo-users: true\n"
        << "  clients:\n    - {id: dashboard, secret: " << dashboard_secret << ", roles: [service]}\n";
    else
      y << "kafka:\n  bootstrap.servers: \"" << bootstrap << "\"\n";
    if (d.name == "inventory-service") y << "inventory:\n  seed-demo-data: true\n";
    if (d.name == "payment-service") y << "payment:\n  seed-demo-data: true\n";
    y.close();
    children[d.label] = std::move(c);
  }
  // The services need only the database and Kafka: start them together, then
  // the gateway in front of them once they are ready.
  auto ready = [&](const ServiceDef& d) {
    auto& c = *children[d.label];
    std::string url = "http://127.0.0.1:" + std::to_string(d.port) + "/actuator/health/readiness";
    if (!op::testing::WaitForHttp(url, 200, std::chrono::seconds(120), c.process.get()) || g_stop) {
      if (!g_stop) {
        // One line that says why: the service's own last words (e.g. "cannot reach the database").
        std::string last;
        {
          std::lock_guard lock(c.last->mu);
          last = c.last->text;
        }
        std::lock_guard lock(g_out);
        std::cerr << "stack: " << d.label << " did not become ready"
                  << (c.process->Running() ? " within 120 s" : " (it exited)") << (last.empty() ? "" : ": " + last)
                  << "\n";
      }
      g_stop = 1;
      return false;
    }
    return true;
  };
  bool all_ready = true;
  auto start_group = [&](auto&& pick) {
    for (auto& d : defs)
      if (all_ready && pick(d.name)) Launch(*children[d.label]);
    for (auto& d : defs)
      if (all_ready && pick(d.name)) all_ready = ready(d);
  };
  start_group([](const std::string& n) { return n == "service-registry"; });
  auto front = [](const std::string& n) { return n == "api-gateway" || n == "dashboard" || n == "service-registry"; };
  start_group([&](const std::string& n) { return !front(n); });
  // then the gateway and the dashboard in front of them
  start_group([](const std::string& n) { return n == "api-gateway" || n == "dashboard"; });
  const bool start_failed = !all_ready;

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
    cfg = subst(cfg, "service-registry:8761", registry_url.substr(7));  // http://127.0.0.1:PORT
    cfg = subst(cfg, "username: eureka", "username: " + registry_user);
    cfg = subst(cfg, "/etc/prometheus/secrets/eureka-password", data + "/prometheus/eureka-password");
    {
      std::ofstream pw(data + "/prometheus/eureka-password");
      pw << registry_password;
    }
    fs::permissions(data + "/prometheus/eureka-password", fs::perms::owner_read | fs::perms::owner_write);
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
    auto url = [&](const std::string& name, const std::string& path) {
      std::string out;
      for (auto& d : defs)
        if (d.name == name) out += (out.empty() ? "" : "  ") + ("http://127.0.0.1:" + std::to_string(d.port) + path);
      return out;
    };
    std::cout << "\n  Order platform is up.\n\n"
              << "  dashboard              " << url("dashboard", "/") << "\n"
              << "  API gateway (REST API) " << url("api-gateway", "/api/orders") << "\n"
              << "  service registry       " << url("service-registry", "/eureka/apps") << "  (view: /registry/view; HTTP Basic "
              << registry_user << " / " << (registry_password == "eureka-secret" ? registry_password : "<STACK_REGISTRY_PASSWORD>") << ")\n"
              << "  order-service          " << url("order-service", "/api/orders") << "\n"
              << "  payment-service        " << url("payment-service", "/api/accounts/alice") << "\n"
              << "  notification-service   " << url("notification-service", "/api/notifications") << "\n"
              << "  inventory-service      " << url("inventory-service", "/api/products") << "\n"
              << "  identity-service       " << url("identity-service", "/.well-known/openid-configuration") << "\n"
              << "  metrics (each service) " << url("order-service", "/actuator/prometheus") << "\n"
              << "  Kafka bootstrap        " << bootstrap << "\n"
              << "  Prometheus             "
              << (with_prometheus ? "http://127.0.0.1:" + std::to_string(prometheus_port) + "/targets" : std::string("(not installed)"))
              << "\n"
              << "  MySQL                  " << mysql_host << ":" << mysql_port << " (user " << mysql_user << ")\n\n"
              << "  Demo identities (user / password): alice, bob, carol, dave / <name>-secret (customers),\n"
              << "    admin / admin-secret, viewer / viewer-secret. A token:\n"
              << "    TOKEN=$(curl -s http://127.0.0.1:" << port_of("api-gateway")
              << "/oauth2/token -d grant_type=password -d username=alice -d password=alice-secret \\\n"
              << "      | sed 's/.*\"access_token\":\"\\([^\"]*\\)\".*/\\1/')\n\n"
              << "  Place an order with it:\n"
              << "    curl -s -XPOST http://127.0.0.1:" << port_of("api-gateway")
              << "/api/orders -H \"Authorization: Bearer $TOKEN\" -H 'Content-Type: application/json' \\\n"
              << "      -d '{\"customerId\":\"alice\",\"items\":[{\"sku\":\"SKU-BOOK\",\"quantity\":1}]}'\n\n"
              << "  Ctrl-C stops everything.\n\n"
              << std::flush;
  }

  // Supervise: a service that exits is restarted with backoff (1 s, 2 s, ... 30 s).
  static const op::BackoffPolicy kRestartBackoff{std::chrono::seconds(1), std::chrono::seconds(30), 2.0, false};
  while (!g_stop) {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    auto now = std::chrono::steady_clock::now();
    for (auto& [name, c] : children) {
      if (!c->process || c->process->Running()) continue;
      if (c->restart_at == std::chrono::steady_clock::time_point{}) {
        auto backoff = std::chrono::duration_cast<std::chrono::seconds>(kRestartBackoff.Cap(c->restarts + 1));
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
    auto& c = *children[it->label];
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
  return start_failed ? 1 : 0;
}
