#include "runtime/kafka/consumer.h"

#include <librdkafka/rdkafkacpp.h>
#include <pthread.h>

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <functional>
#include <random>
#include <set>

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
                        "partitions handled in parallel (worker threads); 1 handles on the consumer thread", 1, 64});
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
  return o;
}

namespace {
using Clock = std::chrono::steady_clock;
using TpKey = std::pair<std::string, int32_t>;

struct RetryState {
  int attempts = 0;
  Clock::time_point resume_at;
};
}  // namespace

struct Consumer::Impl : public RdKafka::RebalanceCb {
  Consumer* self = nullptr;
  std::unique_ptr<RdKafka::KafkaConsumer> consumer;
  std::set<TpKey> assigned;
  std::map<TpKey, RetryState> retrying;  // partitions paused for a backoff
  bool applied_pause = false;
  std::mt19937_64 rng{std::random_device{}()};

  // Concurrency > 1. `epoch` is a partition's generation: bumped (under
  // epoch_mu) when a record of it fails or it is revoked, so queued records of
  // the old generation are dropped instead of handled out of order.
  std::mutex epoch_mu;
  std::map<TpKey, uint64_t> epoch;
  std::set<TpKey> blocked;  // a record failed; records fetched until the seek-back are dropped
  struct Outcome {
    TpKey tp;
    int64_t offset;
    Consumer::Outcome outcome;
  };
  std::mutex outcomes_mu;
  std::condition_variable outcomes_cv;
  std::deque<Outcome> outcomes;
  std::map<TpKey, int64_t> inflight;      // consumer thread: dispatched, outcome not yet drained
  int64_t inflight_total = 0;
  std::map<TpKey, int64_t> to_commit;     // consumer thread: next offset to commit

  void rebalance_cb(RdKafka::KafkaConsumer* c, RdKafka::ErrorCode err,
                    std::vector<RdKafka::TopicPartition*>& parts) override {
    if (err == RdKafka::ERR__ASSIGN_PARTITIONS) {
      c->assign(parts);
      for (auto* p : parts) assigned.insert({p->topic(), p->partition()});
      if (self->paused_.load()) c->pause(parts);
      self->joined_ = true;
      log::Info("kafka partitions assigned", {{"group", self->options_.group_id}, {"count", parts.size()}});
    } else {
      std::vector<TpKey> revoked;
      for (auto* p : parts) revoked.emplace_back(p->topic(), p->partition());
      self->Quiesce(revoked);  // finish and commit what the workers hold of them
      for (auto* p : parts) {
        assigned.erase({p->topic(), p->partition()});
        retrying.erase({p->topic(), p->partition()});
      }
      c->unassign();
      log::Info("kafka partitions revoked", {{"group", self->options_.group_id}, {"count", parts.size()}});
    }
  }

  std::vector<RdKafka::TopicPartition*> Parts(const std::vector<TpKey>& keys) {
    std::vector<RdKafka::TopicPartition*> v;
    for (auto& [t, p] : keys) v.push_back(RdKafka::TopicPartition::create(t, p));
    return v;
  }
  static void Free(std::vector<RdKafka::TopicPartition*>& v) { RdKafka::TopicPartition::destroy(v); }
};

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
      metrics::AddSample(paused, g, paused_.load() ? 1 : 0);
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
      out.push_back(std::move(handler));
      out.push_back(std::move(commit));
    });
  }
}

Consumer::~Consumer() {
  Stop();
  if (metrics_ && collector_id_ >= 0) metrics_->RemoveCollector(collector_id_);
}

struct Consumer::Worker {
  std::thread thread;
  std::mutex mu;
  std::condition_variable cv;
  std::deque<std::pair<InRecord, uint64_t>> queue;  // record, its partition's epoch
  bool stop = false;
};

