// The Pistache 0.0.5 server engine: the services' HTTP server (the platform's
// declared stack), adapted to the engine-neutral core (server_core.h). Every
// workaround for that Pistache release lives here, each where it applies:
//   - raw response headers are dropped: every header goes out typed
//     (NamedHeader);
//   - Accept::write() writes nothing: the header is rebuilt from its parsed
//     media ranges;
//   - an HTTP/1.1 request without a Connection header gets "Connection:
//     Close": keep-alive is decided here;
//   - requests over its buffer get its own plain 413: the buffer leaves room
//     so the core answers problem+json;
//   - send()'s promise resolves without its lock: a request counts as
//     finished when written only on the reactor's own thread;
//   - only the first of pipelined requests is answered: pipelining clients
//     are the Asio engine's (the gateway);
//   - header names and values are written as given: CR/LF are replaced
//     here (wire::HeaderText), as the Asio engine's serializer does;
//   - it has no connection limit: one is kept here (server.max-connections),
//     a connection past it answered 503 and closed.
// server_test runs every case on this engine and on the Asio one.
#include <pistache/endpoint.h>
#include <pistache/http.h>
#include <pistache/peer.h>

#include <boost/asio/executor_work_guard.hpp>

#include <sys/socket.h>

#include <algorithm>
#include <atomic>
#include <optional>
#include <sstream>
#include <thread>

#include "runtime/http/event_loop.h"
#include "runtime/http/server_core.h"
#include "runtime/http/wire_format.h"
#include "runtime/logging/log.h"

namespace op::http {

namespace P = Pistache;

namespace {

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
  explicit Adapter(std::shared_ptr<HttpServer::Core> core)
      : core_(std::move(core)), open_(std::make_shared<std::atomic<size_t>>(0)) {}

  // Pistache has no connection limit. Its own onConnection (private in
  // Http::Handler, so not callable from here) only installs the request
  // parser: this does the same, then counts. A connection past
  // max-connections is shut down at once, as the Asio engine closes it; the
  // reactor then sees it end and calls onDisconnection like for any other.
  void onConnection(const std::shared_ptr<P::Tcp::Peer>& peer) override {
    peer->putData(ParserData, std::make_shared<P::Http::RequestParser>(getMaxRequestSize()));
    const size_t open = open_->fetch_add(1) + 1, max = core_->options.max_connections;
    if (max == 0 || open <= max) return;
    if (core_->connections_refused) core_->connections_refused->Increment();  // before the client sees the close
    ::shutdown(peer->fd(), SHUT_RDWR);
    auto now = std::chrono::steady_clock::now().time_since_epoch().count();
    auto last = last_refusal_warning_->load();
    if (now - last >= std::chrono::nanoseconds(std::chrono::seconds(1)).count() &&
        last_refusal_warning_->compare_exchange_strong(last, now))
      log::Warn("http: connection limit reached; closing new connections", {{"maxConnections", max}});
  }
  void onDisconnection(const std::shared_ptr<P::Tcp::Peer>& peer) override {
    open_->fetch_sub(1);
    P::Http::Handler::onDisconnection(peer);
  }

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
        if (k == "content-length" || k == "connection" || k == "transfer-encoding") continue;  // framing is Pistache's
        writer.headers().add(std::make_shared<NamedHeader>(WireName(wire::HeaderText(k)), wire::HeaderText(v)));
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
      // queued; the reactor writes it within microseconds, and Shutdown
      // waits a grace after the last such answer before it stops the reactor.
      if (std::this_thread::get_id() != reactor) return core->FinishQueued();
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
  // Shared by the clones Pistache makes of this handler, one per reactor thread.
  std::shared_ptr<std::atomic<size_t>> open_;
  std::shared_ptr<std::atomic<int64_t>> last_refusal_warning_ = std::make_shared<std::atomic<int64_t>>(0);
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
        io_thread_ = std::thread([&io] {
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

}  // namespace op::http
