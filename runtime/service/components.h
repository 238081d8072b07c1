#pragma once
// The runtime's components, in the order a service starts them:
//
//   DatabaseComponent   waits for the database, applies migrations
//   ProducerComponent   waits for a Kafka broker               (stop: flush)
//   OutboxComponent     the outbox relay                       (stop: publish what is left)
//   StateComponent      what the service's wiring made         (stop: destroyed)
//   HttpComponent       the HTTP server                        (stop: drain in-flight requests)
//   ConsumersComponent  the Kafka consumers                    (stop: finish, commit, leave)
//   ReadinessComponent  /actuator/health/readiness UP          (stop: DOWN)
//   RegistrationComponent the registry lease                   (stop: cancel it)
//
// and AuthComponent, which verifies the access tokens of requests (keys
// fetched on the first, then refreshed in the background) and gives this
// program's own calls their client_credentials token.
//
// so on SIGTERM callers first stop choosing the instance, then consumers and
// requests finish, then the service's own threads end, then the outbox and
// the producer publish what those left. docs/architecture.md explains why.
#include <memory>
#include <string>
#include <vector>

#include "runtime/actuator/health.h"
#include "runtime/auth/client_tokens.h"
#include "runtime/auth/token_verifier.h"
#include "runtime/core/periodic_task.h"
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
#include "runtime/idempotency/idempotency_key.h"
#include "runtime/outbox/outbox.h"
#include "runtime/resilience/registry.h"
#include "runtime/service/component.h"

namespace op {

// What a service's wiring made for its handlers (a context, threads of its
// own). The runtime owns it and destroys it after the consumers stopped and
// the HTTP server drained, while the database and the outbox still work.
class ServiceState {
 public:
  virtual ~ServiceState() = default;
};

class DatabaseComponent final : public Component {
 public:
  DatabaseComponent(const config::Config& config, std::vector<db::Migration> migrations,
                    metrics::MetricsRegistry& metrics, actuator::HealthRegistry& health, std::string name);
  const char* Name() const override { return "database"; }
  void Start() override;  // StartupError when unreachable until mysql.startup-timeout, or a migration fails
  void Stop() override;
  db::ConnectionPool& pool() { return *pool_; }
  idempotency::KeyStore& idempotency() { return *idempotency_; }

 private:
  db::DbOptions options_;
  std::chrono::milliseconds startup_timeout_;
  std::chrono::milliseconds purge_interval_;
  std::vector<db::Migration> migrations_;
  metrics::MetricsRegistry& metrics_;
  actuator::HealthRegistry& health_;
  std::string name_;
  std::unique_ptr<db::ConnectionPool> pool_;
  std::unique_ptr<idempotency::KeyStore> idempotency_;
};

class ProducerComponent final : public Component {
 public:
  ProducerComponent(const config::Config& config, metrics::MetricsRegistry& metrics, actuator::HealthRegistry& health,
                    const std::string& name);
  const char* Name() const override { return "kafka-producer"; }
  void Start() override;  // StartupError when no broker answers within kafka.startup-timeout
  void Stop() override;   // flush
  kafka::Producer& producer() { return *producer_; }

 private:
  std::chrono::milliseconds startup_timeout_;
  actuator::HealthRegistry& health_;
  std::unique_ptr<kafka::Producer> producer_;
};

class OutboxComponent final : public Component {
 public:
  OutboxComponent(const config::Config& config, DatabaseComponent& db, ProducerComponent& producer,
                  metrics::MetricsRegistry& metrics);
  const char* Name() const override { return "outbox-relay"; }
  void Start() override;
  void Stop() override;  // publishes what the last requests and events enqueued (up to 5 s)
  outbox::OutboxRelay& relay() { return *relay_; }

 private:
  outbox::RelayOptions options_;
  DatabaseComponent& db_;
  ProducerComponent& producer_;
  metrics::MetricsRegistry& metrics_;
  std::unique_ptr<outbox::OutboxRelay> relay_;
};

class StateComponent final : public Component {
 public:
  const char* Name() const override { return "service-state"; }
  void Set(std::unique_ptr<ServiceState> state) { state_ = std::move(state); }
  void Stop() override { state_.reset(); }

