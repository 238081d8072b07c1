#include "runtime/service/service.h"

#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <fmt/format.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <thread>

#include "runtime/actuator/actuator.h"
#include "runtime/core/time_format.h"
#include "runtime/core/trace_context.h"
#include "runtime/http/server.h"
#include "runtime/logging/log.h"
#include "runtime/outbox/schema.h"

namespace op {

namespace {

constexpr int kExitStartFailure = 1;
constexpr int kExitConfig = 2;

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
  s.Add("server.loop-per-thread", Type::kBool, spec.loop_per_thread ? "true" : "false",
        "asio engine: each thread runs its own event loop and owns its connections (only for services whose handlers never block)");
  s.Add("logging.level", Type::kString, "info", "debug, info, warn or error");
  s.Add("http-client.timeout", Type::kDuration, "5s", "default timeout of outgoing HTTP calls");
  s.Add("http-client.connect-timeout", Type::kDuration, "1s", "connect timeout of outgoing HTTP calls");
  resilience::ResilienceRegistry::DeclareSchema(s);
  discovery::StaticDiscovery::DeclareSchema(s);
  discovery::EurekaClientOptions::DeclareSchema(s);
  if (spec.uses_database) {
    db::DbOptions::DeclareSchema(s);
    s.Add("mysql.startup-timeout", Type::kDuration, "60s", "wait for the database at start-up at most");
    s.Add("outbox.poll-interval", Type::kDuration, "50ms", "outbox relay poll interval when idle");
    s.Add(config::KeySpec{"outbox.batch-size", Type::kInt, "200", "outbox rows per relay batch", 1, 10000});
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

std::string Hostname() {
  char buf[256] = {0};
  if (gethostname(buf, sizeof buf - 1) != 0) return "localhost";
  return buf;
}

// process_* metrics as the Prometheus client libraries export them.
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

int Fail(const std::string& service, int code, const std::string& what) {
  std::cerr << service << ": " << what << std::endl;
  log::Error("start-up failed", {{"error", what}});
  return code;
}

}  // namespace

db::ConnectionPool& Service::db() {
  if (!db_) throw std::logic_error(spec_.name + " does not use a database (ServiceSpec.uses_database)");
  return *db_;
}
kafka::Producer& Service::producer() {
  if (!producer_) throw std::logic_error(spec_.name + " does not use Kafka (ServiceSpec.uses_kafka)");
  return *producer_;
}
outbox::OutboxRelay& Service::outbox() {
  if (!outbox_) throw std::logic_error(spec_.name + " needs both a database and Kafka for the outbox");
  return *outbox_;
}
outbox::IdempotencyStore& Service::idempotency() {
  if (!idempotency_) throw std::logic_error(spec_.name + " does not use a database (Idempotency-Key store)");
  return *idempotency_;
}

int Service::Run(ServiceSpec spec, int argc, char** argv, const std::function<void(Service&)>& wire) {
  // Signals are taken by sigwait() in this thread: block them before any
  // other thread exists so every thread inherits the mask.
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  signal(SIGPIPE, SIG_IGN);
  Service svc(std::move(spec));
  return svc.Start(argc, argv, wire);
}

int Service::Start(int argc, char** argv, const std::function<void(Service&)>& wire) {
  const std::string name = spec_.name;
  DeclareRuntimeSchema(schema_, spec_);
  if (spec_.declare_config) spec_.declare_config(schema_);

  std::string config_file;
  bool health_check = false;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--help" || a == "-h") {
      PrintHelp(spec_, schema_);
      return 0;
    } else if (a == "--health-check") {
      health_check = true;
    } else if (a == "--config" && i + 1 < argc) {
      config_file = argv[++i];
    } else if (a.rfind("--config=", 0) == 0) {
      config_file = a.substr(9);
    } else {
      std::cerr << name << ": unknown argument '" << a << "'\nusage: " << name
                << " [--config FILE.yaml] [--health-check] [--help]\n";
      return kExitConfig;
    }
  }
  try {
    auto env = config::Config::ProcessEnv();
    if (config_file.empty() && env.count("CONFIG_FILE")) config_file = env["CONFIG_FILE"];
    config_ = std::make_unique<config::Config>(config_file.empty() ? config::Config::Load(schema_, "", env, "environment")
                                                                   : config::Config::LoadFile(schema_, config_file, env));
    if (!http::ParseServerEngine(config_->GetString("server.engine")))
      throw config::ConfigError("key 'server.engine' must be pistache or asio: got '" +
                                config_->GetString("server.engine") + "'");
    if (config_->GetBool("server.loop-per-thread") && !spec_.nonblocking_handlers)
      throw config::ConfigError("key 'server.loop-per-thread' cannot be true for " + spec_.name +
                                ": its handlers block (database calls), a blocked loop would stall every connection on it");
    if (!log::ParseLevel(config_->GetString("logging.level")))
      throw config::ConfigError("key 'logging.level' must be debug, info, warn or error: got '" +
                                config_->GetString("logging.level") + "'");
    port_ = static_cast<uint16_t>(config_->GetInt("server.port"));
    if (health_check) {
      // For container health checks (images have no shell or curl): is the
      // instance with this configuration alive? 0 yes, 1 no.
      http::HttpClient probe(http::ClientOptions{std::chrono::milliseconds(2000), std::chrono::milliseconds(1000), 1, name});
      auto r = probe.Get("http://127.0.0.1:" + std::to_string(port_) + "/actuator/health/liveness");
      std::cout << (r.ok() ? std::to_string(r.status) + " " + r.body : r.error_message) << std::endl;
      return r.ok() && r.status == 200 ? 0 : 1;
    }
    instance_id_ = config_->GetString("service.instance-id");
    if (instance_id_.empty()) instance_id_ = Hostname() + ":" + std::to_string(port_);
    log::Init(config_->GetString("service.name"), instance_id_, *log::ParseLevel(config_->GetString("logging.level")));
    metrics_ = std::make_unique<metrics::MetricsRegistry>();
    resilience_ = std::make_unique<resilience::ResilienceRegistry>(config_.get());
  } catch (const config::ConfigError& e) {
    std::cerr << name << ": configuration error: " << e.what() << std::endl;
    return kExitConfig;
  }
  metrics_->AddCollector([this](metrics::Families& out) { resilience_->Collect(out); });
  metrics_->AddCollector(CollectProcessMetrics);
  health_ = std::make_unique<actuator::HealthRegistry>();
  router_ = std::make_shared<http::Router>();
  const http::ClientOptions client_options{config_->GetDuration("http-client.timeout"),
                                           config_->GetDuration("http-client.connect-timeout"), 64, name};
  http_client_ = std::make_unique<http::HttpClient>(client_options);
  // Built now, started after the wiring: asynchronous handlers need its loop.
  http::ServerOptions so;
  so.host = config_->GetString("server.host");
  so.port = port_;
  so.engine = *http::ParseServerEngine(config_->GetString("server.engine"));
  so.threads = int(config_->GetInt("server.threads"));
  so.max_body_bytes = size_t(config_->GetInt("server.max-body-bytes"));
  so.access_log = config_->GetBool("server.access-log");
  so.loop_per_thread = config_->GetBool("server.loop-per-thread");
  server_ = std::make_unique<http::HttpServer>(so, router_, metrics_.get());
  async_http_ = std::make_unique<http::AsyncClient>(server_->loops(), client_options, server_->OneThreadPerLoop());
  try {
    static_discovery_ = std::make_unique<discovery::StaticDiscovery>(*config_);
    auto eo = discovery::EurekaClientOptions::FromConfig(*config_);
    eo.app = config_->GetString("service.name");
    eo.instance_id = instance_id_;
    eo.port = port_;
    eo.metadata = {{"version", spec_.version}};
    eureka_ = std::make_unique<discovery::EurekaClient>(eo, *http_client_);
    discovery_ = std::make_unique<discovery::CompositeDiscovery>(*static_discovery_, *eureka_);
  } catch (const config::ConfigError& e) {
    std::cerr << name << ": configuration error: " << e.what() << std::endl;
    return kExitConfig;
  }
  load_balancer_ = std::make_unique<discovery::LoadBalancer>(*discovery_, resilience_.get());
  service_client_ = std::make_unique<discovery::ServiceClient>(*load_balancer_, *http_client_, *resilience_);
  log::Info("starting", {{"version", spec_.version}, {"config", config_file.empty() ? "(environment)" : config_file}});

