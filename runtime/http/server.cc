#include "runtime/http/server.h"

#include <pistache/endpoint.h>
#include <pistache/http.h>

#include <algorithm>
#include <thread>

#include "runtime/core/trace_context.h"
#include "runtime/core/uuid.h"
#include "runtime/logging/log.h"

namespace op::http {

namespace P = Pistache;

struct HttpServer::Core {
  std::shared_ptr<const Router> router;
  ServerOptions options;
  std::atomic<int> in_flight{0};
  prometheus::Family<prometheus::Histogram>* requests = nullptr;
  prometheus::Gauge* active = nullptr;
};

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

  void onRequest(const P::Http::Request& preq, P::Http::ResponseWriter writer) override {
    auto start = std::chrono::steady_clock::now();
    core_->in_flight.fetch_add(1);
    if (core_->active) core_->active->Increment();

    Request req;
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

    // Correlation: reuse the caller's ids or mint new ones.
    std::string request_id = req.Header("x-request-id").value_or("");
    if (request_id.empty() || request_id.size() > 200) request_id = NewUuid();
    std::string correlation_id = req.Header("x-correlation-id").value_or(request_id);
    auto parent = req.Header("traceparent") ? TraceParent::Parse(*req.Header("traceparent")) : std::nullopt;
    TraceParent trace = parent ? parent->Child() : TraceParent::New();
    req.headers.Set("x-request-id", request_id);
    req.headers.Set("x-correlation-id", correlation_id);
    req.headers.Set("traceparent", trace.ToString());
    log::LogContext ctx({{"requestId", request_id}, {"correlationId", correlation_id},
                         {"traceId", trace.trace_id}});

    Response resp;
    std::string route = "UNKNOWN";
    if (req.body.size() > core_->options.max_body_bytes) {
      resp = MakeProblem(413, "request body of " + std::to_string(req.body.size()) +
                                  " bytes exceeds the limit of " +
                                  std::to_string(core_->options.max_body_bytes))
                 .ToResponse(req.path);
    } else {
      try {
        auto match = core_->router->Find(req);
        if (match.handler) {
          route = match.route;
          resp = (*match.handler)(req);
        } else {
          route = match.allowed.empty() ? "NOT_FOUND" : "METHOD_NOT_ALLOWED";
          resp = core_->router->Handle(req);
        }
      } catch (const HttpError& e) {
        resp = e.problem().ToResponse(req.path);
      } catch (const std::exception& e) {
        log::Error("unhandled exception in handler", {{"route", route}, {"error", e.what()}});
        resp = MakeProblem(500, "internal error (request id " + request_id + ")").ToResponse(req.path);
      }
    }
    resp.headers.Set("X-Request-Id", request_id);
    resp.headers.Set("X-Correlation-Id", correlation_id);

    // Pistache 0.0.5 answers "Connection: Close" to an HTTP/1.1 request that
    // has no Connection header; HTTP/1.1 means keep-alive unless asked otherwise.
    auto conn = req.Header("connection");
    bool close = conn ? (conn->find("lose") != std::string::npos)
                      : preq.version() == P::Http::Version::Http10;
    writer.headers().remove("Connection");
    writer.headers().add(std::make_shared<NamedHeader>("Connection", close ? "close" : "keep-alive"));
    for (const auto& [k, v] : resp.headers.All()) {
      if (k == "content-length" || k == "connection") continue;  // Pistache writes length
      writer.headers().add(std::make_shared<NamedHeader>(WireName(k), v));
    }
    auto code = static_cast<P::Http::Code>(resp.status);
    if (req.method == "HEAD") writer.send(code);
    else writer.send(code, resp.body);

    auto elapsed = std::chrono::steady_clock::now() - start;
    double seconds = std::chrono::duration<double>(elapsed).count();
    if (core_->requests)
      core_->requests
          ->Add({{"method", req.method}, {"uri", route}, {"status", std::to_string(resp.status)},
                 {"outcome", Outcome(resp.status)}},
                metrics::MetricsRegistry::LatencyBuckets())
          .Observe(seconds);
    if (core_->options.access_log)
      log::Info("http", {{"method", req.method}, {"path", req.path}, {"route", route},
                         {"status", resp.status}, {"durationMs", seconds * 1000},
                         {"bytes", resp.body.size()}, {"remote", req.remote}});
    if (core_->active) core_->active->Decrement();
    core_->in_flight.fetch_sub(1);
  }

  void onTimeout(const P::Http::Request&, P::Http::ResponseWriter writer) override {
    auto r = MakeProblem(408, "the request was not received in time").ToResponse();
    writer.headers().add(std::make_shared<NamedHeader>("Content-Type", "application/problem+json"));
    writer.send(P::Http::Code::Request_Timeout, r.body);
  }

 private:
  std::shared_ptr<HttpServer::Core> core_;
};

}  // namespace

struct HttpServer::Impl {
  std::unique_ptr<P::Http::Endpoint> endpoint;
  bool running = false;
};

HttpServer::HttpServer(ServerOptions options, std::shared_ptr<const Router> router,
                       metrics::MetricsRegistry* metrics)
    : options_(std::move(options)), core_(std::make_shared<Core>()), impl_(std::make_unique<Impl>()) {
  core_->router = std::move(router);
  core_->options = options_;
  if (metrics) {
    core_->requests = &prometheus::BuildHistogram()
                           .Name("http_server_requests_seconds")
                           .Help("HTTP server requests by method, uri template, status and outcome")
                           .Register(metrics->Registry());
    core_->active = &prometheus::BuildGauge()
                         .Name("http_server_requests_active")
                         .Help("HTTP requests being handled now")
                         .Register(metrics->Registry())
                         .Add({});
  }
}

HttpServer::~HttpServer() { Shutdown(std::chrono::milliseconds(0)); }

void HttpServer::Start() {
  P::Address addr(options_.host, P::Port(options_.port));
  impl_->endpoint = std::make_unique<P::Http::Endpoint>(addr);
  // Pistache rejects requests above its buffer size with its own plain 413;
  // leave it room so bodies just over our limit get a problem+json 413.
  size_t buffer = options_.max_body_bytes + std::max<size_t>(options_.max_body_bytes, 64 << 10);
  auto opts = P::Http::Endpoint::options()
                  .threads(options_.threads)
                  .threadsName("http")
                  .flags(P::Tcp::Options::ReuseAddr)
                  .maxRequestSize(buffer)
                  .maxResponseSize(64 << 20)
                  .headerTimeout(options_.header_timeout)
                  .bodyTimeout(options_.body_timeout);
  try {
    impl_->endpoint->init(opts);
    impl_->endpoint->setHandler(std::make_shared<Adapter>(core_));
    impl_->endpoint->serveThreaded();
  } catch (const std::exception& e) {
    impl_->endpoint.reset();
    throw std::runtime_error("http: cannot listen on " + options_.host + ":" +
                             std::to_string(options_.port) + ": " + e.what());
  }
  impl_->running = true;
}

uint16_t HttpServer::Port() const {
  return impl_->endpoint ? static_cast<uint16_t>(impl_->endpoint->getPort()) : 0;
}

int HttpServer::InFlight() const { return core_->in_flight.load(); }

bool HttpServer::Shutdown(std::chrono::milliseconds drain_timeout) {
  if (!impl_->running) return true;
  auto deadline = std::chrono::steady_clock::now() + drain_timeout;
  while (core_->in_flight.load() > 0 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  bool drained = core_->in_flight.load() == 0;
  impl_->endpoint->shutdown();
  impl_->endpoint.reset();
  impl_->running = false;
  return drained;
}

}  // namespace op::http