 private:
  std::unique_ptr<ServiceState> state_;
};

// The HTTP server (built now so asynchronous handlers can use its event
// loops while the service wires them; listening from Start()) and the
// clients that share its settings.
class HttpComponent final : public Component {
 public:
  HttpComponent(const config::Config& config, bool nonblocking_handlers, metrics::MetricsRegistry& metrics,
                const std::string& name);
  const char* Name() const override { return "http-server"; }
  void Start() override;  // StartupError when it cannot listen
  void Stop() override;   // drains in-flight requests (server.drain-timeout)
  http::Router& router() { return *router_; }
  http::HttpClient& client() { return *client_; }
  http::AsyncClient& async_client() { return *async_client_; }
  uint16_t port() const { return port_; }

 private:
  std::chrono::milliseconds drain_timeout_;
  uint16_t port_;
  std::shared_ptr<http::Router> router_;
  std::unique_ptr<http::HttpClient> client_;
  std::unique_ptr<http::HttpServer> server_;
  std::unique_ptr<http::AsyncClient> async_client_;  // on server_'s loops: destroyed before it
};

class ConsumersComponent final : public Component {
 public:
  explicit ConsumersComponent(actuator::HealthRegistry& health) : health_(health) {}
  const char* Name() const override { return "kafka-consumers"; }
  kafka::Consumer& Add(std::unique_ptr<kafka::Consumer> consumer);
  kafka::Consumer& last() { return *consumers_.back(); }
  void Start() override;
  void Stop() override;  // each finishes its record, commits, leaves its group
  void PauseFor(std::chrono::milliseconds d);

 private:
  actuator::HealthRegistry& health_;
  std::vector<std::unique_ptr<kafka::Consumer>> consumers_;
};

class ReadinessComponent final : public Component {
 public:
  explicit ReadinessComponent(actuator::HealthRegistry& health) : health_(health) {}
  const char* Name() const override { return "readiness"; }
  void Start() override { health_.SetReady(true); }
  void Stop() override { health_.SetReady(false); }

 private:
  actuator::HealthRegistry& health_;
};

// Discovery of other services (static config and the registry), load
// balancing and the resilient ServiceClient; Start() registers this instance
// (an instance is in the registry once it can serve), Stop() cancels.
class DiscoveryComponent final : public Component {
 public:
  DiscoveryComponent(const config::Config& config, const std::string& instance_id, uint16_t port,
                     const std::string& version, HttpComponent& http, resilience::ResilienceRegistry& resilience,
                     actuator::HealthRegistry& health);
  const char* Name() const override { return "registration"; }
  void Start() override;
  void Stop() override;
  discovery::Discovery& discovery() { return *discovery_; }
  discovery::ServiceClient& services() { return *service_client_; }

 private:
  bool registers_;
  HttpComponent& http_;
  actuator::HealthRegistry& health_;
  std::unique_ptr<discovery::StaticDiscovery> static_discovery_;
  std::unique_ptr<discovery::EurekaClient> eureka_;
  std::unique_ptr<discovery::Discovery> discovery_;
  std::unique_ptr<discovery::LoadBalancer> load_balancer_;
  std::unique_ptr<discovery::ServiceClient> service_client_;
};

// Identity (DESIGN section 10): verifies the bearer tokens of requests to
// routes that are not public, with the identity service's keys, found
// through discovery (auth.identity-service) and its discovery document
// (issuer and jwks_uri), and, with auth.client-id and auth.client-secret,
// gives ServiceClient::Call this program's own client_credentials token.
class AuthComponent final : public Component {
 public:
  AuthComponent(const config::Config& config, HttpComponent& http, DiscoveryComponent& discovery);
  const char* Name() const override { return "auth"; }
  static void DeclareSchema(config::Schema& s);
  void Start() override;  // the keys' refresh
  void Stop() override;
  auth::TokenVerifier& verifier() { return *verifier_; }
  // The identity service verifies with its own keys instead (called while
  // wiring, before any request).
  void UseKeySource(auth::TokenVerifier::FetchKeys fetch);

 private:
  std::optional<auth::TokenVerifier::KeySource> FetchThroughDiscovery(std::string* error);
  bool IdentityKnown(std::string* error);

  auth::VerifierOptions options_;
  std::string identity_app_;
  DiscoveryComponent& discovery_;
  std::unique_ptr<auth::TokenVerifier> verifier_;
  std::unique_ptr<auth::ClientTokens> client_tokens_;
  std::chrono::milliseconds refresh_interval_;
  std::unique_ptr<PeriodicTask> refresh_;
};

}  // namespace op
