#include "runtime/http/async_client.h"

#include <sys/socket.h>

#include <cerrno>

#include <boost/asio/connect.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/read.hpp>
#include <optional>

#include "runtime/http/event_loop.h"
#include "runtime/http/wire_format.h"

namespace op::http {

namespace asio = boost::asio;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;

struct AsyncClient::ConnBase {
  virtual ~ConnBase() = default;
  // Whether the server has closed it (or sent something unasked) while it
  // sat in the pool: such a connection is not reused.
  virtual bool ClosedWhileIdle() = 0;
};

namespace {

// A connection and what outlives one exchange on it: bytes read past a
// response stay in `buffer` (a pooled connection gets reused only when empty).
// Executor: Strand, or LoopExecutor when one thread runs the loop (a loop's
// pool holds connections of its one kind).
template <class Executor>
struct Conn : AsyncClient::ConnBase {
  explicit Conn(asio::io_context& io) : socket(ConnectionExecutor<Executor>(io)), timer(socket.get_executor()) {}
  Socket<Executor> socket;
  Timer<Executor> timer;  // the deadline of the exchange on it (a stale wait sees its exchange `finished`)
  boost::beast::flat_buffer buffer;
  bool ClosedWhileIdle() override {
    char c;
    ssize_t n = ::recv(socket.native_handle(), &c, 1, MSG_PEEK | MSG_DONTWAIT);
    return n >= 0 || (errno != EAGAIN && errno != EWOULDBLOCK);  // 0: closed; >0: an unasked byte; else an error
  }
};

}  // namespace

// One request/response. Every step runs on the connection's executor (the
// socket's and the timer's), so `finished` and the socket are never touched
// by two threads at once.
template <class Executor>
struct AsyncClient::Exchange : std::enable_shared_from_this<AsyncClient::Exchange<Executor>> {
  Exchange(AsyncClient& c, Loop& l, ClientRequest r, Done d) : client(c), loop(l), req(std::move(r)), done(std::move(d)) {}
  using std::enable_shared_from_this<Exchange>::shared_from_this;

  AsyncClient& client;
  Loop& loop;
  ClientRequest req;
  Done done;
  wire::Url url;
  std::string bytes;
  std::unique_ptr<Conn<Executor>> conn;
  std::optional<asio::ip::basic_resolver<tcp, Executor>> resolver;
  std::optional<wire::ResponseParser> parser;
  Clock::time_point start = Clock::now(), deadline;
  std::chrono::milliseconds timeout{0};
  bool reused = false, timed_out = false, finished = false;
  std::string send_error;  // the request could not be sent whole: an early answer is read, if any

  void Begin() {
    timeout = req.timeout.count() > 0 ? req.timeout : client.options_.timeout;
    deadline = start + timeout;
    if (!wire::ParseUrl(req.url, url)) return Fail(ClientResponse::Error::kOther, "not an http:// URL that can be sent");
    if (auto unsafe = wire::UnsafeToSend(req); !unsafe.empty()) return Fail(ClientResponse::Error::kOther, unsafe);
    bytes = wire::Serialize(req, url, client.options_.user_agent);
    conn.reset(static_cast<Conn<Executor>*>(loop.Take(url.host_port).release()));
    reused = conn != nullptr;
    if (!conn) conn = std::make_unique<Conn<Executor>>(*loop.io);
    // From here on, only on the connection's executor.
    asio::dispatch(conn->socket.get_executor(), [self = shared_from_this()] { self->OnExecutor(); });
  }

  void OnExecutor() {
    if (reused) {
      Arm(deadline);
      return Write();
    }
    // Resolving and connecting have their own, shorter bound inside the deadline.
    Arm(std::min(deadline, Clock::now() + client.options_.connect_timeout));
    boost::system::error_code ec;
    auto address = asio::ip::make_address(url.host, ec);
    if (!ec) return Connect({tcp::endpoint(address, url.port_number)});
    resolver.emplace(conn->socket.get_executor());
    resolver->async_resolve(url.host, url.port,
                            [self = shared_from_this()](boost::system::error_code ec, tcp::resolver::results_type r) {
                              if (ec) {
                                if (self->timed_out) return self->Fail(ClientResponse::Error::kTimeout, "timed out resolving");
                                return self->Fail(ClientResponse::Error::kConnect,
                                                  "could not resolve " + self->url.host + ": " + ec.message());
                              }
                              self->Connect(std::vector<tcp::endpoint>(r.begin(), r.end()));
                            });
  }