  // Database: wait for it, then migrate.
  if (spec_.uses_database) {
    try {
      db_ = std::make_unique<db::ConnectionPool>(db::DbOptions::FromConfig(*config_), metrics_.get(), name);
    } catch (const config::ConfigError& e) {
      std::cerr << name << ": configuration error: " << e.what() << std::endl;
      return kExitConfig;
    } catch (const db::DbError& e) {
      // create-database needs the server too: fall through to the wait below
      log::Warn("database not reachable yet", {{"error", e.what()}});
    }
    std::string last_error;
    auto deadline = std::chrono::steady_clock::now() + config_->GetDuration("mysql.startup-timeout");
    auto backoff = std::chrono::milliseconds(100);
    while (true) {
      try {
        if (!db_) db_ = std::make_unique<db::ConnectionPool>(db::DbOptions::FromConfig(*config_), metrics_.get(), name);
        if (db_->Ping(&last_error)) break;
      } catch (const std::exception& e) {
        last_error = e.what();
      }
      if (std::chrono::steady_clock::now() + backoff > deadline)
        return Fail(name, kExitStartFailure, "cannot reach the database: " + last_error);
      log::Warn("waiting for the database", {{"error", last_error}});
      std::this_thread::sleep_for(backoff);
      backoff = std::min(backoff * 2, std::chrono::milliseconds(2000));
    }
    try {
      auto migrations = outbox::RuntimeMigrations();
      migrations.insert(migrations.end(), spec_.migrations.begin(), spec_.migrations.end());
      auto r = db::Migrate(*db_, migrations);
      log::Info("database ready", {{"database", db_->Describe()}, {"applied", r.applied}, {"version", r.current_version}});
    } catch (const std::exception& e) {
      return Fail(name, kExitStartFailure, std::string("database migration failed: ") + e.what());
    }
    idempotency_ = std::make_unique<outbox::IdempotencyStore>(*db_);
    health_->Add("db", [this] {
      std::string err;
      auto stats = db_->GetStats();
      nlohmann::json details = {{"database", "MySQL"}, {"url", db_->Describe()}, {"active", stats.active}, {"idle", stats.idle}};
      if (db_->Ping(&err)) return actuator::Health::Up(details);
      details["error"] = err;
      return actuator::Health::Down(details);
    });
  }

