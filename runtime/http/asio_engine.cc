// The Boost.Asio + Beast server engine.
//
// Threads: one io_context run by `threads` threads. Each connection is a
// Session on its own strand, so its reads, writes and timer never run
// concurrently; handlers run inline on the strand and may block, holding only
// their own connection while the other threads serve the rest. A loop run by
// one thread needs no strand: its sessions use the loop's executor
// (event_loop.h). With
// ServerOptions::loop_per_thread each thread runs a loop of its own instead and
// accepted connections are dealt out to the loops round robin; a connection
// (and the upstream calls its handlers start through an AsyncClient) stays on
// its loop's thread, so handlers must not block. Per request:
// the header and body are read by Beast's parser (Expect: 100-continue is
// answered in between), Core::Serve runs the router, the response is written
// with one writev, and the next request is read from the same buffer
// (pipelining). A timer on the strand bounds reading the header (also the
// idle time between keep-alive requests) and reading the body; a request cut
// off half-way gets a 408 before the close, an idle connection just closes.
// With a certificate (ServerOptions::tls_*) every connection is a TLS stream
// over the same socket: the handshake runs first, under the header timeout,
// and the session is otherwise the same code (one template, two streams).
#include <boost/asio/dispatch.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/http.hpp>

#include <pthread.h>

#include <array>
#include <mutex>
#include <optional>
#include <unordered_set>
#include <thread>
#include <vector>

#include "runtime/http/event_loop.h"
#include "runtime/http/server_core.h"
#include "runtime/http/wire_format.h"
#include "runtime/logging/log.h"

namespace op::http {
namespace {

namespace asio = boost::asio;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;

constexpr size_t kHeaderLimit = 64 * 1024;  // the gateway answers 431 above 32 KiB itself

template <class Executor>
using TlsStream = asio::ssl::stream<Socket<Executor>>;

template <class Stream>
constexpr bool kIsTls = !std::is_same_v<Stream, Socket<typename Stream::executor_type>>;

// The TCP socket under a stream.
template <class Stream>
auto& Tcp(Stream& s) {
  if constexpr (kIsTls<Stream>) {
    return s.next_layer();
  } else {
    return s;
  }
}

// A connection, whatever its executor.
class SessionBase {
 public:
  virtual ~SessionBase() = default;
  // Only when no thread runs the io_context (the engine stopping).
  virtual void CloseStopped() = 0;
};

// The open connections, so Stop() can close them: the io_context is the
// Core's and outlives the engine, so its pending handlers would keep them open.
class Sessions {
 public:
  void Add(SessionBase* s) {
    std::lock_guard lock(mu_);
    set_.insert(s);
  }
  void Remove(SessionBase* s) {
    std::lock_guard lock(mu_);
    set_.erase(s);
  }
  std::vector<SessionBase*> All() {
    std::lock_guard lock(mu_);
    return {set_.begin(), set_.end()};
  }
  size_t Size() {
    std::lock_guard lock(mu_);
    return set_.size();
  }

 private:
  std::mutex mu_;
  std::unordered_set<SessionBase*> set_;
};

// Executor: Strand, or LoopExecutor when one thread runs the loop. Stream:
// the socket itself, or a TLS stream over it.
template <class Executor, class Stream = Socket<Executor>>
class Session : public SessionBase, public std::enable_shared_from_this<Session<Executor, Stream>> {
 public:
  // `core` outlives every session: sessions live in the Core's io_context
  // (its pending handlers) and die with it at the latest.
  Session(Stream socket, HttpServer::Core* core, std::shared_ptr<Sessions> sessions)
      : socket_(std::move(socket)), timer_(socket_.get_executor()), core_(core), sessions_(std::move(sessions)) {
    sessions_->Add(this);
    boost::system::error_code ec;
    auto ep = Tcp(socket_).remote_endpoint(ec);
    if (!ec) remote_ = ep.address().to_string() + ":" + std::to_string(ep.port());
    Tcp(socket_).set_option(tcp::no_delay(true), ec);
  }

  ~Session() override { sessions_->Remove(this); }

  void Begin() {
    if constexpr (kIsTls<Stream>) {
      // A client that never finishes its handshake is dropped at the header timeout.
      Arm(core_->options.header_timeout);
      socket_.async_handshake(asio::ssl::stream_base::server, [self = shared_from_this()](boost::system::error_code ec) {
        self->Disarm();
        if (ec) {
          log::Debug("http: TLS handshake failed", {{"remote", self->remote_}, {"error", ec.message()}});
          return self->Close();
        }
        self->ReadHeader();
      });
    } else {
      ReadHeader();
    }
  }

  void CloseStopped() override { Close(); }

