#pragma once
// The one object a service's main builds. It owns, in start order:
//   config (YAML file from --config + environment) → logging → metrics and
//   resilience → database pool (waits for the database, applies migrations)
//   → Kafka producer (checks a broker answers) → the service's wiring
//   (routes, event handlers) → HTTP server → outbox relay and consumers;
// and stops them in reverse on SIGTERM/SIGINT: readiness goes DOWN, consumers
// finish their current record and commit, the HTTP server drains in-flight
// requests, the outbox relay publishes what is left, the producer flushes.
//
// Exit codes: 0 after a clean stop; 1 when start-up cannot continue (a
// dependency is unreachable, the port is taken, a migration fails); 2 for a
// usage or configuration error (the message names the key).
//
// Threads: main() blocks in Run() waiting for a signal; HTTP handlers run on
// the server's threads, event handlers on one consumer thread per Consume(),
// the outbox relay and the Kafka producer each on their own thread.
#include <functional>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "events/envelope.h"
#include "runtime/actuator/health.h"
#include "runtime/config/config.h"
#include "runtime/db/db.h"
#include "runtime/db/migrations.h"
#include "runtime/discovery/discovery.h"
#include "runtime/discovery/eureka_client.h"
#include "runtime/discovery/service_client.h"
#include "runtime/http/async_client.h"
#include "runtime/http/client.h"
#include "runtime/http/router.h"
#include "runtime/http/server.h"
#include "runtime/kafka/consumer.h"
#include "runtime/kafka/producer.h"
#include "runtime/metrics/metrics.h"
#include "runtime/outbox/idempotency_guard.h"
#include "runtime/outbox/idempotency_key.h"
#include "runtime/outbox/outbox.h"
#include "runtime/resilience/registry.h"

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

class Service {
 public:
  // Runs the whole lifecycle; returns the process exit code.
  static int Run(ServiceSpec spec, int argc, char** argv, const std::function<void(Service&)>& wire);

  const ServiceSpec& spec() const { return spec_; }
  const config::Config& config() const { return *config_; }
  const std::string& instance_id() const { return instance_id_; }
  uint16_t port() const { return port_; }
  metrics::MetricsRegistry& metrics() { return *metrics_; }
  resilience::ResilienceRegistry& resilience() { return *resilience_; }
  actuator::HealthRegistry& health() { return *health_; }
  http::Router& router() { return *router_; }
  http::HttpClient& http_client() { return *http_client_; }
  // The same client settings without blocking the caller, on the HTTP
  // server's event loop: for asynchronous handlers (Router::AddAsync).
  http::AsyncClient& async_http() { return *async_http_; }
  db::ConnectionPool& db();
  kafka::Producer& producer();
  outbox::OutboxRelay& outbox();
  outbox::IdempotencyStore& idempotency();
  // Other applications by name: load-balanced, breaker-guarded, retried.
  discovery::ServiceClient& services() { return *service_client_; }
  discovery::Discovery& discovery() { return *discovery_; }

  // Event effect run inside one transaction guarded by processed_events:
  // called at most once per event (per service), and whatever it enqueues
  // with outbox::EnqueueEvent commits with it. Throw kafka::PoisonRecord for
  // an event that can never be applied; any other exception retries it.
  using EventEffect = std::function<void(db::Session&, const events::Envelope&)>;
  // Optional: under load the events queued for a consumer worker are applied
  // in one transaction (kafka.consumer.max-batch), and two workers' batches
  // may then want the same shared rows (a product, an account) in opposite
  // orders and deadlock; the retry re-runs the whole batch. `locks` names the
  // shared rows a batch's events (those seen for the first time) will update;
  // when there are two or more, they are locked first in the batch's
  // transaction, in key order (Session::LockInKeyOrder): a batch then waits
  // for another instead. `locks` may also take the locks itself, reading in
  // the same statement what its events need (kept with Session::Local for
  // the effects that follow), and return no rows.
  struct SharedRows {
    std::string table, key;       // from code, never from input
    std::set<std::string> values;  // the rows' keys
  };
  using BatchLocks = std::function<SharedRows(db::Session&, const std::vector<const events::Envelope*>&)>;
  void HandleEvents(std::vector<std::string> topics, EventEffect effect, BatchLocks locks = {});
  // Lower level: decoded, validated envelopes without the guard.
  using EventHandler = std::function<void(const events::Envelope&, const kafka::InRecord&)>;
  void Consume(std::vector<std::string> topics, EventHandler handler);
  // While `breaker` is OPEN the consumers pause; they resume for trial calls
  // when its open wait is over.
  void PauseConsumersWhileOpen(resilience::CircuitBreaker& breaker);

  // Runs `fn` when the service stops: after the consumers stopped and the
  // HTTP server drained, before the database closes; in the order added.
  void OnStop(std::function<void()> fn) { on_stop_.push_back(std::move(fn)); }

 private:
  explicit Service(ServiceSpec spec) : spec_(std::move(spec)) {}
  int Start(int argc, char** argv, const std::function<void(Service&)>& wire);

  ServiceSpec spec_;
  config::Schema schema_;
  std::unique_ptr<config::Config> config_;
  std::string instance_id_;
  uint16_t port_ = 0;
  std::unique_ptr<metrics::MetricsRegistry> metrics_;
  std::unique_ptr<resilience::ResilienceRegistry> resilience_;
  std::unique_ptr<actuator::HealthRegistry> health_;
  std::shared_ptr<http::Router> router_;
  std::unique_ptr<http::HttpClient> http_client_;
  std::unique_ptr<http::HttpServer> server_;
  std::unique_ptr<http::AsyncClient> async_http_;  // on server_'s loop: destroyed before it
  std::unique_ptr<discovery::Discovery> static_discovery_;
  std::unique_ptr<discovery::EurekaClient> eureka_;
  std::unique_ptr<discovery::Discovery> discovery_;
  std::unique_ptr<discovery::LoadBalancer> load_balancer_;
  std::unique_ptr<discovery::ServiceClient> service_client_;
  std::unique_ptr<db::ConnectionPool> db_;
  std::unique_ptr<outbox::IdempotencyStore> idempotency_;
  std::unique_ptr<kafka::Producer> producer_;
  std::unique_ptr<outbox::OutboxRelay> outbox_;
  std::vector<std::unique_ptr<kafka::Consumer>> consumers_;
  std::vector<std::function<void()>> on_stop_;
};

}  // namespace op
