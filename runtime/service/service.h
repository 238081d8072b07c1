#pragma once
// The one object a service's main builds. Service::Run parses the command
// line and the configuration, builds the runtime's components
// (components.h), starts them in order around the service's wiring, waits
// for SIGTERM/SIGINT and stops them in reverse:
//
//   start: database → Kafka producer → outbox relay → the service's wiring
//          (routes, event handlers, its state) → HTTP server → consumers →
//          readiness UP → registry lease
//   stop:  lease cancelled → readiness DOWN → consumers finish and commit →
//          HTTP drains → the service's state destroyed → outbox publishes
//          what is left → producer flushes → exit 0
//
// Exit codes (startup.h): 0 after a clean stop; 1 when start-up cannot
// continue (a dependency is unreachable, the port is taken, a migration
// fails); 2 for a usage or configuration error (the message names the key).
//
// Threads: main() blocks in Run() waiting for a signal and runs every start
// and stop; HTTP handlers run on the server's threads, event handlers on the
// consumers' workers, the outbox relay and the Kafka producer each on their
// own thread.
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "events/envelope.h"
#include "runtime/idempotency/event_guard.h"
#include "runtime/service/components.h"
#include "runtime/service/event_batch.h"
#include "runtime/tracing/tracing.h"

namespace op {

struct ServiceSpec {
  std::string name;           // "order-service": registry app name and consumer group
  uint16_t default_port = 8080;
  std::string server_engine = "pistache";  // default of server.engine
  int server_threads = 4;                   // default of server.threads; 0: one per CPU
  // Every handler is asynchronous or quick (never blocks): allows
  // server.loop-per-thread (asio: each thread runs an event loop of its own).
  bool nonblocking_handlers = false;
  bool loop_per_thread = false;  // default of server.loop-per-thread (needs nonblocking_handlers)
  std::string version = "0.1.0";
  bool uses_database = false;
  std::vector<db::Migration> migrations;  // the service's own (versions 1..9999)
  bool uses_kafka = false;
  std::function<void(config::Schema&)> declare_config;  // the service's own keys
};

class Service;
// A service's wiring: adds its routes and event handlers and returns what
// they use (nullptr when they need nothing of their own). The runtime owns
// the result and destroys it once no handler can run any more.
using Wiring = std::function<std::unique_ptr<ServiceState>(Service&)>;

class Service {
 public:
  // Runs the whole lifecycle; returns the process exit code.
  static int Run(ServiceSpec spec, int argc, char** argv, const Wiring& wire);
  ~Service();

  const ServiceSpec& spec() const { return spec_; }
  const config::Config& config() const { return *config_; }
  const std::string& instance_id() const { return instance_id_; }
  metrics::MetricsRegistry& metrics() { return *metrics_; }
  resilience::ResilienceRegistry& resilience() { return *resilience_; }
  actuator::HealthRegistry& health() { return *health_; }
  http::Router& router() { return http_->router(); }
  http::HttpClient& http_client() { return http_->client(); }
  // The same client settings without blocking the caller, on the HTTP
  // server's event loop: for asynchronous handlers (Router::AddAsync).
  http::AsyncClient& async_http() { return http_->async_client(); }
  // Other applications by name: load-balanced, breaker-guarded, retried.
  discovery::ServiceClient& services() { return discovery_->services(); }
  discovery::Discovery& discovery() { return discovery_->discovery(); }
  // Access tokens: the verifier behind every route's Access (http/access.h).
  AuthComponent& auth() { return *auth_; }

  // Parts a service asks for in its spec. Called from the wiring only: a
  // service that did not ask fails its start ("wiring failed: ...").
  db::ConnectionPool& db();
  idempotency::KeyStore& idempotency();
  kafka::Producer& producer();
  outbox::OutboxRelay& outbox();

  // Events of `topics`, applied in one transaction per batch (the records a
  // consumer worker has queued, up to kafka.consumer.max-batch: one commit
  // instead of one each) through a fresh EventBatch per attempt
  // (event_batch.h), guarded by processed_events: each event's effect is
  // applied at most once (per service), and whatever it enqueues with
  // outbox::EnqueueEvent commits with it. A batch that fails is rolled back
  // and its records go one by one, each in a batch of its own.
  void HandleEventBatches(std::vector<std::string> topics, MakeEventBatch make);
  // The same for an effect with no batch state of its own.
  using EventEffect = std::function<void(db::Session&, const events::Envelope&)>;
  void HandleEvents(std::vector<std::string> topics, EventEffect effect);
  // Lower level: decoded, validated envelopes without the guard.
  using EventHandler = std::function<void(const events::Envelope&, const kafka::InRecord&)>;
  void Consume(std::vector<std::string> topics, EventHandler handler);
  // While `breaker` is OPEN the consumers pause; they resume for trial calls
  // when its open wait is over.
  void PauseConsumersWhileOpen(resilience::CircuitBreaker& breaker);

 private:
  explicit Service(ServiceSpec spec) : spec_(std::move(spec)) {}
  int Main(int argc, char** argv, const Wiring& wire);
  void Configure(const std::string& config_file);
  void Build();
  void Launch(Component& c);
  void WaitForStopSignal();
  void StopAll();

  ServiceSpec spec_;
  config::Schema schema_;
  std::unique_ptr<config::Config> config_;
  std::string instance_id_;
  std::unique_ptr<metrics::MetricsRegistry> metrics_;
  std::unique_ptr<resilience::ResilienceRegistry> resilience_;
  std::unique_ptr<actuator::HealthRegistry> health_;
  // Components, declared in the order they are built (and so destroyed in
  // the reverse); started and stopped in the order components.h gives.
  std::unique_ptr<HttpComponent> http_;
  std::unique_ptr<tracing::Tracer> tracer_;  // null without tracing.zipkin.endpoint; sends through http_'s client
  std::unique_ptr<DiscoveryComponent> discovery_;
  std::unique_ptr<AuthComponent> auth_;
  std::unique_ptr<DatabaseComponent> database_;
  std::unique_ptr<ProducerComponent> producer_;
  std::unique_ptr<OutboxComponent> outbox_;
  std::unique_ptr<StateComponent> state_;
  std::unique_ptr<ConsumersComponent> consumers_;
  std::unique_ptr<ReadinessComponent> readiness_;
  std::vector<Component*> started_;  // in start order
};

}  // namespace op