 private:
  // Bounds the read about to start: past the deadline the socket's operations
  // are cancelled and timed_out_ tells Failed() why. A new Arm replaces the
  // last. Lazy, as nginx's timers: moving the deadline later (every request
  // on a keep-alive connection) leaves the pending wait alone, which on
  // expiry finds the deadline moved and waits again, so a request costs no
  // timer cancel and no aborted handler run; only an earlier deadline
  // restarts the wait.
  void Arm(std::chrono::milliseconds d) {
    timed_out_ = false;
    deadline_ = std::chrono::steady_clock::now() + d;
    if (waiting_ && timer_.expiry() <= deadline_) return;
    Wait();
  }
  // Nothing is being read: no deadline until the next Arm.
  void Disarm() { deadline_ = std::chrono::steady_clock::time_point::max(); }

  void Wait() {
    waiting_ = true;
    timer_.expires_at(deadline_);  // a pending wait ends aborted, superseded below
    timer_.async_wait([self = shared_from_this(), wait = ++wait_](boost::system::error_code ec) {
      if (wait != self->wait_) return;  // a later Wait replaced this one
      self->waiting_ = false;
      if (ec || self->deadline_ == std::chrono::steady_clock::time_point::max()) return;  // closed, or disarmed
      if (std::chrono::steady_clock::now() < self->deadline_) return self->Wait();  // moved later meanwhile
      self->timed_out_ = true;
      boost::system::error_code ignore;
      Tcp(self->socket_).cancel(ignore);
    });
  }

  void ReadHeader() {
    parser_.emplace();
    parser_->header_limit(kHeaderLimit);
    // One byte over our limit is enough to know: Core answers 413 from the size.
    parser_->body_limit(core_->options.max_body_bytes + 1);
    Arm(core_->options.header_timeout);
    bhttp::async_read_header(socket_, buffer_, *parser_,
                             [self = shared_from_this()](boost::system::error_code ec, size_t) { self->OnHeader(ec); });
  }

  void OnHeader(boost::system::error_code ec) {
    if (ec) return Failed(ec, /*idle=*/buffer_.size() == 0);
    if (parser_->expects_continue() && !parser_->is_done()) {
      if (parser_->content_length() && *parser_->content_length() > core_->options.max_body_bytes)
        return Reply(core_->BodyTooLarge(*parser_->content_length()).ToResponse(), /*close=*/true);
      static const std::string kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
      asio::async_write(socket_, asio::buffer(kContinue),
                        [self = shared_from_this()](boost::system::error_code ec, size_t) {
                          if (ec) return self->Close();
                          self->ReadBody();
                        });
      return;
    }
    ReadBody();
  }

  void ReadBody() {
    if (parser_->is_done()) return OnBody({});
    Arm(core_->options.body_timeout);
    bhttp::async_read(socket_, buffer_, *parser_,
                      [self = shared_from_this()](boost::system::error_code ec, size_t) { self->OnBody(ec); });
  }

  void OnBody(boost::system::error_code ec) {
    Disarm();
    if (ec) return Failed(ec, false);
    auto start = std::chrono::steady_clock::now();
    req_ = std::move(parser_->request());
    req_.remote = remote_;
    req_.secure = kIsTls<Stream>;
    bool close = !parser_->keep_alive();

    // A synchronous handler answers inline (already on this connection's
    // executor); an asynchronous one from wherever its I/O finished, so come
    // back to ours (inline when that is this loop's one thread).
    core_->Serve(req_, start, [self = shared_from_this(), close](Response resp) {
      asio::dispatch(self->socket_.get_executor(), [self, close, resp = std::move(resp)]() mutable {
        self->Reply(std::move(resp), close, /*served=*/true);
      });
    });
  }

  // Writes `resp`; then the next request, or a close. `served`: it answers a
  // request Core::Serve counted as in flight until now.
  void Reply(Response resp, bool close, bool served = false) {
    const bool header_read = parser_ && parser_->is_header_done();
    const unsigned version = header_read ? parser_->version() : 11;
    const bool head = header_read && parser_->head();
    wire::SerializeResponseHead(resp, version, close, head_out_);
    // HEAD: the Content-Length a GET would have, and no body.
    body_out_ = head || wire::Bodiless(resp.status) ? std::string() : std::move(resp.body);
    std::array<asio::const_buffer, 2> bytes{asio::buffer(head_out_), asio::buffer(body_out_)};
    asio::async_write(socket_, bytes, [self = shared_from_this(), close, served](boost::system::error_code ec, size_t) {
      std::string().swap(self->body_out_);  // an idle connection keeps no body (the head's buffer it reuses)
      if (served) self->core_->Finish();
      if (ec || close) return self->Close();
      self->ReadHeader();
    });
  }