  // Bounds what runs next: on expiry the socket's operations are cancelled
  // and `timed_out` tells their handlers why. A new Arm replaces the last.
  void Arm(Clock::time_point at) {
    conn->timer.expires_at(at);
    conn->timer.async_wait([self = shared_from_this()](boost::system::error_code ec) {
      if (ec || self->finished) return;  // cancelled, or the exchange ended meanwhile
      self->timed_out = true;
      boost::system::error_code ignore;
      self->conn->socket.cancel(ignore);
      if (self->resolver) self->resolver->cancel();
    });
  }

  void Connect(std::vector<tcp::endpoint> endpoints) {
    asio::async_connect(conn->socket, endpoints,
                        [self = shared_from_this()](boost::system::error_code ec, const tcp::endpoint&) {
                          if (ec) {
                            if (self->timed_out) return self->Fail(ClientResponse::Error::kTimeout, "connect timed out");
                            return self->Fail(ClientResponse::Error::kConnect,
                                              "connect to " + self->url.host_port + ": " + ec.message());
                          }
                          boost::system::error_code ignore;
                          self->conn->socket.set_option(tcp::no_delay(true), ignore);
                          if (self->conn->timer.expiry() != self->deadline) self->Arm(self->deadline);
                          self->Write();
                        });
  }

  void Write() {
    if (timed_out) return Fail(ClientResponse::Error::kTimeout, "timed out after " + std::to_string(timeout.count()) + " ms");
    asio::async_write(conn->socket, asio::buffer(bytes), [self = shared_from_this()](boost::system::error_code ec, size_t) {
      if (!ec) return self->Read();
      if (self->timed_out) return self->Fail(ClientResponse::Error::kTimeout, "timed out sending");
      if (self->reused) return self->Fresh();  // the server had closed the idle connection
      // The server may have answered before taking the whole body (413,
      // 431) and closed: its answer may still be there to read.
      self->send_error = "send: " + ec.message();
      self->Read();
    });
  }

  void Read() {
    if (timed_out) return Fail(ClientResponse::Error::kTimeout, "timed out after " + std::to_string(timeout.count()) + " ms");
    wire::ResetParser(parser, req.method);
    bhttp::async_read(conn->socket, conn->buffer, *parser, [self = shared_from_this()](boost::system::error_code ec, size_t) {
      self->OnRead(ec);
    });
  }

  void OnRead(boost::system::error_code ec) {
    if (ec) {
      if (timed_out)
        return Fail(ClientResponse::Error::kTimeout, "timed out after " + std::to_string(timeout.count()) + " ms");
      bool closed = ec == bhttp::error::end_of_stream || ec == asio::error::eof || ec == asio::error::connection_reset;
      if (!send_error.empty()) return Fail(ClientResponse::Error::kOther, send_error);
      // A reused connection closed with no answer: the server had closed it
      // while idle, or it took the request and went away (a shutdown)
      // without answering. Sent again only when a second copy does no harm
      // (RFC 9110 §9.2.2): a POST sent twice could place two orders.
      if (closed && reused && !parser->got_some() && IsIdempotent(req)) return Fresh();
      if (closed) return Fail(ClientResponse::Error::kOther, "connection closed before a complete response");
      return Fail(ClientResponse::Error::kOther, "bad response: " + ec.message());
    }
    if (wire::IsInterim(parser->status())) return Read();  // the answer follows
    finished = true;
    conn->timer.cancel();
    ClientResponse resp;
    const bool keep_alive = parser->keep_alive() && send_error.empty();
    parser->Take(resp);
    resp.reused_connection = reused;
    resp.elapsed = Clock::now() - start;
    if (keep_alive && conn->buffer.size() == 0) loop.Give(url.host_port, std::move(conn), client.options_.max_idle_handles);
    Done d = std::move(done);
    d(std::move(resp));
  }

