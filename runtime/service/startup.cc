#include "runtime/service/startup.h"

#include <fmt/format.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <thread>

#include "runtime/config/spring_names.h"
#include "runtime/db/db.h"
#include "runtime/discovery/discovery.h"
#include "runtime/discovery/eureka_client.h"
#include "runtime/http/client.h"
#include "runtime/kafka/consumer.h"
#include "runtime/kafka/producer.h"
#include "runtime/logging/log.h"
#include "runtime/resilience/registry.h"
#include "runtime/service/tracer_setup.h"
#include "runtime/service/component.h"
#include "runtime/service/service.h"

namespace op {

CommandLine ParseCommandLine(const std::string& name, int argc, char** argv) {
  CommandLine cl;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--help" || a == "-h") cl.help = true;
    else if (a == "--health-check") cl.health_check = true;
    else if (a == "--config" && i + 1 < argc) cl.config_file = argv[++i];
    else if (a.rfind("--config=", 0) == 0) cl.config_file = a.substr(9);
    else
      throw UsageError("unknown argument '" + a + "'\nusage: " + name + " [--config FILE.yaml] [--health-check] [--help]");
  }
  return cl;
}

void DeclareRuntimeSchema(config::Schema& s, const ServiceSpec& spec) {
  using config::Type;
  s.Add("service.name", Type::kString, spec.name, "application name in the registry and logs");
  s.Add("service.instance-id", Type::kString, "", "instance id (default: hostname:port)");
  s.Add(config::KeySpec{"server.port", Type::kInt, std::to_string(spec.default_port), "HTTP port", 0, 65535});
  s.Add("server.host", Type::kString, "0.0.0.0", "HTTP listen address");
  s.Add("server.engine", Type::kString, spec.server_engine, "HTTP server engine: pistache or asio");
  const int threads = spec.server_threads > 0 ? spec.server_threads : int(std::max(1u, std::thread::hardware_concurrency()));
  s.Add(config::KeySpec{"server.threads", Type::kInt, std::to_string(threads), "HTTP worker threads (handlers may block)", 1, 256});
  s.Add(config::KeySpec{"server.max-body-bytes", Type::kInt, "1048576", "larger request bodies get 413", 1024, 1 << 30});
  s.Add("server.drain-timeout", Type::kDuration, "10s", "wait for in-flight requests on shutdown");
  s.Add("server.access-log", Type::kBool, "true", "one log line per request");
  s.Add(config::KeySpec{"server.max-connections", Type::kInt, "10000",
                        "open connections at most; more are closed at once and counted (0: no limit)", 0, 1000000});
  s.Add("server.loop-per-thread", Type::kBool, spec.loop_per_thread ? "true" : "false",
        "asio engine: each thread runs its own event loop and owns its connections (only for services whose handlers never block)");
  // Spring Boot's names for a PEM certificate and key (server.ssl.*).
  s.Add("server.ssl.certificate", Type::kString, "",
        "HTTPS: PEM certificate chain file, the server's certificate first (asio engine; empty: plain HTTP)");
  s.Add("server.ssl.certificate-private-key", Type::kString, "", "HTTPS: the certificate's PEM private key file");
  s.Add("logging.level", Type::kString, "info", "debug, info, warn or error");
  s.Add("http-client.timeout", Type::kDuration, "5s", "default timeout of outgoing HTTP calls");
  s.Add("http-client.connect-timeout", Type::kDuration, "1s", "connect timeout of outgoing HTTP calls");
  DeclareTracingSchema(s);
  resilience::ResilienceRegistry::DeclareSchema(s);
  discovery::StaticDiscovery::DeclareSchema(s);
  discovery::EurekaClientOptions::DeclareSchema(s);
  AuthComponent::DeclareSchema(s);
  if (spec.uses_database) {
    db::DbOptions::DeclareSchema(s);
    s.Add("mysql.startup-timeout", Type::kDuration, "60s", "wait for the database at start-up at most");
    s.Add("outbox.poll-interval", Type::kDuration, "50ms", "outbox relay poll interval when idle");
    s.Add(config::KeySpec{"outbox.batch-size", Type::kInt, "200", "outbox rows per relay batch", 1, 10000});
    s.Add("idempotency.purge-interval", Type::kDuration, "10m", "delete expired Idempotency-Key records this often");
  }
  if (spec.uses_kafka) {
    kafka::ProducerOptions::DeclareSchema(s);
    kafka::ConsumerOptions::DeclareSchema(s);
    s.Add("kafka.startup-timeout", Type::kDuration, "60s", "wait for a Kafka broker at start-up at most");
  }
}