  // A read that did not produce a request: close, after a problem when the
  // client sent something we can answer.
  void Failed(boost::system::error_code ec, bool idle) {
    Disarm();
    if (ec == bhttp::error::end_of_stream || ec == asio::error::eof || ec == asio::error::connection_reset)
      return Close();
    if (timed_out_) return idle ? Close() : Reply(MakeProblem(408, "the request was not received in time").ToResponse(), true);
    if (ec == asio::error::operation_aborted) return Close();
    if (ec == bhttp::error::body_limit)  // Beast checks a declared Content-Length before the header is done
      return Reply(core_->BodyTooLarge(std::nullopt).ToResponse(), true);
    if (ec == bhttp::error::header_limit)
      return Reply(MakeProblem(431, "request header fields exceed " + std::to_string(kHeaderLimit / 1024) + " KiB")
                       .ToResponse(),
                   true);
    if (ec.category() == bhttp::make_error_code(bhttp::error::bad_method).category())  // any parse error
      return Reply(MakeProblem(400, "malformed HTTP request: " + ec.message()).ToResponse(), true);
    Close();
  }

  // TLS: no close_notify. Every response is delimited by its length, so a
  // client cannot mistake the TCP close for a truncation (nginx's
  // lingering close does the same for HTTP/1.1).
  void Close() {
    timer_.cancel();
    boost::system::error_code ignore;
    Tcp(socket_).shutdown(tcp::socket::shutdown_send, ignore);
    Tcp(socket_).close(ignore);
  }

  using std::enable_shared_from_this<Session<Executor, Stream>>::shared_from_this;

  Stream socket_;
  Timer<Executor> timer_;
  HttpServer::Core* core_;
  std::shared_ptr<Sessions> sessions_;  // a session can outlive the engine (in the Core's loop)
  boost::beast::flat_buffer buffer_;
  std::optional<wire::RequestParser> parser_;
  std::string remote_;
  Request req_;  // the one being served: it must outlive an asynchronous handler
  std::string head_out_, body_out_;  // the response being written (one at a time)
  std::chrono::steady_clock::time_point deadline_ = std::chrono::steady_clock::time_point::max();
  uint64_t wait_ = 0;     // which timer wait is the current one
  bool waiting_ = false;  // a timer wait is pending
  bool timed_out_ = false;
};

class AsioEngine : public ServerEngine {
 public:
  explicit AsioEngine(std::shared_ptr<HttpServer::Core> core)
      : core_(std::move(core)), acceptor_(*core_->loops[0]) {}
  ~AsioEngine() override { Stop(); }

  void Start() override {
    const ServerOptions& o = core_->options;
    if (o.Tls()) tls_ = MakeTlsContext(o);
    try {
      boost::system::error_code ec;
      auto address = asio::ip::make_address(o.host == "localhost" ? "127.0.0.1" : o.host, ec);
      if (ec) throw std::runtime_error("'" + o.host + "' is not an IP address");
      tcp::endpoint ep(address, o.port);
      acceptor_.open(ep.protocol());
      acceptor_.set_option(asio::socket_base::reuse_address(true));
      acceptor_.bind(ep);
      acceptor_.listen(asio::socket_base::max_listen_connections);
    } catch (const std::exception& e) {
      throw std::runtime_error("http: cannot listen on " + o.host + ":" + std::to_string(o.port) + ": " + e.what());
    }
    port_ = acceptor_.local_endpoint().port();
    for (auto& loop : core_->loops) {
      loop->restart();
      // a loop without connections yet must not run out of work
      work_.push_back(asio::make_work_guard(*loop));
    }
    Accept();
    const size_t loops = core_->loops.size();
    const size_t threads = loops > 1 ? loops : size_t(std::max(1, o.threads));
    for (size_t i = 0; i < threads; ++i)
      threads_.emplace_back([&loop = *core_->loops[i % loops]] {
        pthread_setname_np(pthread_self(), "http");
        RunLoop(loop);
      });
  }

  uint16_t Port() const override { return port_; }

  void Stop() override {
    if (threads_.empty()) return;
    work_.clear();
    for (auto& loop : core_->loops) loop->stop();  // run() returns once the handlers running now finish
    for (auto& t : threads_) t.join();
    threads_.clear();
    boost::system::error_code ignore;
    acceptor_.close(ignore);
    accept_retry_.cancel();
    // No thread runs the loops now: close every connection, then let their
    // handlers see it and release the sessions.
    for (SessionBase* s : sessions_->All()) s->CloseStopped();
    for (auto& loop : core_->loops) {
      loop->restart();
      loop->poll();
    }
  }