void Consumer::Start() {
  auto e = impl_->consumer->subscribe(options_.topics);
  if (e != RdKafka::ERR_NO_ERROR) throw std::runtime_error("kafka consumer: subscribe failed: " + RdKafka::err2str(e));
  running_ = true;
  if (options_.concurrency > 1) {
    for (int i = 0; i < options_.concurrency; ++i) {
      auto w = std::make_unique<Worker>();
      Worker* raw = w.get();
      w->thread = std::thread([this, raw] {
        pthread_setname_np(pthread_self(), "kafka-worker");
        log::LogContext ctx({{"consumerGroup", options_.group_id}});
        WorkerLoop(*raw);
      });
      workers_.push_back(std::move(w));
    }
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

    if (!workers_.empty()) {
      DrainOutcomes(false);
      if (impl_->inflight_total >= options_.max_queued) {  // the workers are behind: wait for them
        std::unique_lock lock(impl_->outcomes_mu);
        impl_->outcomes_cv.wait_for(lock, std::chrono::milliseconds(50), [&] { return !impl_->outcomes.empty(); });
        continue;
      }
    }
    std::unique_ptr<RdKafka::Message> m(c.consume(workers_.empty() ? 100 : 10));
    switch (m->err()) {
      case RdKafka::ERR_NO_ERROR:
        if (workers_.empty()) Process(*m);
        else Dispatch(*m);
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
  if (!workers_.empty()) Quiesce({impl_->assigned.begin(), impl_->assigned.end()});
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

Consumer::Outcome Consumer::Handle(const InRecord& r) {
  try {
    auto t0 = Clock::now();
    handler_(r);
    handler_stats_.Record(Clock::now() - t0);
    processed_.fetch_add(1);
    return Outcome::kDone;
  } catch (const PoisonRecord& e) {
    if (DeadLetter(r, e.what(), "PoisonRecord")) {
      dead_lettered_.fetch_add(1);
      return Outcome::kDeadLettered;
    }
  } catch (const std::exception& e) {
    log::Warn("record failed, will retry", {{"topic", r.topic}, {"partition", r.partition},
                                            {"offset", r.offset}, {"error", e.what()}});
  }
  retried_.fetch_add(1);
  return Outcome::kRetry;
}

void Consumer::Process(RdKafka::Message& m) {
  InRecord r = ToRecord(m);
  if (Handle(r) == Outcome::kRetry) {
    RetryLater(r.topic, r.partition, r.offset);
    return;
  }
  auto t0 = Clock::now();
  Commit(r);
  commit_stats_.Record(Clock::now() - t0);
  impl_->retrying.erase({r.topic, r.partition});
}

// Transient failure: go back to the record and pause its partition for a backoff.
void Consumer::RetryLater(const std::string& topic, int32_t partition, int64_t offset) {
  TpKey tp{topic, partition};
  auto& st = impl_->retrying[tp];
  st.attempts++;
  auto cap = std::min<int64_t>(options_.retry_backoff_max.count(),
                               options_.retry_backoff_initial.count() << std::min(st.attempts - 1, 20));
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

// Concurrency > 1 -------------------------------------------------------------
//
// A partition whose record failed is "blocked" from the moment its worker sees
// the failure until this thread has sought back to that record: records of it
// fetched meanwhile are dropped here, and those already queued are dropped by
// the worker (their epoch is old). Nothing after a failed record is handled
// before it, and nothing is skipped.

void Consumer::Dispatch(RdKafka::Message& m) {
  InRecord r = ToRecord(m);
  TpKey tp{r.topic, r.partition};
  uint64_t epoch;
  {
    std::lock_guard lock(impl_->epoch_mu);
    if (impl_->blocked.count(tp)) return;  // fetched before the seek-back: it comes again
    epoch = impl_->epoch[tp];
  }
  size_t h = std::hash<std::string>{}(r.topic) * 31 + size_t(r.partition);
  Worker& w = *workers_[h % workers_.size()];
  impl_->inflight[tp]++;
  impl_->inflight_total++;
  {
    std::lock_guard lock(w.mu);
    w.queue.emplace_back(std::move(r), epoch);
  }
  w.cv.notify_one();
}

void Consumer::WorkerLoop(Worker& w) {
  const size_t max_batch = batch_handler_ ? size_t(std::max(1, options_.max_batch)) : 1;
  for (;;) {
    // What is queued, up to max_batch records, whatever their partitions: each
    // partition's records stay in their order, and under load a transaction
    // carries several orders' events instead of one.
    std::vector<std::pair<InRecord, uint64_t>> items;
    {
      std::unique_lock lock(w.mu);
      w.cv.wait(lock, [&] { return w.stop || !w.queue.empty(); });
      if (w.queue.empty()) return;
      do {
        items.push_back(std::move(w.queue.front()));
        w.queue.pop_front();
      } while (items.size() < max_batch && !w.queue.empty());
    }
    // Records of an old generation of their partition (one failed before them,
    // or it was revoked) are dropped: they come again after the seek-back.
    std::vector<Outcome> outcomes(items.size(), Outcome::kDropped);
    std::vector<const InRecord*> run;
    std::vector<size_t> at;  // run[j] is items[at[j]]
    {
      std::lock_guard lock(impl_->epoch_mu);
      for (size_t i = 0; i < items.size(); ++i)
        if (impl_->epoch[{items[i].first.topic, items[i].first.partition}] == items[i].second) {
          run.push_back(&items[i].first);
          at.push_back(i);
        }
    }
    if (!run.empty()) {
      auto got = HandleRun(run);
      for (size_t j = 0; j < run.size(); ++j) outcomes[at[j]] = got[j];
    }
    {
      std::lock_guard lock(impl_->epoch_mu);
      for (size_t i = 0; i < items.size(); ++i)
        if (outcomes[i] == Outcome::kRetry) {
          TpKey tp{items[i].first.topic, items[i].first.partition};
          impl_->epoch[tp]++;          // what is queued behind it is dropped
          impl_->blocked.insert(tp);   // what is fetched behind it too, until the seek-back
        }
    }
    {
      std::lock_guard lock(impl_->outcomes_mu);
      for (size_t i = 0; i < items.size(); ++i)
        impl_->outcomes.push_back({{items[i].first.topic, items[i].first.partition}, items[i].first.offset, outcomes[i]});
    }
    impl_->outcomes_cv.notify_all();
  }
}

std::vector<Consumer::Outcome> Consumer::HandleRun(const std::vector<const InRecord*>& run) {
  if (run.size() > 1) {
    try {
      auto t0 = Clock::now();
      batch_handler_(run);
      auto each = (Clock::now() - t0) / run.size();
      for (size_t i = 0; i < run.size(); ++i) handler_stats_.Record(each);
      processed_.fetch_add(run.size());
      batches_.fetch_add(1);
      return std::vector<Outcome>(run.size(), Outcome::kDone);
    } catch (const std::exception& e) {
      // Nothing of the batch took effect: one by one, with the usual rules.
      batches_split_.fetch_add(1);
      log::Debug("batch failed, handling its records one by one", {{"records", run.size()}, {"error", e.what()}});
    }
  }
  std::vector<Outcome> out(run.size(), Outcome::kDropped);
  std::set<TpKey> failed;  // partitions with a record to retry: the rest of theirs waits behind it
  for (size_t i = 0; i < run.size(); ++i) {
    TpKey tp{run[i]->topic, run[i]->partition};
    if (failed.count(tp)) continue;  // dropped, fetched again after the seek-back
    out[i] = Handle(*run[i]);
    if (out[i] == Outcome::kRetry) failed.insert(tp);
  }
  return out;
}

void Consumer::DrainOutcomes(bool commit_sync) {
  std::deque<Impl::Outcome> got;
  {
    std::lock_guard lock(impl_->outcomes_mu);
    got.swap(impl_->outcomes);
  }
  for (const auto& o : got) {
    impl_->inflight[o.tp]--;
    impl_->inflight_total--;
    switch (o.outcome) {
      case Outcome::kDone:
      case Outcome::kDeadLettered: {
        auto& next = impl_->to_commit[o.tp];
        next = std::max(next, o.offset + 1);
        impl_->retrying.erase(o.tp);
        break;
      }
      case Outcome::kRetry:
        if (impl_->assigned.count(o.tp)) RetryLater(o.tp.first, o.tp.second, o.offset);
        {
          std::lock_guard lock(impl_->epoch_mu);
          impl_->blocked.erase(o.tp);
        }
        break;
      case Outcome::kDropped:
        break;
    }
  }
  if (impl_->to_commit.empty()) return;
  std::vector<RdKafka::TopicPartition*> parts;
  for (auto& [tp, next] : impl_->to_commit) parts.push_back(RdKafka::TopicPartition::create(tp.first, tp.second, next));
  auto t0 = Clock::now();
  auto e = commit_sync ? impl_->consumer->commitSync(parts) : impl_->consumer->commitAsync(parts);
  commit_stats_.Record(Clock::now() - t0);
  RdKafka::TopicPartition::destroy(parts);
  if (e != RdKafka::ERR_NO_ERROR)  // the effects are guarded: a redelivery is a no-op
    log::Warn("offset commit failed; records may be redelivered", {{"error", RdKafka::err2str(e)}});
  impl_->to_commit.clear();
}

// Drops what is queued for `partitions`, waits for the records being handled,
// and commits synchronously: called on revoke and at stop.
void Consumer::Quiesce(const std::vector<std::pair<std::string, int32_t>>& partitions) {
  if (workers_.empty()) return;
  {
    std::lock_guard lock(impl_->epoch_mu);
    for (auto& tp : partitions) impl_->epoch[tp]++;
  }
  for (auto& tp : partitions) impl_->assigned.erase(tp);  // no seek-back on a partition going away
  auto busy = [&] {
    for (auto& tp : partitions)
      if (impl_->inflight[tp] > 0) return true;
    return false;
  };
  while (busy()) {
    {
      std::unique_lock lock(impl_->outcomes_mu);
      impl_->outcomes_cv.wait_for(lock, std::chrono::milliseconds(50), [&] { return !impl_->outcomes.empty(); });
    }
    DrainOutcomes(false);
  }
  DrainOutcomes(true);
  std::lock_guard lock(impl_->epoch_mu);
  for (auto& tp : partitions) impl_->blocked.erase(tp);
}

bool Consumer::DeadLetter(const InRecord& r, const std::string& error, const std::string& kind) {
  if (!dead_letters_) {
    log::Error("poison record and no dead-letter producer: retrying", {{"topic", r.topic}, {"offset", r.offset}});
    return false;
  }
  OutRecord out{DeadLetterTopic(r.topic), r.key, r.value, r.headers};
  out.headers.emplace_back(kDltOriginalTopic, r.topic);
  out.headers.emplace_back(kDltOriginalPartition, std::to_string(r.partition));
  out.headers.emplace_back(kDltOriginalOffset, std::to_string(r.offset));
  out.headers.emplace_back(kDltOriginalTimestamp, std::to_string(r.timestamp_ms));
  out.headers.emplace_back(kDltOriginalGroup, options_.group_id);
  out.headers.emplace_back(kDltExceptionMessage, error);
  out.headers.emplace_back(kDltExceptionClass, kind);
  auto rep = dead_letters_->SendSync(std::move(out));
  if (!rep.ok) {
    log::Error("dead-letter publish failed: retrying the record", {{"topic", r.topic}, {"offset", r.offset}, {"error", rep.error}});
    return false;
  }
  log::Warn("record dead-lettered", {{"topic", r.topic}, {"partition", r.partition}, {"offset", r.offset},
                                     {"dltOffset", rep.offset}, {"error", error}});
  return true;
}

void Consumer::Commit(const InRecord& r) {
  std::vector<RdKafka::TopicPartition*> parts{RdKafka::TopicPartition::create(r.topic, r.partition, r.offset + 1)};
  auto e = impl_->consumer->commitSync(parts);
  RdKafka::TopicPartition::destroy(parts);
  if (e != RdKafka::ERR_NO_ERROR)  // the effect is guarded: a redelivery is a no-op
    log::Warn("offset commit failed; the record may be redelivered",
              {{"topic", r.topic}, {"partition", r.partition}, {"offset", r.offset}, {"error", RdKafka::err2str(e)}});
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
}

}  // namespace op::kafka
