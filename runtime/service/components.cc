#include "runtime/service/components.h"

#include <thread>

#include "runtime/core/backoff.h"
#include "runtime/core/time_format.h"
#include "runtime/logging/log.h"
#include "runtime/idempotency/schema.h"
#include "runtime/outbox/schema.h"

namespace op {

DatabaseComponent::DatabaseComponent(const config::Config& config, std::vector<db::Migration> migrations,
                                     metrics::MetricsRegistry& metrics, actuator::HealthRegistry& health, std::string name)
    : options_(db::DbOptions::FromConfig(config)),
      startup_timeout_(config.GetDuration("mysql.startup-timeout")),
      purge_interval_(config.GetDuration("idempotency.purge-interval")),
      migrations_(outbox::Migrations()),
      metrics_(metrics),
      health_(health),
      name_(std::move(name)) {
  for (auto& m : idempotency::Migrations()) migrations_.push_back(std::move(m));
  migrations_.insert(migrations_.end(), migrations.begin(), migrations.end());
}

void DatabaseComponent::Start() {
  // The database may start after the service (compose, the stack's restarts):
  // wait for it, with backoff, up to mysql.startup-timeout.
  Backoff backoff({std::chrono::milliseconds(100), std::chrono::milliseconds(2000), 2.0, false});
  const auto deadline = std::chrono::steady_clock::now() + startup_timeout_;
  std::string last_error;
  while (true) {
    try {
      if (!pool_) pool_ = std::make_unique<db::ConnectionPool>(options_, &metrics_, name_);
      if (pool_->Ping(&last_error)) break;
    } catch (const std::exception& e) {
      last_error = e.what();  // the database itself is missing: created once the server answers
    }
    auto wait = backoff.Next();
    if (std::chrono::steady_clock::now() + wait > deadline) throw StartupError("cannot reach the database: " + last_error);
    log::Warn("waiting for the database", {{"error", last_error}});
    std::this_thread::sleep_for(wait);
  }
  try {
    auto r = db::Migrate(*pool_, migrations_);
    log::Info("database ready", {{"database", pool_->Describe()}, {"applied", r.applied}, {"version", r.current_version}});
  } catch (const std::exception& e) {
    throw StartupError(std::string("database migration failed: ") + e.what());
  }
  idempotency_ = std::make_unique<idempotency::KeyStore>(*pool_);
  idempotency_->StartPurging(purge_interval_);
  health_.Add("db", [pool = pool_.get()] {
    std::string err;
    auto stats = pool->GetStats();
    nlohmann::json details = {{"database", "MySQL"}, {"url", pool->Describe()}, {"active", stats.active}, {"idle", stats.idle}};
    if (pool->Ping(&err)) return actuator::Health::Up(details);
    details["error"] = err;
    return actuator::Health::Down(details);
  });
}

void DatabaseComponent::Stop() {
  if (idempotency_) idempotency_->StopPurging();
}

namespace {
kafka::ProducerOptions ProducerOptionsOf(const config::Config& config, const std::string& name) {
  auto o = kafka::ProducerOptions::FromConfig(config);
  if (o.client_id == "orderplatform") o.client_id = name;
  return o;
}
}  // namespace

ProducerComponent::ProducerComponent(const config::Config& config, metrics::MetricsRegistry& metrics,
                                     actuator::HealthRegistry& health, const std::string& name)
    : startup_timeout_(config.GetDuration("kafka.startup-timeout")), health_(health) {
  try {
    // config::ConfigError (a bad key or a property librdkafka refuses) passes through
    producer_ = std::make_unique<kafka::Producer>(ProducerOptionsOf(config, name), &metrics);
  } catch (const config::ConfigError&) {
    throw;
  } catch (const std::exception& e) {
    throw StartupError(std::string("cannot create the Kafka producer: ") + e.what());
  }
}

void ProducerComponent::Start() {
  std::string err;
  const auto deadline = std::chrono::steady_clock::now() + startup_timeout_;
  const auto probe = std::min<std::chrono::milliseconds>(startup_timeout_, std::chrono::milliseconds(2000));
  while (!producer_->CheckConnectivity(probe, &err)) {  // each check waits up to `probe`: no sleep needed
    if (producer_->AuthenticationFailed() || std::chrono::steady_clock::now() >= deadline)
      throw StartupError("cannot reach Kafka: " + err);
    log::Warn("waiting for Kafka", {{"error", err}});
  }
  health_.Add("kafka", [p = producer_.get()] {
    std::string e;
    if (p->CheckConnectivity(std::chrono::milliseconds(1000), &e)) return actuator::Health::Up();
    return actuator::Health::Down({{"error", e}});
  });
}

void ProducerComponent::Stop() {
  if (!producer_->Flush(std::chrono::seconds(5))) log::Warn("producer not fully flushed at shutdown");
}

OutboxComponent::OutboxComponent(const config::Config& config, DatabaseComponent& db, ProducerComponent& producer,
                                 metrics::MetricsRegistry& metrics)
    : db_(db), producer_(producer), metrics_(metrics) {
  options_.poll_interval = config.GetDuration("outbox.poll-interval");
  options_.batch_size = int(config.GetInt("outbox.batch-size"));
}

void OutboxComponent::Start() {
  relay_ = std::make_unique<outbox::OutboxRelay>(db_.pool(), producer_.producer(), options_, &metrics_);
  relay_->Start();
}

void OutboxComponent::Stop() {
  relay_->Stop();
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  try {  // publish what the last requests enqueued
    while (std::chrono::steady_clock::now() < deadline && relay_->RelayOnce() > 0) {
    }
  } catch (const std::exception& e) {
    log::Warn("outbox not drained at shutdown; it is published after the restart", {{"error", e.what()}});
  }
}

namespace {
http::ClientOptions ClientOptionsOf(const config::Config& c, const std::string& name) {
  http::ClientOptions o;
  o.timeout = c.GetDuration("http-client.timeout");
  o.connect_timeout = c.GetDuration("http-client.connect-timeout");
  o.user_agent = name;
  return o;
}

http::ServerOptions ServerOptionsOf(const config::Config& c, bool nonblocking_handlers, const std::string& name) {
  auto engine = http::ParseServerEngine(c.GetString("server.engine"));
  if (!engine)
    throw config::ConfigError("key 'server.engine' must be pistache or asio: got '" + c.GetString("server.engine") + "'");
  if (c.GetBool("server.loop-per-thread") && !nonblocking_handlers)
    throw config::ConfigError("key 'server.loop-per-thread' cannot be true for " + name +
                              ": its handlers block (database calls), a blocked loop would stall every connection on it");
  http::ServerOptions so;
  so.host = c.GetString("server.host");
  so.port = uint16_t(c.GetInt("server.port"));
  so.engine = *engine;
  so.threads = int(c.GetInt("server.threads"));
  so.max_body_bytes = size_t(c.GetInt("server.max-body-bytes"));
  so.access_log = c.GetBool("server.access-log");
  so.loop_per_thread = c.GetBool("server.loop-per-thread");
  so.max_connections = size_t(c.GetInt("server.max-connections"));
  so.tls_certificate_file = c.GetString("server.ssl.certificate");
  so.tls_private_key_file = c.GetString("server.ssl.certificate-private-key");
  if (so.tls_certificate_file.empty() != so.tls_private_key_file.empty())
    throw config::ConfigError("keys 'server.ssl.certificate' and 'server.ssl.certificate-private-key' go together: "
                              "HTTPS needs the certificate and its key");
  if (so.Tls() && so.engine != http::ServerEngineKind::kAsio)
    throw config::ConfigError("key 'server.ssl.certificate' needs server.engine=asio (the Pistache engine serves plain HTTP)");
  return so;
}
}  // namespace

HttpComponent::HttpComponent(const config::Config& config, bool nonblocking_handlers, metrics::MetricsRegistry& metrics,
                             const std::string& name)
    : drain_timeout_(config.GetDuration("server.drain-timeout")),
      port_(uint16_t(config.GetInt("server.port"))),
      router_(std::make_shared<http::Router>()) {
  auto so = ServerOptionsOf(config, nonblocking_handlers, name);
  client_ = std::make_unique<http::HttpClient>(ClientOptionsOf(config, name));
  server_ = std::make_unique<http::HttpServer>(so, router_, &metrics);
  async_client_ = std::make_unique<http::AsyncClient>(server_->loops(), ClientOptionsOf(config, name), server_->OneThreadPerLoop());
}

void HttpComponent::Start() {
  try {
    server_->Start();
  } catch (const std::exception& e) {
    throw StartupError(e.what());  // "cannot listen on ..."
  }
  port_ = server_->Port();
}

void HttpComponent::Stop() {
  if (!server_->Shutdown(drain_timeout_)) log::Warn("requests still running at the drain deadline");
}

kafka::Consumer& ConsumersComponent::Add(std::unique_ptr<kafka::Consumer> consumer) {
  consumers_.push_back(std::move(consumer));
  return *consumers_.back();
}

void ConsumersComponent::Start() {
  for (auto& c : consumers_) c->Start();
  if (consumers_.empty()) return;
  health_.Add("consumers", [this] {
    nlohmann::json groups = nlohmann::json::array();
    bool all = true;
    for (auto& c : consumers_) {
      groups.push_back({{"group", c->options().group_id}, {"joined", c->Joined()}, {"paused", c->Paused()}});
      all = all && c->Joined();
    }
    // not ready until every consumer has joined its group: events would wait
    return all ? actuator::Health::Up({{"consumers", groups}}) : actuator::Health::Down({{"consumers", groups}});
  });
}

void ConsumersComponent::Stop() {
  for (auto& c : consumers_) c->Stop();
}

void ConsumersComponent::PauseFor(std::chrono::milliseconds d) {
  for (auto& c : consumers_) c->PauseFor(d);
}

DiscoveryComponent::DiscoveryComponent(const config::Config& config, const std::string& instance_id, uint16_t port,
                                       const std::string& version, HttpComponent& http,
                                       resilience::ResilienceRegistry& resilience, actuator::HealthRegistry& health)
    : registers_(!config.GetList("eureka.client.service-url").empty()), http_(http), health_(health) {
  static_discovery_ = std::make_unique<discovery::StaticDiscovery>(config);
  auto eo = discovery::EurekaClientOptions::FromConfig(config);
  eo.app = config.GetString("service.name");
  eo.instance_id = instance_id;
  eo.port = port;
  eo.metadata = {{"version", version}};
  eureka_ = std::make_unique<discovery::EurekaClient>(eo, http.client());
  discovery_ = std::make_unique<discovery::CompositeDiscovery>(*static_discovery_, *eureka_);
  load_balancer_ = std::make_unique<discovery::LoadBalancer>(*discovery_, &resilience);
  service_client_ = std::make_unique<discovery::ServiceClient>(*load_balancer_, http.client(), resilience);
}

void DiscoveryComponent::Start() {
  if (!registers_) return;
  eureka_->SetPort(http_.port());  // the bound port (server.port may be 0)
  eureka_->Start();
  health_.Add("registry", [e = eureka_.get()] {
    auto last = e->LastContact();
    nlohmann::json d = {{"registered", e->Registered()}, {"fetches", e->Fetches()}};
    if (last) d["lastContact"] = FormatRfc3339(*last);
    bool recent = last && std::chrono::system_clock::now() - *last < std::chrono::minutes(3);
    if (recent) return actuator::Health::Up(d);
    d["error"] = e->LastError();
    return actuator::Health::Down(d);
  }, /*readiness=*/false);  // a registry outage must not take healthy instances out
}

void DiscoveryComponent::Stop() { eureka_->Stop(); }  // callers stop choosing this instance

}  // namespace op
