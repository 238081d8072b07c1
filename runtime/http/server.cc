#include "runtime/http/server.h"

#include <pistache/endpoint.h>
#include <pistache/http.h>

#include <boost/asio/executor_work_guard.hpp>

#include <algorithm>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "runtime/core/trace_context.h"
#include "runtime/core/uuid.h"
#include "runtime/http/event_loop.h"
#include "runtime/http/server_core.h"
#include "runtime/logging/log.h"

namespace op::http {

namespace P = Pistache;

namespace {

const char* Outcome(int status) {
  if (status < 200) return "INFORMATIONAL";
  if (status < 300) return "SUCCESS";
  if (status < 400) return "REDIRECTION";
  if (status < 500) return "CLIENT_ERROR";
  return "SERVER_ERROR";
}

std::string Upper(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), ::toupper);
  return s;
}

// Pistache 0.0.5 writes only typed headers into responses (raw ones are
// dropped), so every response header goes out as one of these.
class NamedHeader : public P::Http::Header::Header {
 public:
  NamedHeader(std::string name, std::string value) : name_(std::move(name)), value_(std::move(value)) {}
  const char* name() const override { return name_.c_str(); }
  void parse(const std::string& data) override { value_ = data; }
  void write(std::ostream& os) const override { os << value_; }
  uint64_t hash() const override { return std::hash<std::string>{}(name_); }

 private:
  std::string name_, value_;
};

// Canonical capitalisation for the wire (Content-Type, X-Request-Id).
std::string WireName(std::string n) {
  bool up = true;
  for (char& c : n) {
    c = up ? char(::toupper(c)) : c;
    up = (c == '-');
  }
  return n;
}

class Adapter : public P::Http::Handler {
 public:
  HTTP_PROTOTYPE(Adapter)
  Adapter() = default;
  explicit Adapter(std::shared_ptr<HttpServer::Core> core) : core_(std::move(core)) {}

  // The request, and the writer its answer goes to, for as long as the answer
  // takes: an asynchronous handler answers later, from any thread.
  struct Pending {
    explicit Pending(P::Http::ResponseWriter w) : writer(std::move(w)) {}
    Request req;
    P::Http::ResponseWriter writer;
    bool close = false;
  };