  // A pooled connection turned out closed: the same exchange on a new one, once.
  void Fresh() {
    boost::system::error_code ignore;
    conn->socket.close(ignore);
    finished = true;
    conn->timer.cancel();
    auto again = std::make_shared<Exchange>(client, loop, std::move(req), std::move(done));
    again->start = start;
    again->deadline = deadline;
    again->timeout = timeout;
    again->url = std::move(url);
    again->bytes = std::move(bytes);
    again->conn = std::make_unique<Conn<Executor>>(*loop.io);
    asio::dispatch(again->conn->socket.get_executor(), [again] { again->OnExecutor(); });
  }

  void Fail(ClientResponse::Error e, const std::string& why) {
    finished = true;
    if (conn) {
      conn->timer.cancel();
      boost::system::error_code ignore;
      conn->socket.close(ignore);
    }
    ClientResponse resp;
    resp.error = e;
    resp.error_message = req.method + " " + req.url + ": " + why;
    resp.elapsed = Clock::now() - start;
    Done d = std::move(done);
    d(std::move(resp));
  }
};

AsyncClient::AsyncClient(asio::io_context& io, ClientOptions options, bool one_thread_per_loop)
    : AsyncClient(std::vector<asio::io_context*>{&io}, std::move(options), one_thread_per_loop) {}

AsyncClient::AsyncClient(const std::vector<asio::io_context*>& loops, ClientOptions options, bool one_thread_per_loop)
    : options_(std::move(options)), one_thread_per_loop_(one_thread_per_loop) {
  if (loops.empty()) throw std::invalid_argument("AsyncClient needs an event loop");
  for (auto* io : loops) {
    loops_.push_back(std::make_unique<Loop>());
    loops_.back()->io = io;
  }
}

AsyncClient::~AsyncClient() {
  if (tls_pool_) tls_pool_->join();
}

AsyncClient::Loop& AsyncClient::Pick() {
  if (loops_.size() == 1) return *loops_[0];
  if (auto* current = CurrentLoop())
    for (auto& l : loops_)
      if (l->io == current) return *l;
  return *loops_[turn_.fetch_add(1, std::memory_order_relaxed) % loops_.size()];
}

void AsyncClient::Send(ClientRequest req, Done done) {
  if (req.url.rfind("https://", 0) == 0) {
    {
      std::lock_guard lock(mu_);
      if (!tls_pool_) {
        tls_client_ = std::make_unique<HttpClient>(options_);
        tls_pool_ = std::make_unique<asio::thread_pool>(2);
      }
    }
    asio::post(*tls_pool_, [this, req = std::move(req), done = std::move(done)] { done(tls_client_->Send(req)); });
    return;
  }
  if (one_thread_per_loop_) return std::make_shared<Exchange<LoopExecutor>>(*this, Pick(), std::move(req), std::move(done))->Begin();
  std::make_shared<Exchange<Strand>>(*this, Pick(), std::move(req), std::move(done))->Begin();
}

void AsyncClient::After(std::chrono::nanoseconds delay, std::function<void()> fn) {
  auto timer = std::make_shared<asio::steady_timer>(*Pick().io, delay);
  timer->async_wait([timer, fn = std::move(fn)](boost::system::error_code) { fn(); });
}

std::unique_ptr<AsyncClient::ConnBase> AsyncClient::Loop::Take(const std::string& host_port) {
  std::lock_guard lock(mu);
  auto it = idle.find(host_port);
  if (it == idle.end()) return nullptr;
  // The newest first; one the server closed meanwhile (its keep-alive timeout,
  // a restart) is dropped here rather than found out after the request was
  // written, when a POST could no longer be sent again (see OnRead).
  std::unique_ptr<ConnBase> found;
  while (!found && !it->second.empty()) {
    auto c = std::move(it->second.back());
    it->second.pop_back();
    if (!c->ClosedWhileIdle()) found = std::move(c);
  }
  if (it->second.empty()) idle.erase(it);  // hosts come and go: no entry per host ever seen
  return found;
}

void AsyncClient::Loop::Give(const std::string& host_port, std::unique_ptr<ConnBase> c, size_t max_idle) {
  std::lock_guard lock(mu);
  auto& v = idle[host_port];
  if (v.size() < max_idle) v.push_back(std::move(c));
}

}  // namespace op::http
