#include "runtime/kafka/consumer.h"

#include <librdkafka/rdkafkacpp.h>
#include <pthread.h>

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <functional>
#include <random>
#include <set>

#include "runtime/core/backoff.h"
#include "runtime/kafka/consumer_impl.h"
#include "runtime/kafka/security.h"
#include "runtime/logging/log.h"

namespace op::kafka {

std::optional<std::string> InRecord::Header(const std::string& name) const {
  for (const auto& [k, v] : headers)
    if (k == name) return v;
  return std::nullopt;
}

void ConsumerOptions::DeclareSchema(config::Schema& s) {
  s.Add("kafka.consumer.auto-offset-reset", config::Type::kString, "earliest", "earliest or latest");
  s.Add("kafka.consumer.session-timeout", config::Type::kDuration, "10s", "group session timeout");
  s.Add("kafka.consumer.retry-backoff-initial", config::Type::kDuration, "200ms", "first wait before a failed record is retried");
  s.Add("kafka.consumer.retry-backoff-max", config::Type::kDuration, "10s", "longest wait between retries of a record");
  s.Add("kafka.consumer.fetch-wait-max", config::Type::kDuration, "20ms",
        "longest a broker holds a fetch with no data (fetch.wait.max.ms): the latency floor of each hop when idle");
  s.Add(config::KeySpec{"kafka.consumer.concurrency", config::Type::kInt, "4",
                        "partitions handled in parallel (worker threads, each owning a share of the partitions)", 1, 64});
  s.Add(config::KeySpec{"kafka.consumer.max-queued", config::Type::kInt, "500",
                        "records fetched ahead of the workers at most", 1, 100000});
  s.Add(config::KeySpec{"kafka.consumer.max-batch", config::Type::kInt, "64",
                        "queued records (of a worker's partitions) handled in one transaction at most (1: one per transaction)",
                        1, 1000});
}

ConsumerOptions ConsumerOptions::FromConfig(const config::Config& c) {
  ConsumerOptions o;
  o.bootstrap_servers = c.GetString("kafka.bootstrap.servers");
  if (!c.GetString("kafka.client.id").empty()) o.client_id = c.GetString("kafka.client.id");
  o.auto_offset_reset = c.GetString("kafka.consumer.auto-offset-reset");
  if (o.auto_offset_reset != "earliest" && o.auto_offset_reset != "latest")
    throw config::ConfigError("key 'kafka.consumer.auto-offset-reset' must be earliest or latest: got '" +
                              o.auto_offset_reset + "'");
  o.session_timeout = c.GetDuration("kafka.consumer.session-timeout");
  o.retry_backoff_initial = c.GetDuration("kafka.consumer.retry-backoff-initial");
  o.retry_backoff_max = c.GetDuration("kafka.consumer.retry-backoff-max");
  o.concurrency = int(c.GetInt("kafka.consumer.concurrency"));
  o.extra["fetch.wait.max.ms"] = std::to_string(c.GetDuration("kafka.consumer.fetch-wait-max").count());
  o.max_queued = int(c.GetInt("kafka.consumer.max-queued"));
  o.max_batch = int(c.GetInt("kafka.consumer.max-batch"));
  for (auto& [k, v] : SecurityOptions::FromConfig(c).Properties()) o.extra[k] = v;
  return o;
}

namespace {
void Set(RdKafka::Conf* conf, const std::string& k, const std::string& v) {
  std::string err;
  if (conf->set(k, v, err) != RdKafka::Conf::CONF_OK)
    throw std::runtime_error("kafka consumer: invalid property '" + k + "'='" + v + "': " + err);
}
}  // namespace

Consumer::Consumer(ConsumerOptions options, Handler handler, Producer* dead_letters,
                   metrics::MetricsRegistry* metrics)
    : options_(std::move(options)), handler_(std::move(handler)), dead_letters_(dead_letters),
      impl_(std::make_unique<Impl>()), metrics_(metrics) {
  if (options_.bootstrap_servers.empty())
    throw std::runtime_error("kafka consumer: bootstrap servers are not set (kafka.bootstrap.servers)");
  if (options_.group_id.empty()) throw std::runtime_error("kafka consumer: group id is empty");
  if (options_.topics.empty()) throw std::runtime_error("kafka consumer: no topics to subscribe to");
  impl_->self = this;
  std::unique_ptr<RdKafka::Conf> conf(RdKafka::Conf::create(RdKafka::Conf::CONF_GLOBAL));
  Set(conf.get(), "bootstrap.servers", options_.bootstrap_servers);
  Set(conf.get(), "group.id", options_.group_id);
  Set(conf.get(), "client.id", options_.client_id);
  Set(conf.get(), "enable.auto.commit", "false");
  Set(conf.get(), "enable.auto.offset.store", "false");
  Set(conf.get(), "auto.offset.reset", options_.auto_offset_reset);
  Set(conf.get(), "session.timeout.ms", std::to_string(options_.session_timeout.count()));
  Set(conf.get(), "enable.partition.eof", "false");
  for (const auto& [k, v] : options_.extra) Set(conf.get(), k, v);
  std::string err;
  if (conf->set("rebalance_cb", static_cast<RdKafka::RebalanceCb*>(impl_.get()), err) != RdKafka::Conf::CONF_OK)
    throw std::runtime_error("kafka consumer: " + err);
  impl_->consumer.reset(RdKafka::KafkaConsumer::create(conf.get(), err));
  if (!impl_->consumer) throw std::runtime_error("kafka consumer: " + err);

  if (metrics_) {
    collector_id_ = metrics_->AddCollector([this](metrics::Families& out) {
      auto lag = metrics::Family("kafka_consumergroup_lag", "Records behind the high watermark per partition",
                                 prometheus::MetricType::Gauge);
      for (const auto& l : Lag())
        metrics::AddSample(lag, {{"consumergroup", options_.group_id}, {"topic", l.topic},
                                 {"partition", std::to_string(l.partition)}}, double(l.lag));
      auto records = metrics::Family("kafka_consumer_records_total", "Records handled by result",
                                     prometheus::MetricType::Counter);
      const metrics::Labels g = {{"consumergroup", options_.group_id}};
      auto with = [&](const char* result) {
        auto l = g;
        l["result"] = result;
        return l;
      };
      metrics::AddSample(records, with("processed"), double(processed_.load()));
      metrics::AddSample(records, with("dead_lettered"), double(dead_lettered_.load()));
      metrics::AddSample(records, with("retried"), double(retried_.load()));
      auto batches = metrics::Family("kafka_consumer_batches_total",
                                     "Batch handler calls: committed, or split (threw; handled one by one)",
                                     prometheus::MetricType::Counter);
      metrics::AddSample(batches, with("committed"), double(batches_.load()));
      metrics::AddSample(batches, with("split"), double(batches_split_.load()));
      auto paused = metrics::Family("kafka_consumer_paused", "1 while the consumer is paused",
                                    prometheus::MetricType::Gauge);
      metrics::AddSample(paused, g, pause_applied_.load() ? 1 : 0);
      // Micrometer's name for it: how a group's partitions are split between instances.
      auto assigned = metrics::Family("kafka_consumer_coordinator_assigned_partitions",
                                      "Partitions assigned to this consumer", prometheus::MetricType::Gauge);
      {
        std::lock_guard lock(lag_mu_);
        metrics::AddSample(assigned, g, double(assigned_count_));
      }
      auto handler = metrics::Family("kafka_consumer_handler_seconds", "Time in the record handler (its transaction)",
                                     prometheus::MetricType::Histogram);
      metrics::AddHistogram(handler, g, handler_stats_.Read());
      auto commit = metrics::Family("kafka_consumer_commit_seconds", "Time committing a record's offset",
                                    prometheus::MetricType::Histogram);
      metrics::AddHistogram(commit, g, commit_stats_.Read());
      out.push_back(std::move(lag));
      out.push_back(std::move(records));
      out.push_back(std::move(batches));
      out.push_back(std::move(paused));
      out.push_back(std::move(assigned));
      out.push_back(std::move(handler));
      out.push_back(std::move(commit));
    });
  }
}

Consumer::~Consumer() {
  Stop();
  if (metrics_ && collector_id_ >= 0) metrics_->RemoveCollector(collector_id_);
}


void Consumer::Start() {
  auto e = impl_->consumer->subscribe(options_.topics);
  if (e != RdKafka::ERR_NO_ERROR) throw std::runtime_error("kafka consumer: subscribe failed: " + RdKafka::err2str(e));
  running_ = true;
  for (int i = 0; i < std::max(1, options_.concurrency); ++i) {
    auto w = std::make_unique<Worker>();
    Worker* raw = w.get();
    w->thread = std::thread([this, raw] {
      pthread_setname_np(pthread_self(), "kafka-worker");
      log::LogContext ctx({{"consumerGroup", options_.group_id}});
      WorkerLoop(*raw);
    });
    workers_.push_back(std::move(w));
  }
  thread_ = std::thread([this] {
    pthread_setname_np(pthread_self(), "kafka-consumer");
    log::LogContext ctx({{"consumerGroup", options_.group_id}});
    Loop();
  });
}

void Consumer::Stop() {
  if (!thread_.joinable()) return;
  stop_ = true;
  thread_.join();  // Loop() finished the records in hand and committed them
  for (auto& w : workers_) {
    {
      std::lock_guard lock(w->mu);
      w->stop = true;
    }
    w->cv.notify_all();
  }
  for (auto& w : workers_) w->thread.join();
  workers_.clear();
  impl_->consumer->close();  // leaves the group: partitions move to others at once
  running_ = false;
}

void Consumer::Pause() {
  resume_at_ns_ = 0;
  paused_ = true;
}
void Consumer::Resume() {
  resume_at_ns_ = 0;
  paused_ = false;
}
void Consumer::PauseFor(std::chrono::milliseconds d) {
  resume_at_ns_ = (Clock::now() + d).time_since_epoch().count();
  paused_ = true;
}

std::vector<PartitionLag> Consumer::Lag() const {
  std::lock_guard lock(lag_mu_);
  return lag_;
}

void Consumer::Loop() {
  auto& c = *impl_->consumer;
  auto last_lag = Clock::now();
  while (!stop_.load()) {
    // External pause/resume, applied on this thread (librdkafka calls are ours).
    if (int64_t at = resume_at_ns_.load(); at != 0 && Clock::now().time_since_epoch().count() >= at) {
      resume_at_ns_ = 0;
      paused_ = false;
    }
    bool want_pause = paused_.load();
    if (want_pause != impl_->applied_pause) {
      auto parts = impl_->Parts({impl_->assigned.begin(), impl_->assigned.end()});
      if (want_pause) c.pause(parts);
      else c.resume(parts);
      Impl::Free(parts);
      impl_->applied_pause = want_pause;
      pause_applied_ = want_pause;
      log::Info(want_pause ? "kafka consumer paused" : "kafka consumer resumed");
      if (!want_pause) {  // partitions still in backoff stay paused
        auto again = impl_->Parts([&] {
          std::vector<TpKey> keys;
          for (auto& [k, st] : impl_->retrying)
            if (st.resume_at != Clock::time_point{}) keys.push_back(k);
          return keys;
        }());
        c.pause(again);
        Impl::Free(again);
      }
    }
    // Partitions whose retry backoff is over fetch again.
    auto now = Clock::now();
    for (auto it = impl_->retrying.begin(); it != impl_->retrying.end();) {
      if (now >= it->second.resume_at && it->second.resume_at != Clock::time_point{}) {
        if (!want_pause) {
          auto parts = impl_->Parts({it->first});
          c.resume(parts);
          Impl::Free(parts);
        }
        it->second.resume_at = Clock::time_point{};  // fetching; attempts kept until success
      }
      ++it;
    }

    DrainOutcomes(false);
    if (impl_->inflight_total >= options_.max_queued) {  // the workers are behind: wait for them
      std::unique_lock lock(impl_->outcomes_mu);
      impl_->outcomes_cv.wait_for(lock, std::chrono::milliseconds(50), [&] { return !impl_->outcomes.empty(); });
      continue;
    }
    std::unique_ptr<RdKafka::Message> m(c.consume(10));
    switch (m->err()) {
      case RdKafka::ERR_NO_ERROR:
        Dispatch(*m);
        break;
      case RdKafka::ERR__TIMED_OUT:
      case RdKafka::ERR__PARTITION_EOF:
        break;
      default:
        log::Warn("kafka consumer error", {{"error", m->errstr()}});
    }
    if (Clock::now() - last_lag > std::chrono::seconds(1)) {
      UpdateLag();
      last_lag = Clock::now();
    }
  }
  Quiesce({impl_->assigned.begin(), impl_->assigned.end()});
}

InRecord Consumer::ToRecord(RdKafka::Message& m) {
  InRecord r;
  r.topic = m.topic_name();
  r.partition = m.partition();
  r.offset = m.offset();
  if (m.key()) r.key = *m.key();
  r.value.assign(static_cast<const char*>(m.payload()), m.len());
  r.timestamp_ms = m.timestamp().timestamp;
  if (auto* hs = m.headers())
    for (const auto& h : hs->get_all())
      r.headers.emplace_back(h.key(), std::string(static_cast<const char*>(h.value()), h.value_size()));
  return r;
}

// Transient failure: go back to the record and pause its partition for a backoff.
void Consumer::RetryLater(const std::string& topic, int32_t partition, int64_t offset) {
  TpKey tp{topic, partition};
  auto& st = impl_->retrying[tp];
  st.attempts++;
  // Equal jitter: at least half the backoff, so a failing partition is not
  // retried at once, and never all partitions together.
  auto cap = BackoffPolicy{options_.retry_backoff_initial, options_.retry_backoff_max}.Cap(st.attempts).count();
  auto wait = std::chrono::milliseconds(std::uniform_int_distribution<int64_t>(cap / 2, std::max<int64_t>(cap, 1))(impl_->rng));
  st.resume_at = Clock::now() + wait;
  auto parts = impl_->Parts({tp});
  impl_->consumer->pause(parts);
  Impl::Free(parts);
  std::unique_ptr<RdKafka::TopicPartition> seek_to(RdKafka::TopicPartition::create(topic, partition, offset));
  auto e = impl_->consumer->seek(*seek_to, 5000);
  if (e != RdKafka::ERR_NO_ERROR)
    log::Error("kafka seek failed; the record will be redelivered after a restart or rebalance",
               {{"topic", topic}, {"partition", partition}, {"offset", offset}, {"error", RdKafka::err2str(e)}});
}

void Consumer::UpdateLag() {
  std::vector<PartitionLag> out;
  auto parts = impl_->Parts({impl_->assigned.begin(), impl_->assigned.end()});
  impl_->consumer->position(parts);
  for (auto* p : parts) {
    int64_t low = 0, high = 0;
    if (impl_->consumer->get_watermark_offsets(p->topic(), p->partition(), &low, &high) != RdKafka::ERR_NO_ERROR)
      continue;
    int64_t pos = p->offset() >= 0 ? p->offset() : low;
    out.push_back({p->topic(), p->partition(), pos, high, std::max<int64_t>(0, high - pos)});
  }
  Impl::Free(parts);
  std::lock_guard lock(lag_mu_);
  lag_ = std::move(out);
  assigned_count_ = impl_->assigned.size();
}

}  // namespace op::kafka
