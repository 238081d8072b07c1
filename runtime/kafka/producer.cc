#include "runtime/kafka/producer.h"

#include <librdkafka/rdkafkacpp.h>
#include <pthread.h>

#include "runtime/kafka/security.h"
#include "runtime/logging/log.h"

namespace op::kafka {

void ProducerOptions::DeclareSchema(config::Schema& s) {
  SecurityOptions::DeclareSchema(s);
  s.Add("kafka.bootstrap.servers", config::Type::kString, std::nullopt, "Kafka bootstrap servers (host:port,...)");
  s.Add("kafka.client.id", config::Type::kString, "", "client.id (default: the service name)");
  s.Add(config::KeySpec{"kafka.producer.linger-ms", config::Type::kInt, "5", "producer batching delay", 0, 60000});
  s.Add("kafka.producer.delivery-timeout", config::Type::kDuration, "30s", "give up delivering a record after");
}

ProducerOptions ProducerOptions::FromConfig(const config::Config& c) {
  ProducerOptions o;
  o.bootstrap_servers = c.GetString("kafka.bootstrap.servers");
  if (!c.GetString("kafka.client.id").empty()) o.client_id = c.GetString("kafka.client.id");
  o.linger_ms = int(c.GetInt("kafka.producer.linger-ms"));
  o.delivery_timeout = c.GetDuration("kafka.producer.delivery-timeout");
  for (auto& [k, v] : SecurityOptions::FromConfig(c).Properties()) o.extra[k] = v;
  return o;
}

// librdkafka's client-level errors. An authentication failure is remembered
// (CheckConnectivity then says which settings to look at). Losing every
// broker is logged once per outage (librdkafka reports the transition, not
// each retry); connection-level retries stay quiet, as readiness already says.
struct Producer::ErrorHandler : public RdKafka::EventCb {
  std::atomic<bool>* auth_failed;
  std::string bootstrap;
  void event_cb(RdKafka::Event& e) override {
    if (e.type() != RdKafka::Event::EVENT_ERROR) return;
    if (e.err() == RdKafka::ERR__AUTHENTICATION) {
      *auth_failed = true;
    } else if (e.err() == RdKafka::ERR__ALL_BROKERS_DOWN) {
      log::Error("Kafka unreachable: every broker is down; records wait in the outbox and readiness is DOWN",
                 {{"bootstrap", bootstrap}, {"error", e.str()}});
    } else if (e.fatal()) {
      log::Error("Kafka producer fatal error", {{"bootstrap", bootstrap}, {"error", e.str()}});
    }
  }
};

struct Producer::DeliveryHandler : public RdKafka::DeliveryReportCb {
  std::atomic<int64_t>* in_flight;
  prometheus::Family<prometheus::Counter>* sent;
  void dr_cb(RdKafka::Message& m) override {
    std::unique_ptr<Callback> cb(static_cast<Callback*>(m.msg_opaque()));
    DeliveryReport r;
    r.ok = m.err() == RdKafka::ERR_NO_ERROR;
    r.partition = m.partition();
    r.offset = m.offset();
    if (!r.ok) r.error = m.topic_name() + ": " + m.errstr();
    if (sent) sent->Add({{"topic", m.topic_name()}, {"result", r.ok ? "ok" : "error"}}).Increment();
    in_flight->fetch_sub(1);
    if (cb && *cb) (*cb)(r);
  }
};

namespace {
void Set(RdKafka::Conf* conf, const std::string& k, const std::string& v) {
  std::string err;
  if (conf->set(k, v, err) != RdKafka::Conf::CONF_OK)
    throw config::ConfigError("kafka producer: invalid property '" + k + "'='" + v + "': " + err);
}
}  // namespace

Producer::Producer(ProducerOptions options, metrics::MetricsRegistry* metrics)
    : options_(std::move(options)), delivery_(std::make_unique<DeliveryHandler>()) {
  if (options_.bootstrap_servers.empty())
    throw config::ConfigError("kafka producer: bootstrap servers are not set (kafka.bootstrap.servers)");
  delivery_->in_flight = &in_flight_;
  if (metrics)
    sent_ = delivery_->sent = &prometheus::BuildCounter()
                                   .Name("kafka_producer_records_total")
                                   .Help("Records acknowledged by the broker (or failed)")
                                   .Register(metrics->Registry());
  else
    delivery_->sent = nullptr;
  std::unique_ptr<RdKafka::Conf> conf(RdKafka::Conf::create(RdKafka::Conf::CONF_GLOBAL));
  Set(conf.get(), "bootstrap.servers", options_.bootstrap_servers);
  Set(conf.get(), "client.id", options_.client_id);
  Set(conf.get(), "enable.idempotence", "true");
  Set(conf.get(), "acks", "all");
  Set(conf.get(), "linger.ms", std::to_string(options_.linger_ms));
  Set(conf.get(), "delivery.timeout.ms", std::to_string(options_.delivery_timeout.count()));
  Set(conf.get(), "partitioner", "murmur2_random");  // the Java client's key hashing
  for (const auto& [k, v] : options_.extra) Set(conf.get(), k, v);
  std::string err;
  if (conf->set("dr_cb", static_cast<RdKafka::DeliveryReportCb*>(delivery_.get()), err) != RdKafka::Conf::CONF_OK)
    throw std::runtime_error("kafka producer: " + err);
  errors_ = std::make_unique<ErrorHandler>();
  errors_->auth_failed = &auth_failed_;
  errors_->bootstrap = options_.bootstrap_servers;
  if (conf->set("event_cb", static_cast<RdKafka::EventCb*>(errors_.get()), err) != RdKafka::Conf::CONF_OK)
    throw std::runtime_error("kafka producer: " + err);
  producer_.reset(RdKafka::Producer::create(conf.get(), err));
  if (!producer_) throw std::runtime_error("kafka producer: " + err);
  poller_ = std::thread([this] {
    pthread_setname_np(pthread_self(), "kafka-producer");
    while (!stop_.load()) producer_->poll(100);
  });
}

Producer::~Producer() {
  // Up to 10 s for what is still queued, unless a flush has already found
  // the brokers gone (a stop must fit an orchestrator's grace period).
  Flush(flush_failed_.load() ? std::chrono::milliseconds(0) : std::chrono::milliseconds(10000));
  stop_ = true;
  poller_.join();
  // What could not be delivered (no broker) is purged and its callbacks run
  // here, while the handlers librdkafka calls still exist: destroying the
  // handle with records queued would call them after they are gone.
  producer_->purge(RdKafka::Producer::PURGE_QUEUE | RdKafka::Producer::PURGE_INFLIGHT);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(1);
  do producer_->poll(10);
  while (in_flight_.load() > 0 && std::chrono::steady_clock::now() < deadline);
  producer_.reset();
}

void Producer::Send(OutRecord r, Callback cb) {
  RdKafka::Headers* headers = RdKafka::Headers::create();
  for (const auto& [k, v] : r.headers) headers->add(k, v.data(), v.size());
  auto* opaque = new Callback(std::move(cb));
  in_flight_.fetch_add(1);
  RdKafka::ErrorCode e = producer_->produce(r.topic, RdKafka::Topic::PARTITION_UA, RdKafka::Producer::RK_MSG_COPY,
                                            const_cast<char*>(r.value.data()), r.value.size(), r.key.data(),
                                            r.key.size(), 0, headers, opaque);
  if (e != RdKafka::ERR_NO_ERROR) {
    delete headers;  // ownership passes to librdkafka only on success
    in_flight_.fetch_sub(1);
    std::unique_ptr<Callback> owned(opaque);
    DeliveryReport rep;
    rep.error = r.topic + ": " + RdKafka::err2str(e);
    if (*owned) (*owned)(rep);
  }
}

std::future<DeliveryReport> Producer::Send(OutRecord r) {
  auto p = std::make_shared<std::promise<DeliveryReport>>();
  auto f = p->get_future();
  Send(std::move(r), [p](const DeliveryReport& rep) { p->set_value(rep); });
  return f;
}

DeliveryReport Producer::SendSync(OutRecord r) { return Send(std::move(r)).get(); }

bool Producer::Flush(std::chrono::milliseconds timeout) {
  const bool ok = producer_->flush(int(timeout.count())) == RdKafka::ERR_NO_ERROR;
  if (!ok) flush_failed_ = true;
  return ok;
}

}  // namespace op::kafka

namespace op::kafka {
bool Producer::CheckConnectivity(std::chrono::milliseconds timeout, std::string* error) {
  RdKafka::Metadata* md = nullptr;
  auto e = producer_->metadata(true, nullptr, &md, int(timeout.count()));
  std::unique_ptr<RdKafka::Metadata> owned(md);
  if (e == RdKafka::ERR_NO_ERROR && md && !md->brokers()->empty()) return true;
  if (error && auth_failed_)
    *error = "the Kafka brokers at " + options_.bootstrap_servers +
             " refused the SASL credentials: check kafka.sasl.username, kafka.sasl.password and kafka.sasl.mechanism";
  else if (error) *error = "no Kafka broker at " + options_.bootstrap_servers + " answered within " +
                      std::to_string(timeout.count()) + " ms (" + RdKafka::err2str(e) + ")";
  return false;
}
}  // namespace op::kafka