  void onRequest(const P::Http::Request& preq, P::Http::ResponseWriter response) override {
    auto start = std::chrono::steady_clock::now();
    auto pending = std::make_shared<Pending>(std::move(response));
    Request& req = pending->req;
    req.method = Upper(P::Http::methodString(preq.method()));
    req.path = preq.resource();
    for (auto it = preq.query().parameters_begin(); it != preq.query().parameters_end(); ++it)
      req.query.emplace(PercentDecode(it->first, true), PercentDecode(it->second, true));
    for (const auto& h : preq.headers().list()) {
      std::ostringstream v;
      // Pistache 0.0.5's Accept::write() writes nothing: rebuild it from the
      // parsed media ranges.
      if (auto* accept = dynamic_cast<const P::Http::Header::Accept*>(h.get())) {
        const auto& media = accept->media();
        for (size_t i = 0; i < media.size(); ++i) v << (i ? ", " : "") << media[i].toString();
      } else {
        h->write(v);
      }
      req.headers.Add(h->name(), v.str());
    }
    for (const auto& [name, raw] : preq.headers().rawList()) req.headers.Add(raw.name(), raw.value());
    req.body = preq.body();
    req.remote = preq.address().host() + ":" + preq.address().port().toString();

    // Pistache 0.0.5 answers "Connection: Close" to an HTTP/1.1 request that
    // has no Connection header; HTTP/1.1 means keep-alive unless asked otherwise.
    auto conn = req.Header("connection");
    pending->close = conn ? (conn->find("lose") != std::string::npos) : preq.version() == P::Http::Version::Http10;

    // A synchronous handler answers before Serve returns, on this thread. An
    // asynchronous one answers from whichever thread finishes its work, and
    // this reactor thread goes on to other connections meanwhile: the
    // writer may move to another thread (Pistache queues the bytes to its
    // reactor through a lock-free queue; pistacheio/pistache#197). Pipelining
    // is no concern here: Pistache 0.0.5 takes only the first request of
    // what one read brings, and a pipelining client waits for the rest in
    // vain, on every route (tried against the gateway on this engine). The
    // Asio engine answers pipelined requests, in order; the gateway, the
    // one server clients outside reach, runs on it.
    core_->Serve(req, start, [pending, core = core_, reactor = std::this_thread::get_id()](Response resp) {
      auto& writer = pending->writer;
      writer.headers().remove("Connection");
      writer.headers().add(std::make_shared<NamedHeader>("Connection", pending->close ? "close" : "keep-alive"));
      for (const auto& [k, v] : resp.headers.All()) {
        if (k == "content-length" || k == "connection") continue;  // Pistache writes length
        writer.headers().add(std::make_shared<NamedHeader>(WireName(k), v));
      }
      auto code = static_cast<P::Http::Code>(resp.status);
      auto sent = pending->req.method == "HEAD" ? writer.send(code) : writer.send(code, resp.body);
      // Pistache queues every response to the connection's reactor thread, so
      // a request is finished (for Shutdown's drain) once that thread wrote
      // it: finishing at the queueing let a stop right after a handler
      // returned lose the answer (server_test, under TSan). Only on the
      // reactor's own thread (a synchronous handler) can we wait for it:
      // Pistache 0.0.5 resolves the chained promise send() returns without
      // its lock, so a continuation attached from another thread races the
      // resolution (TSan). An answer from another thread is finished when
      // queued; the reactor writes it within microseconds, and a stop in
      // that window can still lose it (docs/operations.md, server.engine).
      if (std::this_thread::get_id() != reactor) return core->Finish();
      struct Finished {
        explicit Finished(std::shared_ptr<HttpServer::Core> c) : core(std::move(c)) {}
        Finished(const Finished&) = delete;
        ~Finished() { core->Finish(); }
        std::shared_ptr<HttpServer::Core> core;
      };
      auto finished = std::make_shared<Finished>(core);
      sent.then([finished](ssize_t) {}, [finished](std::exception_ptr) {});
    });
  }

  void onTimeout(const P::Http::Request&, P::Http::ResponseWriter writer) override {
    auto r = MakeProblem(408, "the request was not received in time").ToResponse();
    writer.headers().add(std::make_shared<NamedHeader>("Content-Type", "application/problem+json"));
    writer.send(P::Http::Code::Request_Timeout, r.body);
  }

 private:
  std::shared_ptr<HttpServer::Core> core_;
};

class PistacheEngine : public ServerEngine {
 public:
  explicit PistacheEngine(std::shared_ptr<HttpServer::Core> core) : core_(std::move(core)) {}

  void Start() override {
    const ServerOptions& o = core_->options;
    P::Address addr(o.host, P::Port(o.port));
    endpoint_ = std::make_unique<P::Http::Endpoint>(addr);
    // Pistache rejects requests above its buffer size with its own plain 413;
    // leave it room so bodies just over our limit get a problem+json 413.
    size_t buffer = o.max_body_bytes + std::max<size_t>(o.max_body_bytes, 64 << 10);
    auto opts = P::Http::Endpoint::options()
                    .threads(o.threads)
                    .threadsName("http")
                    .flags(P::Tcp::Options::ReuseAddr)
                    .maxRequestSize(buffer)
                    .maxResponseSize(64 << 20)
                    .headerTimeout(o.header_timeout)
                    .bodyTimeout(o.body_timeout);
    try {
      endpoint_->init(opts);
      endpoint_->setHandler(std::make_shared<Adapter>(core_));
      endpoint_->serveThreaded();
      if (core_->router->HasAsync()) {  // their I/O needs a loop: one thread of its own
        auto& io = *core_->loops[0];
        io.restart();
        io_work_.emplace(io.get_executor());
        io_thread_ = std::thread([this, &io] {
          pthread_setname_np(pthread_self(), "http-io");
          RunLoop(io);
        });
      }
    } catch (const std::exception& e) {
      endpoint_.reset();
      throw std::runtime_error("http: cannot listen on " + o.host + ":" + std::to_string(o.port) + ": " + e.what());
    }
  }
  uint16_t Port() const override { return endpoint_ ? static_cast<uint16_t>(endpoint_->getPort()) : 0; }
  void Stop() override {
    if (!endpoint_) return;
    endpoint_->shutdown();
    endpoint_.reset();
    if (io_thread_.joinable()) {
      io_work_.reset();
      core_->loops[0]->stop();
      io_thread_.join();
    }
  }

