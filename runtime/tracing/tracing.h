#pragma once
// Distributed tracing in Zipkin's model, over the W3C trace context the
// platform already carries (traceparent on HTTP and in every event): a span
// is one unit of work (an HTTP request served or made, a record produced or
// consumed, a transaction) with its trace id, its own id and its parent's.
// Finished spans go to a Reporter, which sends them to Zipkin's v2 API as
// JSON, batched, from a bounded queue: a Zipkin that is down or slow never
// blocks a request or an event; its spans are dropped and counted.
//
// Sampling is decided once per trace, where it starts (the traceparent's
// flags: 01 sampled, 00 not), and followed everywhere else, so a trace is
// whole or absent.
//
// Threads: Tracer is thread-safe; the reporter owns one thread ("zipkin")
// that sends batches. Global() is set once at start-up, before any span.
#include <nlohmann/json.hpp>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "runtime/core/trace_context.h"
#include "runtime/metrics/metrics.h"

namespace op::tracing {

enum class SpanKind { kServer, kClient, kProducer, kConsumer, kInternal };

struct Span {
  std::string trace_id, id, parent_id;  // hex; parent empty for a root span
  std::string name;                     // lower-case, as Brave names them: "get /api/orders/{id}"
  SpanKind kind = SpanKind::kInternal;
  int64_t timestamp_us = 0;             // epoch microseconds
  int64_t duration_us = 0;
  std::string remote_service;           // a client's or producer's peer, when known
  std::map<std::string, std::string> tags;
};

// Zipkin v2 JSON of one span (an element of POST /api/v2/spans).
nlohmann::json ToZipkinJson(const Span& span, const std::string& service);

struct TracerOptions {
  std::string service;                // localEndpoint.serviceName
  std::string endpoint;               // http://zipkin:9411/api/v2/spans, no credential in it; empty: spans are not sent
  double sampling_probability = 1.0;  // of the traces that start here
  size_t max_queued_spans = 10000;    // beyond: dropped, counted
  size_t batch_size = 200;
  std::chrono::milliseconds flush_interval{1000};
  std::chrono::milliseconds send_timeout{2000};
};

// Posts one JSON array of spans to options.endpoint; false (and why) when it
// was not taken. The service runtime gives it its HTTP client; tracing itself
// depends on no transport, so the HTTP server can make spans too.
using Sender = std::function<bool(const std::string& endpoint, const std::string& body, std::string* error)>;

class Tracer {
 public:
  Tracer(TracerOptions options, Sender sender, metrics::MetricsRegistry* metrics = nullptr);
  ~Tracer();  // sends what is queued (up to send_timeout), then stops
  Tracer(const Tracer&) = delete;
  Tracer& operator=(const Tracer&) = delete;

  // A new trace's root context, sampled at the configured probability.
  TraceParent NewTrace();
  // Queues a finished span of a sampled trace; never blocks.
  void Report(Span span);
  // Sends what is queued now and waits for it (tests, shutdown).
  void Flush();
  const TracerOptions& options() const { return options_; }
  uint64_t Dropped() const { return dropped_.load(); }
  uint64_t Sent() const { return sent_.load(); }

 private:
  void Run();
  bool SendBatch(std::vector<Span>& batch);

  const TracerOptions options_;
  const Sender sender_;
  std::mutex mu_;
  std::condition_variable wake_, flushed_;
  std::deque<Span> queue_;
  bool stop_ = false;
  uint64_t flush_requested_ = 0, flush_done_ = 0;
  std::atomic<uint64_t> dropped_{0}, sent_{0}, failed_batches_{0};
  metrics::MetricsRegistry* metrics_;
  int collector_id_ = -1;
  std::thread thread_;
};

// The process's tracer (null: tracing off); set once by the service runtime.
Tracer* Global();
void SetGlobal(Tracer* tracer);

// The trace context of the work this thread does now (a request being
// served): what an outgoing call made from it continues. Null outside one.
const TraceParent* Current();
class ScopedContext {
 public:
  explicit ScopedContext(TraceParent tp);
  ~ScopedContext();
  ScopedContext(const ScopedContext&) = delete;
  ScopedContext& operator=(const ScopedContext&) = delete;

 private:
  TraceParent tp_;
  const TraceParent* previous_;
};

// Whether a context's trace is sampled (flags bit 0).
bool Sampled(const TraceParent& tp);

int64_t NowMicros();

}  // namespace op::tracing