  // Kafka: one producer for events and dead letters.
  if (spec_.uses_kafka) {
    try {
      auto popts = kafka::ProducerOptions::FromConfig(*config_);
      if (popts.client_id == "orderplatform") popts.client_id = name;
      producer_ = std::make_unique<kafka::Producer>(popts, metrics_.get());
    } catch (const std::exception& e) {
      std::cerr << name << ": configuration error: " << e.what() << std::endl;
      return kExitConfig;
    }
    std::string err;
    auto timeout = config_->GetDuration("kafka.startup-timeout");
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!producer_->CheckConnectivity(std::min<std::chrono::milliseconds>(timeout, std::chrono::milliseconds(2000)), &err)) {
      if (std::chrono::steady_clock::now() >= deadline) return Fail(name, kExitStartFailure, "cannot reach Kafka: " + err);
      log::Warn("waiting for Kafka", {{"error", err}});
    }
    health_->Add("kafka", [this] {
      std::string e;
      if (producer_->CheckConnectivity(std::chrono::milliseconds(1000), &e)) return actuator::Health::Up();
      return actuator::Health::Down({{"error", e}});
    });
    if (db_) {
      outbox::RelayOptions ro;
      ro.poll_interval = config_->GetDuration("outbox.poll-interval");
      ro.batch_size = int(config_->GetInt("outbox.batch-size"));
      outbox_ = std::make_unique<outbox::OutboxRelay>(*db_, *producer_, ro, metrics_.get());
    }
  }

  try {
    wire(*this);
  } catch (const config::ConfigError& e) {
    std::cerr << name << ": configuration error: " << e.what() << std::endl;
    return kExitConfig;
  } catch (const std::exception& e) {
    return Fail(name, kExitStartFailure, std::string("wiring failed: ") + e.what());
  }

  actuator::Mount(*router_, *health_, *metrics_, *resilience_,
                  {config_->GetString("service.name"), instance_id_, spec_.version, std::chrono::system_clock::now()});
  http::HttpServer& server = *server_;
  try {
    server.Start();
  } catch (const std::exception& e) {
    return Fail(name, kExitStartFailure, e.what());
  }
  port_ = server.Port();
  if (outbox_) outbox_->Start();
  for (auto& c : consumers_) c->Start();
  if (!consumers_.empty())
    health_->Add("consumers", [this] {
      nlohmann::json groups = nlohmann::json::array();
      bool all = true;
      for (auto& c : consumers_) {
        groups.push_back({{"group", c->options().group_id}, {"joined", c->Joined()}, {"paused", c->Paused()}});
        all = all && c->Joined();
      }
      // not ready until every consumer has joined its group: events would wait
      return all ? actuator::Health::Up({{"consumers", groups}}) : actuator::Health::Down({{"consumers", groups}});
    });
  health_->SetReady(true);
  // Register only now: an instance is in the registry once it can serve.
  if (!config_->GetList("eureka.client.service-url").empty()) {
    eureka_->SetPort(port_);
    eureka_->Start();
    health_->Add("registry", [this] {
      auto last = eureka_->LastContact();
      nlohmann::json d = {{"registered", eureka_->Registered()}, {"fetches", eureka_->Fetches()}};
      if (last) d["lastContact"] = FormatRfc3339(*last);
      bool recent = last && std::chrono::system_clock::now() - *last < std::chrono::minutes(3);
      if (recent) return actuator::Health::Up(d);
      d["error"] = eureka_->LastError();
      return actuator::Health::Down(d);
    }, /*readiness=*/false);  // a registry outage must not take healthy instances out
  }
  log::Info("started", {{"port", port_}, {"instance", instance_id_}, {"engine", config_->GetString("server.engine")},
                        {"threads", config_->GetInt("server.threads")},
                        {"loopPerThread", config_->GetBool("server.loop-per-thread") &&
                                              config_->GetString("server.engine") == "asio"}});

  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  int sig = 0;
  sigwait(&set, &sig);
  log::Info("stopping", {{"signal", sig == SIGTERM ? "SIGTERM" : "SIGINT"}});

  health_->SetReady(false);
  eureka_->Stop();  // cancel the lease first: callers stop choosing this instance
  for (auto& c : consumers_) c->Stop();  // finish the current record, commit, leave the group
  bool drained = server.Shutdown(config_->GetDuration("server.drain-timeout"));
  if (!drained) log::Warn("requests still running at the drain deadline");
  for (auto& fn : on_stop_) fn();
  if (outbox_) {
    outbox_->Stop();
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    try {  // publish what the last requests enqueued
      while (std::chrono::steady_clock::now() < deadline && outbox_->RelayOnce() > 0) {
      }
    } catch (const std::exception& e) {
      log::Warn("outbox not drained at shutdown; it is published after the restart", {{"error", e.what()}});
    }
  }
  if (producer_ && !producer_->Flush(std::chrono::seconds(5))) log::Warn("producer not fully flushed at shutdown");
  consumers_.clear();
  outbox_.reset();
  producer_.reset();
  log::Info("stopped");
  return 0;
}