 private:
  std::shared_ptr<HttpServer::Core> core_;
  std::unique_ptr<P::Http::Endpoint> endpoint_;
  std::optional<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> io_work_;
  std::thread io_thread_;
};

}  // namespace

std::unique_ptr<ServerEngine> MakePistacheEngine(std::shared_ptr<HttpServer::Core> core) {
  return std::make_unique<PistacheEngine>(std::move(core));
}

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
}  // namespace

void HttpServer::Core::Serve(Request& req, std::chrono::steady_clock::time_point start, Respond done) {
  in_flight.fetch_add(1);
  if (active) active->Increment();
  // Correlation: reuse the caller's ids or mint new ones.
  auto x = std::make_shared<Exchange>();
  x->start = start;
  x->done = std::move(done);
  x->request_id = req.Header("x-request-id").value_or("");
  if (x->request_id.empty() || x->request_id.size() > 200) x->request_id = NewUuid();
  x->correlation_id = req.Header("x-correlation-id").value_or(x->request_id);
  auto header = req.Header("traceparent");
  auto parent = header ? TraceParent::Parse(*header) : std::nullopt;
  TraceParent trace = parent ? parent->Child() : TraceParent::New();
  x->trace_id = trace.trace_id;
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
    if (requests) requests->Get({req.method, x.route, std::to_string(resp.status), Outcome(resp.status)}).Observe(seconds);
    if (options.access_log)
      log::Info("http", {{"method", req.method}, {"path", req.path}, {"route", x.route}, {"status", resp.status},
                         {"durationMs", seconds * 1000}, {"bytes", resp.body.size()}, {"remote", req.remote}});
    x.done(std::move(resp));
  };

  if (req.body.size() > options.max_body_bytes) return complete(req, *x, BodyTooLarge(req.body.size()).ToResponse(req.path));
  Router::Match match;
  try {
    match = router->Find(req);
  } catch (const std::exception& e) {
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
      if (!x->responded.exchange(true)) complete(req, *x, ErrorResponse(e, req));
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
    resp = ErrorResponse(e, req);
  }
  complete(req, *x, std::move(resp));
}

void HttpServer::Core::Finish() {
  if (active) active->Decrement();
  in_flight.fetch_sub(1);
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
    core_->requests = std::make_unique<metrics::Children<prometheus::Histogram>>(
        std::vector<std::string>{"method", "uri", "status", "outcome"},
        [&requests](const metrics::Labels& labels) -> prometheus::Histogram& {
          return requests.Add(labels, metrics::MetricsRegistry::LatencyBuckets());
        });
    core_->active = &prometheus::BuildGauge()
                         .Name("http_server_requests_active")
                         .Help("HTTP requests being handled now")
                         .Register(metrics->Registry())
                         .Add({});
  }
}

HttpServer::~HttpServer() { Shutdown(std::chrono::milliseconds(0)); }

void HttpServer::Start() {
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
  auto deadline = std::chrono::steady_clock::now() + drain_timeout;
  while (core_->in_flight.load() > 0 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  bool drained = core_->in_flight.load() == 0;
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
