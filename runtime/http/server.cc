#include "runtime/http/server.h"

#include <boost/asio/executor_work_guard.hpp>
#include <cxxabi.h>

#include <algorithm>
#include <cctype>
#include <condition_variable>
#include <cstdlib>
#include <mutex>
#include <thread>
#include <typeinfo>

#include "runtime/core/trace_context.h"
#include "runtime/core/uuid.h"
#include "runtime/http/event_loop.h"
#include "runtime/http/server_core.h"
#include "runtime/logging/log.h"
#include "runtime/tracing/tracing.h"

namespace op::http {

namespace {

// A handler's exception as Micrometer tags it: the class's simple name
// ("HttpError", "DbUnavailable"); a finite set, so a bounded label.
std::string ExceptionName(const std::exception& e) {
  int status = 0;
  std::unique_ptr<char, void (*)(void*)> d(abi::__cxa_demangle(typeid(e).name(), nullptr, nullptr, &status), std::free);
  std::string name = status == 0 && d ? d.get() : typeid(e).name();
  name = name.substr(0, name.find('<'));  // a template's name without its arguments
  const auto colon = name.rfind("::");
  return colon == std::string::npos ? name : name.substr(colon + 2);
}

const char* Outcome(int status) {
  if (status < 200) return "INFORMATIONAL";
  if (status < 300) return "SUCCESS";
  if (status < 400) return "REDIRECTION";
  if (status < 500) return "CLIENT_ERROR";
  return "SERVER_ERROR";
}

// The methods the platform serves; any other token is answered 501 and
// counted as OTHER, so a client cannot mint a metric series per method.
// RFC 9110's methods, PATCH, and QUERY (the IETF's safe method with a body,
// which clients and API testers now send): one a route lacks is a 405 with
// Allow; any other token is a 501 (not known here), counted as OTHER.
const char* MethodLabel(const std::string& m) {
  for (const char* known : {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE", "CONNECT", "QUERY"})
    if (m == known) return known;
  return "OTHER";
}

// An id a client sent that may be echoed and logged: bounded and plain.
bool PlainId(const std::string& id) {
  return !id.empty() && id.size() <= 128 && std::all_of(id.begin(), id.end(), [](unsigned char c) {
    return std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == ':';
  });
}
}  // namespace

Problem HttpServer::Core::BodyTooLarge(std::optional<uint64_t> size) const {
  std::string limit = std::to_string(options.max_body_bytes);
  return MakeProblem(413, size ? "request body of " + std::to_string(*size) + " bytes exceeds the limit of " + limit
                               : "request body exceeds the limit of " + limit + " bytes");
}

namespace {
// What the end of a request needs from its start, wherever it ends; shared by
// an asynchronous handler's answer.
struct Exchange : log::LogContext::Fields {
  std::string request_id, correlation_id, trace_id, route = "UNKNOWN";  // route: the metric label
  std::string span_id, parent_span_id;  // this request's server span, and the caller's span (if any)
  bool sampled = false;                 // the trace is sampled: the server span is reported
  std::string exception = "None";  // the metric's exception label: a handler's exception class
  std::chrono::steady_clock::time_point start;
  std::atomic<bool> responded{false};  // an asynchronous handler answers once
  Respond done;                        // the engine's write
  // On every line the request logs.
  void AddTo(nlohmann::json& line) const override {
    line["requestId"] = request_id;
    line["correlationId"] = correlation_id;
    line["traceId"] = trace_id;
  }
};

// The server span of one request, named as Brave names them ("get /api/orders/{id}").
void ReportServerSpan(const Request& req, const Exchange& x, int status, double seconds) {
  auto* tracer = tracing::Global();
  if (!tracer) return;
  tracing::Span span;
  span.trace_id = x.trace_id;
  span.id = x.span_id;
  span.parent_id = x.parent_span_id;
  std::string method = MethodLabel(req.method);
  for (auto& c : method) c = char(std::tolower(static_cast<unsigned char>(c)));
  span.name = method + " " + x.route;
  span.kind = tracing::SpanKind::kServer;
  span.duration_us = int64_t(seconds * 1e6);
  span.timestamp_us = tracing::NowMicros() - span.duration_us;
  span.tags = {{"http.method", MethodLabel(req.method)}, {"http.path", req.path.substr(0, 256)},
               {"http.route", x.route}, {"http.status_code", std::to_string(status)}};
  if (x.exception != "None") span.tags["error"] = x.exception;
  else if (status >= 500) span.tags["error"] = std::to_string(status);
  tracer->Report(std::move(span));
}

}  // namespace

void HttpServer::Core::Serve(Request& req, std::chrono::steady_clock::time_point start, Respond done) {
  in_flight.fetch_add(1);  // before the draining check: Shutdown waits for this request, or it sees draining
  if (active) active->Increment();
  if (draining.load()) {
    Problem p = MakeProblem(503, "the server is shutting down; try again");
    p.headers.Set("Retry-After", "1");
    return done(p.ToResponse(req.path));
  }
  // Correlation: reuse the caller's ids or mint new ones.
  auto x = std::make_shared<Exchange>();
  x->start = start;
  x->done = std::move(done);
  x->request_id = req.Header("x-request-id").value_or("");
  if (!PlainId(x->request_id)) x->request_id = NewUuid();
  x->correlation_id = req.Header("x-correlation-id").value_or(x->request_id);
  if (!PlainId(x->correlation_id)) x->correlation_id = x->request_id;
  // A malformed traceparent starts a new trace; it never fails the request.
  auto header = req.Header("traceparent");
  auto parent = header ? TraceParent::Parse(*header) : std::nullopt;
  auto* tracer = tracing::Global();
  TraceParent trace = parent ? parent->Child() : tracer ? tracer->NewTrace() : TraceParent::New();
  x->trace_id = trace.trace_id;
  x->span_id = trace.span_id;
  if (parent) x->parent_span_id = parent->span_id;
  x->sampled = tracer && tracing::Sampled(trace);
  tracing::ScopedContext trace_scope(trace);  // what calls made from a synchronous handler continue
  req.headers.Set("x-request-id", x->request_id);
  req.headers.Set("x-correlation-id", x->correlation_id);
  req.headers.Set("traceparent", trace.ToString());
  log::LogContext ctx(*x);

  // The final response: ids, metric, access log, then the engine's write.
  // Runs inside the request's log context (an asynchronous answer sets it up
  // on its own thread first).
  auto complete = [this](Request& req, const Exchange& x, Response resp) {
    resp.headers.Set("X-Request-Id", x.request_id);
    resp.headers.Set("X-Correlation-Id", x.correlation_id);
    double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - x.start).count();
    const char* method = MethodLabel(req.method);
    if (requests)
      requests->Get({method, x.route, std::to_string(resp.status), Outcome(resp.status), x.exception}).Observe(seconds);
    if (options.access_log)
      log::Info("http", {{"method", method}, {"path", req.path.substr(0, 512)}, {"route", x.route}, {"status", resp.status},
                         {"durationMs", seconds * 1000}, {"bytes", resp.body.size()}, {"remote", req.remote}});
    if (x.sampled) ReportServerSpan(req, x, resp.status, seconds);
    x.done(std::move(resp));
  };

  if (req.body.size() > options.max_body_bytes) return complete(req, *x, BodyTooLarge(req.body.size()).ToResponse(req.path));
  if (std::string_view(MethodLabel(req.method)) == "OTHER") {
    x->route = "UNKNOWN";
    return complete(req, *x, MakeProblem(501, "method not implemented").ToResponse(req.path));
  }
  Router::Match match;
  try {
    match = router->Find(req);
    if (match.access) {
      x->route = match.route;
      router->Authorize(req, *match.access);  // 401/403 before any handler runs
    }
  } catch (const std::exception& e) {
    x->exception = ExceptionName(e);
    return complete(req, *x, ErrorResponse(e, req));
  }
  if (match.async) {
    x->route = match.route;
    // Responds once: the handler's answer, or an error if it throws first.
    try {
      (*match.async)(req, [&req, x, complete](Response r) {
        if (x->responded.exchange(true)) return;
        log::LogContext ctx(*x);
        complete(req, *x, std::move(r));
      });
    } catch (const std::exception& e) {
      if (!x->responded.exchange(true)) {
        x->exception = ExceptionName(e);
        complete(req, *x, ErrorResponse(e, req));
      }
      else log::Error("asynchronous handler threw after responding", {{"route", x->route}, {"error", e.what()}});
    }
    return;
  }
  Response resp;
  try {
    if (match.handler) {
      x->route = match.route;
      resp = (*match.handler)(req);
    } else {
      x->route = match.allowed.empty() ? "NOT_FOUND" : "METHOD_NOT_ALLOWED";
      resp = router->Handle(req);
    }
  } catch (const std::exception& e) {
    x->exception = ExceptionName(e);
    resp = ErrorResponse(e, req);
  }
  complete(req, *x, std::move(resp));
}

void HttpServer::Core::Finish() {
  if (active) active->Decrement();
  in_flight.fetch_sub(1);
}

void HttpServer::Core::FinishQueued() {
  last_queued_ns = std::chrono::steady_clock::now().time_since_epoch().count();
  Finish();
}

HttpServer::HttpServer(ServerOptions options, std::shared_ptr<const Router> router,
                       metrics::MetricsRegistry* metrics)
    : options_(std::move(options)), core_(std::make_shared<Core>()) {
  core_->router = std::move(router);
  core_->options = options_;
  const bool per_thread = options_.loop_per_thread && options_.engine == ServerEngineKind::kAsio;
  const int loops = per_thread ? std::max(1, options_.threads) : 1;
  // Pistache runs its loop on one thread of its own; Asio on one thread per
  // loop, or on `threads` threads sharing one.
  core_->one_thread_per_loop = options_.engine != ServerEngineKind::kAsio || per_thread || options_.threads <= 1;
  for (int i = 0; i < loops; ++i)
    core_->loops.push_back(std::make_unique<boost::asio::io_context>(core_->one_thread_per_loop ? 1 : BOOST_ASIO_CONCURRENCY_HINT_DEFAULT));
  if (metrics) {
    auto& requests = prometheus::BuildHistogram()
                         .Name("http_server_requests_seconds")
                         .Help("HTTP server requests by method, uri template, status and outcome")
                         .Register(metrics->Registry());
    Core* core = core_.get();
    core_->requests = std::make_unique<metrics::Children<Core::RequestTimer>>(
        std::vector<std::string>{"method", "uri", "status", "outcome", "exception"},
        [&requests, core](const metrics::Labels& labels) -> Core::RequestTimer& {
          auto& h = requests.Add(labels, metrics::MetricsRegistry::LatencyBuckets());
          std::lock_guard lock(core->timers_mu);
          return core->timers.emplace_back(h, labels);
        });
    metrics_ = metrics;
    collector_id_ = metrics->AddCollector([core](metrics::Families& out) {
      auto f = metrics::Family("http_server_requests_seconds_max", "The longest request in the last two minutes",
                               prometheus::MetricType::Gauge);
      std::lock_guard lock(core->timers_mu);
      for (auto& t : core->timers) metrics::AddSample(f, t.labels, t.max.Poll());
      out.push_back(std::move(f));
    });
    core_->connections_refused = &prometheus::BuildCounter()
                                      .Name("http_server_connections_refused_total")
                                      .Help("Connections closed at once: the server had max-connections open")
                                      .Register(metrics->Registry())
                                      .Add({});
    core_->active = &prometheus::BuildGauge()
                         .Name("http_server_requests_active")
                         .Help("HTTP requests being handled now")
                         .Register(metrics->Registry())
                         .Add({});
  }
}

HttpServer::~HttpServer() {
  Shutdown(std::chrono::milliseconds(0));
  if (metrics_ && collector_id_ >= 0) metrics_->RemoveCollector(collector_id_);
}

void HttpServer::Start() {
  if (options_.Tls() && options_.engine != ServerEngineKind::kAsio)
    throw std::runtime_error("http: HTTPS needs the asio engine (server.engine=asio)");
  if (options_.Tls() != !options_.tls_private_key_file.empty())
    throw std::runtime_error("http: HTTPS needs both a certificate and its private key");
  engine_ = options_.engine == ServerEngineKind::kAsio ? MakeAsioEngine(core_) : MakePistacheEngine(core_);
  try {
    engine_->Start();
  } catch (...) {
    engine_.reset();
    throw;
  }
  running_ = true;
}

boost::asio::io_context& HttpServer::io_context() { return *core_->loops[0]; }

std::vector<boost::asio::io_context*> HttpServer::loops() {
  std::vector<boost::asio::io_context*> out;
  for (auto& l : core_->loops) out.push_back(l.get());
  return out;
}

bool HttpServer::OneThreadPerLoop() const { return core_->one_thread_per_loop; }

uint16_t HttpServer::Port() const { return engine_ ? engine_->Port() : 0; }

int HttpServer::InFlight() const { return core_->in_flight.load(); }

bool HttpServer::Shutdown(std::chrono::milliseconds drain_timeout) {
  if (!running_) return true;
  core_->draining = true;
  auto deadline = std::chrono::steady_clock::now() + drain_timeout;
  while (core_->in_flight.load() > 0 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  bool drained = core_->in_flight.load() == 0;
  // An answer queued to a writer thread moments ago is given time to be
  // written (it takes microseconds; 250 ms covers a busy machine's scheduling).
  const auto queued_at = std::chrono::steady_clock::time_point(std::chrono::steady_clock::duration(core_->last_queued_ns.load()));
  while (std::chrono::steady_clock::now() < std::min(deadline, queued_at + std::chrono::milliseconds(250)))
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  engine_->Stop();
  engine_.reset();
  running_ = false;
  return drained;
}

std::optional<ServerEngineKind> ParseServerEngine(std::string_view name) {
  if (name == "pistache") return ServerEngineKind::kPistache;
  if (name == "asio") return ServerEngineKind::kAsio;
  return std::nullopt;
}

}  // namespace op::http
