#include "runtime/service/service.h"

#include <pthread.h>
#include <signal.h>

#include "runtime/actuator/actuator.h"
#include "runtime/logging/log.h"
#include "runtime/service/startup.h"
#include "runtime/service/tracer_setup.h"

namespace op {

namespace {
sigset_t StopSignals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  return set;
}
}  // namespace

int Service::Run(ServiceSpec spec, int argc, char** argv, const Wiring& wire) {
  // Signals are taken by sigwait() in this thread: block them before any
  // other thread exists so every thread inherits the mask.
  sigset_t set = StopSignals();
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  signal(SIGPIPE, SIG_IGN);
  Service svc(std::move(spec));
  return svc.Main(argc, argv, wire);
}

Service::~Service() {
  StopAll();  // after a failed start: what did start stops
  tracing::SetGlobal(nullptr);
}

int Service::Main(int argc, char** argv, const Wiring& wire) {
  try {
    DeclareRuntimeSchema(schema_, spec_);
    if (spec_.declare_config) spec_.declare_config(schema_);
    auto args = ParseCommandLine(spec_.name, argc, argv);
    if (args.help) {
      PrintHelp(spec_, schema_);
      return kExitOk;
    }
    Configure(args.config_file);
    if (args.health_check) return CheckHealth(*config_, spec_.name);
    Build();
    log::Info("starting", {{"version", spec_.version}, {"config", args.config_file.empty() ? "(environment)" : args.config_file}});
    if (database_) Launch(*database_);
    if (producer_) Launch(*producer_);
    if (outbox_) Launch(*outbox_);
    try {
      state_->Set(wire(*this));
    } catch (const config::ConfigError&) {
      throw;
    } catch (const std::exception& e) {
      throw StartupError(std::string("wiring failed: ") + e.what());
    }
    Launch(*state_);
    actuator::Mount(router(), *health_, *metrics_, *resilience_,
                    {config_->GetString("service.name"), instance_id_, spec_.version, std::chrono::system_clock::now()});
    Launch(*auth_);
    Launch(*http_);
    Launch(*consumers_);
    Launch(*readiness_);
    Launch(*discovery_);
  } catch (...) {
    return ExitCodeFor(spec_.name, std::current_exception());
  }
  log::Info("started", {{"port", http_->port()}, {"instance", instance_id_}, {"engine", config_->GetString("server.engine")},
                        {"threads", config_->GetInt("server.threads")},
                        {"loopPerThread", config_->GetBool("server.loop-per-thread") &&
                                              config_->GetString("server.engine") == "asio"}});
  WaitForStopSignal();
  StopAll();
  log::Info("stopped");
  return kExitOk;
}

void Service::Configure(const std::string& config_file) {
  std::vector<std::string> warnings;
  config_ = std::make_unique<config::Config>(LoadConfig(schema_, config_file, &warnings));
  instance_id_ = config_->GetString("service.instance-id");
  if (instance_id_.empty()) instance_id_ = Hostname() + ":" + std::to_string(config_->GetInt("server.port"));
  log::Init(config_->GetString("service.name"), instance_id_, *log::ParseLevel(config_->GetString("logging.level")));
  for (const auto& w : warnings) log::Warn("environment: " + w);
}

// Every component from the configuration; nothing connects yet.
void Service::Build() {
  const auto& c = *config_;
  metrics_ = std::make_unique<metrics::MetricsRegistry>();
  // Micrometer's management.metrics.tags.application: every series says
  // which service it is from, whatever the scraper's relabelling.
  metrics_->SetCommonLabels({{"application", c.GetString("service.name")}});
  resilience_ = std::make_unique<resilience::ResilienceRegistry>(config_.get());
  metrics_->AddCollector([r = resilience_.get()](metrics::Families& out) { r->Collect(out); });
  metrics_->AddCollector(CollectProcessMetrics);
  health_ = std::make_unique<actuator::HealthRegistry>();
  http_ = std::make_unique<HttpComponent>(c, spec_.nonblocking_handlers, *metrics_, spec_.name);
  tracer_ = MakeTracer(c, http_->client(), *metrics_);
  tracing::SetGlobal(tracer_.get());
  discovery_ = std::make_unique<DiscoveryComponent>(c, instance_id_, uint16_t(c.GetInt("server.port")), spec_.version,
                                                    *http_, *resilience_, *health_);
  auth_ = std::make_unique<AuthComponent>(c, *http_, *discovery_);
  if (spec_.uses_database)
    database_ = std::make_unique<DatabaseComponent>(c, spec_.migrations, *metrics_, *health_, spec_.name);
  if (spec_.uses_kafka) producer_ = std::make_unique<ProducerComponent>(c, *metrics_, *health_, spec_.name);
  if (database_ && producer_) outbox_ = std::make_unique<OutboxComponent>(c, *database_, *producer_, *metrics_);
  state_ = std::make_unique<StateComponent>();
  consumers_ = std::make_unique<ConsumersComponent>(*health_);
  readiness_ = std::make_unique<ReadinessComponent>(*health_);
}

void Service::Launch(Component& c) {
  c.Start();
  started_.push_back(&c);
}

void Service::WaitForStopSignal() {
  sigset_t set = StopSignals();
  int sig = 0;
  sigwait(&set, &sig);
  log::Info("stopping", {{"signal", sig == SIGTERM ? "SIGTERM" : "SIGINT"}});
}

void Service::StopAll() {
  const bool stopping = !started_.empty();
  while (!started_.empty()) {
    Component* c = started_.back();
    started_.pop_back();
    try {
      c->Stop();
    } catch (const std::exception& e) {
      log::Error("component failed to stop", {{"component", c->Name()}, {"error", e.what()}});
    }
  }
  if (stopping && tracer_) tracer_->Flush();  // the last requests' spans
}

db::ConnectionPool& Service::db() {
  if (!database_) throw std::logic_error(spec_.name + " does not use a database (ServiceSpec.uses_database)");
  return database_->pool();
}
idempotency::KeyStore& Service::idempotency() {
  if (!database_) throw std::logic_error(spec_.name + " does not use a database (Idempotency-Key store)");
  return database_->idempotency();
}
kafka::Producer& Service::producer() {
  if (!producer_) throw std::logic_error(spec_.name + " does not use Kafka (ServiceSpec.uses_kafka)");
  return producer_->producer();
}
outbox::OutboxRelay& Service::outbox() {
  if (!outbox_) throw std::logic_error(spec_.name + " needs both a database and Kafka for the outbox");
  return outbox_->relay();
}

}  // namespace op
