#include "runtime/tracing/tracing.h"

#include <pthread.h>

#include <random>

#include "runtime/logging/log.h"

namespace op::tracing {
namespace {

std::atomic<Tracer*> g_tracer{nullptr};
thread_local const TraceParent* t_current = nullptr;

const char* KindName(SpanKind k) {
  switch (k) {
    case SpanKind::kServer: return "SERVER";
    case SpanKind::kClient: return "CLIENT";
    case SpanKind::kProducer: return "PRODUCER";
    case SpanKind::kConsumer: return "CONSUMER";
    case SpanKind::kInternal: return "";
  }
  return "";
}

}  // namespace

Tracer* Global() { return g_tracer.load(std::memory_order_acquire); }
void SetGlobal(Tracer* tracer) { g_tracer.store(tracer, std::memory_order_release); }

const TraceParent* Current() { return t_current; }

ScopedContext::ScopedContext(TraceParent tp) : tp_(std::move(tp)), previous_(t_current) { t_current = &tp_; }
ScopedContext::~ScopedContext() { t_current = previous_; }

bool Sampled(const TraceParent& tp) {
  if (tp.flags.size() != 2) return false;
  const char low = tp.flags[1];
  const int v = low >= '0' && low <= '9' ? low - '0' : low >= 'a' && low <= 'f' ? low - 'a' + 10 : 0;
  return (v & 1) != 0;
}

int64_t NowMicros() {
  return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

nlohmann::json ToZipkinJson(const Span& s, const std::string& service) {
  nlohmann::json j = {{"traceId", s.trace_id}, {"id", s.id}, {"name", s.name}, {"timestamp", s.timestamp_us},
                      {"duration", std::max<int64_t>(1, s.duration_us)}, {"localEndpoint", {{"serviceName", service}}}};
  if (!s.parent_id.empty()) j["parentId"] = s.parent_id;
  if (const char* kind = KindName(s.kind); *kind) j["kind"] = kind;
  if (!s.remote_service.empty()) j["remoteEndpoint"] = {{"serviceName", s.remote_service}};
  if (!s.tags.empty()) j["tags"] = s.tags;
  return j;
}

Tracer::Tracer(TracerOptions options, Sender sender, metrics::MetricsRegistry* metrics)
    : options_(std::move(options)), sender_(std::move(sender)), metrics_(metrics) {
  if (metrics_) {
    // Brave's reporter metrics, by their Prometheus names.
    collector_id_ = metrics_->AddCollector([this](metrics::Families& out) {
      auto spans = metrics::Family("zipkin_reporter_spans_total", "Spans sent to Zipkin", prometheus::MetricType::Counter);
      metrics::AddSample(spans, {}, double(sent_.load()));
      auto dropped = metrics::Family("zipkin_reporter_spans_dropped_total",
                                     "Spans dropped: the queue was full or Zipkin did not take them", prometheus::MetricType::Counter);
      metrics::AddSample(dropped, {}, double(dropped_.load()));
      auto queued = metrics::Family("zipkin_reporter_queued_spans", "Spans waiting to be sent", prometheus::MetricType::Gauge);
      {
        std::lock_guard lock(mu_);
        metrics::AddSample(queued, {}, double(queue_.size()));
      }
      out.push_back(std::move(spans));
      out.push_back(std::move(dropped));
      out.push_back(std::move(queued));
    });
  }
  if (!options_.endpoint.empty() && sender_) thread_ = std::thread([this] { Run(); });
}

Tracer::~Tracer() {
  if (thread_.joinable()) {
    {
      std::lock_guard lock(mu_);
      stop_ = true;
    }
    wake_.notify_all();
    thread_.join();
  }
  if (metrics_ && collector_id_ >= 0) metrics_->RemoveCollector(collector_id_);
}

TraceParent Tracer::NewTrace() {
  TraceParent tp = TraceParent::New();
  thread_local std::mt19937_64 rng{std::random_device{}()};
  const bool sampled = options_.sampling_probability >= 1.0 ||
                       (options_.sampling_probability > 0 &&
                        std::uniform_real_distribution<double>(0, 1)(rng) < options_.sampling_probability);
  tp.flags = sampled ? "01" : "00";
  return tp;
}

void Tracer::Report(Span span) {
  if (!thread_.joinable()) return;
  {
    std::lock_guard lock(mu_);
    if (stop_ || queue_.size() >= options_.max_queued_spans) {  // stopping: the last drain may be over
      dropped_.fetch_add(1);
      return;
    }
    queue_.push_back(std::move(span));
    if (queue_.size() < options_.batch_size) return;
  }
  wake_.notify_one();
}

void Tracer::Flush() {
  if (!thread_.joinable()) return;
  std::unique_lock lock(mu_);
  const uint64_t ticket = ++flush_requested_;
  wake_.notify_one();
  flushed_.wait_for(lock, options_.send_timeout * 2, [&] { return flush_done_ >= ticket || stop_; });
}

void Tracer::Run() {
  pthread_setname_np(pthread_self(), "zipkin");
  std::unique_lock lock(mu_);
  while (true) {
    wake_.wait_for(lock, options_.flush_interval, [&] {
      return stop_ || queue_.size() >= options_.batch_size || flush_requested_ > flush_done_;
    });
    const uint64_t ticket = flush_requested_;
    while (!queue_.empty()) {
      std::vector<Span> batch;
      while (!queue_.empty() && batch.size() < options_.batch_size) {
        batch.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
      lock.unlock();
      const bool ok = SendBatch(batch);
      lock.lock();
      if (!ok && stop_) {  // stopping and Zipkin is not taking them: do not wait batch by batch
        dropped_.fetch_add(queue_.size());
        queue_.clear();
      }
    }
    flush_done_ = ticket;
    flushed_.notify_all();
    if (stop_) return;
  }
}

// One POST; a batch Zipkin does not take is dropped (counted), never retried
// into a growing backlog.
bool Tracer::SendBatch(std::vector<Span>& batch) {
  nlohmann::json body = nlohmann::json::array();
  for (const auto& s : batch) body.push_back(ToZipkinJson(s, options_.service));
  std::string error;
  if (sender_(options_.endpoint, body.dump(), &error)) {
    sent_.fetch_add(batch.size());
    return true;
  }
  dropped_.fetch_add(batch.size());
  if (failed_batches_.fetch_add(1) % 100 == 0)  // said now and then, not per batch
    log::Warn("zipkin: spans not accepted; dropped", {{"endpoint", options_.endpoint}, {"spans", batch.size()}, {"error", error}});
  return false;
}

}  // namespace op::tracing