namespace {
// What every log line written while an event is handled carries.
// An event's ids on every line logged while it is handled; read from the
// envelope only when a line is written.
class EventLogFields : public log::LogContext::Fields {
 public:
  explicit EventLogFields(const events::Envelope& e) : e_(e) {}
  void AddTo(nlohmann::json& line) const override {
    line["orderId"] = e_.order_id();
    line["correlationId"] = e_.correlation_id();
    line["eventId"] = e_.event_id();
    line["eventType"] = e_.event_type();
    if (auto tp = TraceParent::Parse(e_.traceparent())) line["traceId"] = tp->trace_id;
  }

 private:
  const events::Envelope& e_;
};

// The record's event, decoded and validated; PoisonRecord when it is neither.
events::Envelope DecodeEvent(const kafka::InRecord& r) {
  std::string err;
  auto e = events::Decode(r.value, &err);
  if (!e) throw kafka::PoisonRecord(err);
  if (auto invalid = events::Validate(*e)) throw kafka::PoisonRecord("invalid event: " + *invalid);
  return std::move(*e);
}
}  // namespace

void Service::Consume(std::vector<std::string> topics, EventHandler handler) {
  if (!producer_) throw std::logic_error(spec_.name + " does not use Kafka (ServiceSpec.uses_kafka)");
  auto o = kafka::ConsumerOptions::FromConfig(*config_);
  o.group_id = spec_.name;
  o.client_id = spec_.name + "@" + instance_id_;
  o.topics = std::move(topics);
  auto wrapped = [handler = std::move(handler)](const kafka::InRecord& r) {
    events::Envelope e = DecodeEvent(r);
    EventLogFields fields(e);
    log::LogContext lc(fields);
    handler(e, r);
  };
  consumers_.push_back(std::make_unique<kafka::Consumer>(o, std::move(wrapped), producer_.get(), metrics_.get()));
}