void PrintHelp(const ServiceSpec& spec, const config::Schema& schema) {
  std::cout << spec.name << " " << spec.version << "\n\nusage: " << spec.name
            << " [--config FILE.yaml] [--health-check]\n\n"
            << "  --health-check   ask the instance this configuration describes for /actuator/health/liveness;\n"
            << "                   exit 0 when it answers 200, 1 otherwise (for container health checks)\n\n"
            << "Configuration keys (YAML path; environment variable overrides):\n";
  for (const auto& k : schema.Specs()) {
    if (k.key.find(".configs.") != std::string::npos) continue;  // same keys as instances.*
    std::cout << fmt::format("  {:<62} {}{}\n      env {}\n", k.key, k.description,
                             k.default_value ? " (default: " + (k.default_value->empty() ? std::string("\"\"") : *k.default_value) + ")" : " (required)",
                             config::EnvNameOf(k.key));
  }
}

config::Config LoadConfig(const config::Schema& schema, std::string config_file, std::vector<std::string>* warnings) {
  auto spring = config::TranslateSpringEnv(config::Config::ProcessEnv(), schema);
  if (warnings) *warnings = std::move(spring.warnings);
  const auto& env = spring.env;
  if (config_file.empty() && env.count("CONFIG_FILE")) config_file = env.at("CONFIG_FILE");
  auto config = config_file.empty() ? config::Config::Load(schema, "", env, "environment")
                                    : config::Config::LoadFile(schema, config_file, env);
  if (!log::ParseLevel(config.GetString("logging.level")))
    throw config::ConfigError("key 'logging.level' must be debug, info, warn or error: got '" +
                              config.GetString("logging.level") + "'");
  return config;
}

int CheckHealth(const config::Config& config, const std::string& name) {
  http::ClientOptions o;
  o.timeout = std::chrono::milliseconds(2000);
  o.connect_timeout = std::chrono::milliseconds(1000);
  o.max_idle_handles = 1;
  o.user_agent = name;
  const bool tls = !config.GetString("server.ssl.certificate").empty();
  o.loopback_self_probe = tls;
  http::HttpClient probe(o);
  auto r = probe.Get(std::string(tls ? "https" : "http") + "://127.0.0.1:" + std::to_string(config.GetInt("server.port")) +
                     "/actuator/health/liveness");
  std::cout << (r.ok() ? std::to_string(r.status) + " " + r.body : r.error_message) << std::endl;
  return r.ok() && r.status == 200 ? kExitOk : kExitStartFailure;
}

std::string Hostname() {
  char buf[256] = {0};
  if (gethostname(buf, sizeof buf - 1) != 0) return "localhost";
  return buf;
}

void CollectProcessMetrics(metrics::Families& out) {
  static const double start_time = double(std::chrono::duration_cast<std::chrono::seconds>(
                                              std::chrono::system_clock::now().time_since_epoch()).count());
  std::ifstream statm("/proc/self/statm");
  long pages_total = 0, pages_resident = 0;
  statm >> pages_total >> pages_resident;
  long page = sysconf(_SC_PAGESIZE);
  std::ifstream stat("/proc/self/stat");
  std::string field;
  double utime = 0, stime = 0;
  for (int i = 1; stat >> field; ++i) {
    if (i == 14) utime = std::stod(field);
    if (i == 15) {
      stime = std::stod(field);
      break;
    }
  }
  size_t fds = 0;
  std::error_code ec;
  for (auto it = std::filesystem::directory_iterator("/proc/self/fd", ec); !ec && it != std::filesystem::directory_iterator(); ++it) ++fds;
  auto gauge = [&](const char* name, const char* help, double v, prometheus::MetricType t = prometheus::MetricType::Gauge) {
    auto f = metrics::Family(name, help, t);
    metrics::AddSample(f, {}, v);
    out.push_back(std::move(f));
  };
  gauge("process_resident_memory_bytes", "Resident memory size in bytes", double(pages_resident * page));
  gauge("process_virtual_memory_bytes", "Virtual memory size in bytes", double(pages_total * page));
  gauge("process_start_time_seconds", "Start time of the process since the Unix epoch", start_time);
  gauge("process_cpu_seconds_total", "User and system CPU time in seconds", (utime + stime) / double(sysconf(_SC_CLK_TCK)),
        prometheus::MetricType::Counter);
  gauge("process_open_fds", "Open file descriptors", double(fds));
}

int ExitCodeFor(const std::string& name, std::exception_ptr e) {
  try {
    std::rethrow_exception(e);
  } catch (const config::ConfigError& e) {
    std::cerr << name << ": configuration error: " << e.what() << std::endl;
    return kExitUsage;
  } catch (const UsageError& e) {
    std::cerr << name << ": " << e.what() << std::endl;
    return kExitUsage;
  } catch (const std::exception& e) {
    std::cerr << name << ": " << e.what() << std::endl;
    log::Error("start-up failed", {{"error", e.what()}});
    return kExitStartFailure;
  } catch (...) {
    std::cerr << name << ": start-up failed (unknown exception)" << std::endl;
    return kExitStartFailure;
  }
}

}  // namespace op