 private:
  void Accept() {
    if (core_->one_thread_per_loop) return Accept<LoopExecutor>();
    Accept<Strand>();
  }

  template <class Executor>
  void Accept() {
    // The new connection's loop: dealt out round robin (one loop: always it).
    auto& loop = *core_->loops[next_loop_++ % core_->loops.size()];
    acceptor_.async_accept(ConnectionExecutor<Executor>(loop), [this](boost::system::error_code ec, Socket<Executor> socket) {
      if (ec == asio::error::operation_aborted || !acceptor_.is_open()) return;
      if (!ec) {
        const size_t max = core_->options.max_connections;
        if (max > 0 && sessions_->Size() >= max) {
          // Over the limit: closed at once (the client sees the close and
          // may retry), counted, and said at most once a second.
          if (core_->connections_refused) core_->connections_refused->Increment();  // before the client sees the close
          boost::system::error_code ignore;
          socket.close(ignore);
          auto now = std::chrono::steady_clock::now();
          if (now - last_refusal_warning_ >= std::chrono::seconds(1)) {
            log::Warn("http: connection limit reached; closing new connections", {{"maxConnections", max}});
            last_refusal_warning_ = now;
          }
          return Accept();
        }
        if (tls_)
          std::make_shared<Session<Executor, TlsStream<Executor>>>(TlsStream<Executor>(std::move(socket), *tls_),
                                                                   core_.get(), sessions_)
              ->Begin();
        else
          std::make_shared<Session<Executor>>(std::move(socket), core_.get(), sessions_)->Begin();
        return Accept();
      }
      // Out of descriptors (EMFILE) or memory: the pending connection stays
      // in the backlog and accepting again at once fails again, a busy loop
      // that floods the log. Wait a little, say so at most once a second.
      ++accept_failures_;
      auto now = std::chrono::steady_clock::now();
      if (now - last_accept_warning_ >= std::chrono::seconds(1)) {
        log::Warn("http: accept failed; backing off", {{"error", ec.message()}, {"failures", accept_failures_}});
        last_accept_warning_ = now;
      }
      accept_retry_.expires_after(std::chrono::milliseconds(50));
      accept_retry_.async_wait([this](boost::system::error_code wait_ec) {
        if (!wait_ec && acceptor_.is_open()) Accept();
      });
    });
  }

  // TLS 1.2 and later, the server's cipher order; throws naming the file
  // that cannot be used.
  static std::unique_ptr<asio::ssl::context> MakeTlsContext(const ServerOptions& o) {
    auto ctx = std::make_unique<asio::ssl::context>(asio::ssl::context::tls_server);
    ctx->set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                     asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 | asio::ssl::context::no_tlsv1_1 |
                     asio::ssl::context::single_dh_use | SSL_OP_CIPHER_SERVER_PREFERENCE);
    boost::system::error_code ec;
    ctx->use_certificate_chain_file(o.tls_certificate_file, ec);
    if (ec) throw std::runtime_error("http: cannot use the TLS certificate " + o.tls_certificate_file + ": " + ec.message());
    ctx->use_private_key_file(o.tls_private_key_file, asio::ssl::context::pem, ec);
    if (ec) throw std::runtime_error("http: cannot use the TLS private key " + o.tls_private_key_file + ": " + ec.message());
    if (SSL_CTX_check_private_key(ctx->native_handle()) != 1)
      throw std::runtime_error("http: the TLS private key " + o.tls_private_key_file + " does not match the certificate " +
                               o.tls_certificate_file);
    return ctx;
  }

  std::shared_ptr<HttpServer::Core> core_;  // its loops: asynchronous handlers' I/O shares them
  std::unique_ptr<asio::ssl::context> tls_;  // set in Start when the options name a certificate
  std::shared_ptr<Sessions> sessions_ = std::make_shared<Sessions>();
  tcp::acceptor acceptor_;  // on the first loop
  asio::steady_timer accept_retry_{*core_->loops[0]};  // the acceptor's handler only
  uint64_t accept_failures_ = 0;
  std::chrono::steady_clock::time_point last_accept_warning_{};
  std::chrono::steady_clock::time_point last_refusal_warning_{};
  size_t next_loop_ = 0;    // touched only by the acceptor's handler, one at a time
  uint16_t port_ = 0;
  std::vector<asio::executor_work_guard<asio::io_context::executor_type>> work_;
  std::vector<std::thread> threads_;
};

}  // namespace

std::unique_ptr<ServerEngine> MakeAsioEngine(std::shared_ptr<HttpServer::Core> core) {
  return std::make_unique<AsioEngine>(std::move(core));
}

}  // namespace op::http