void Service::HandleEvents(std::vector<std::string> topics, EventEffect effect, BatchLocks locks) {
  auto guard = std::make_shared<outbox::IdempotencyGuard>(spec_.name);
  auto shared_effect = std::make_shared<EventEffect>(std::move(effect));
  Consume(std::move(topics), [this, guard, shared_effect](const events::Envelope& e, const kafka::InRecord& r) {
    size_t enqueued = 0;
    bool applied = db().Transact([&](db::Session& s) {
      if (!guard->MarkFirstDelivery(s, e.event_id(), &r)) return false;
      (*shared_effect)(s, e);
      enqueued = outbox::EnqueuedIn(s);
      return true;
    });
    if (!applied) log::Info("duplicate event skipped");
    if (enqueued > 0 && outbox_) outbox_->Wake();
  });
  // The events queued for a worker in one transaction: one commit (one
  // fsync) instead of one each. Any failure rolls all of them back and
  // the consumer hands them to the handler above one by one, so a poison or
  // failing event is treated exactly as without batching.
  consumers_.back()->SetBatchHandler([this, guard, shared_effect, locks = std::move(locks)](
                                         const std::vector<const kafka::InRecord*>& run) {
    std::vector<events::Envelope> envelopes;
    envelopes.reserve(run.size());
    for (const auto* r : run) envelopes.push_back(DecodeEvent(*r));  // a poison one fails the batch
    std::vector<outbox::IdempotencyGuard::Delivery> deliveries;
    deliveries.reserve(run.size());
    for (size_t i = 0; i < run.size(); ++i) deliveries.push_back({envelopes[i].event_id(), run[i]});
    size_t enqueued = 0;
    db().Transact([&](db::Session& s) {
      auto first = guard->MarkFirstDeliveries(s, deliveries);
      if (locks) {
        std::vector<const events::Envelope*> fresh;
        for (size_t i = 0; i < run.size(); ++i)
          if (first[i]) fresh.push_back(&envelopes[i]);
        if (fresh.size() > 1) {
          auto shared = locks(s, fresh);
          // One row cannot be taken in two orders: only two or more need it.
          if (shared.values.size() > 1) s.LockInKeyOrder(shared.table, shared.key, shared.values);
        }
      }
      for (size_t i = 0; i < run.size(); ++i) {
        const auto& e = envelopes[i];
        EventLogFields fields(e);
        log::LogContext lc(fields);
        if (first[i]) (*shared_effect)(s, e);
        else log::Info("duplicate event skipped");
      }
      enqueued = outbox::EnqueuedIn(s);
    });
    if (enqueued > 0 && outbox_) outbox_->Wake();
  });
}

void Service::PauseConsumersWhileOpen(resilience::CircuitBreaker& breaker) {
  breaker.AddListener([this, &breaker](const std::string& name, resilience::CircuitState, resilience::CircuitState to) {
    if (to != resilience::CircuitState::kOpen && to != resilience::CircuitState::kForcedOpen) return;
    auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(breaker.RemainingOpenWait());
    if (to == resilience::CircuitState::kForcedOpen) wait = std::chrono::hours(24 * 365);
    log::Warn("breaker open: pausing consumers", {{"breaker", name}, {"resumeInMs", wait.count()}});
    for (auto& c : consumers_) c->PauseFor(wait);
  });
}

}  // namespace op
