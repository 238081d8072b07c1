#pragma once
// HTTP server: Pistache underneath, Router + handlers on top. Adds what every
// service needs around a handler: request/correlation/trace ids in the log
// context and response, a body size limit (413), problem+json for errors and
// exceptions, one access-log line and one http_server_requests_seconds
// observation (labelled by the route template) per request, and a graceful
// drain for SIGTERM.
//
// Two engines carry the bytes, chosen by ServerOptions::engine: Pistache
// (every service's default) and Boost.Asio + Beast (the gateway's default: it
// costs about half the system calls per request, see docs/benchmarks.md).
// Handlers, headers, errors, metrics and logs are the same on both.
//
// Threads: the engine owns `threads` threads; handlers run on them and may
// block (database calls, upstream calls), so size `threads` for the blocking
// work. Pistache pins each connection to one reactor thread; Asio runs one
// event loop on all threads, so a blocked handler holds only its connection.
// With `loop_per_thread` (Asio only, for servers whose handlers never block,
// like the gateway) each thread runs an event loop of its own and owns the
// connections accepted onto it, round robin: no loop shared between threads,
// no hand-offs (the worker model of nginx and Envoy).
#include <atomic>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/http/router.h"
#include "runtime/metrics/metrics.h"

namespace boost::asio {
class io_context;
}

namespace op::http {

enum class ServerEngineKind { kPistache, kAsio };
// "pistache" or "asio"; nullopt for anything else.
std::optional<ServerEngineKind> ParseServerEngine(std::string_view name);

class ServerEngine;

struct ServerOptions {
  ServerEngineKind engine = ServerEngineKind::kPistache;
  std::string host = "0.0.0.0";
  uint16_t port = 0;  // 0: an ephemeral port (see Port())
  int threads = 4;
  size_t max_body_bytes = 1 << 20;  // 1 MiB → larger bodies get 413
  std::chrono::milliseconds header_timeout{10'000};
  std::chrono::milliseconds body_timeout{30'000};
  bool access_log = true;
  bool loop_per_thread = false;  // Asio engine: a loop per thread; handlers must not block
  // Asio engine: open connections at most; one more is closed at once and
  // counted in http_server_connections_refused_total (0: no limit).
  size_t max_connections = 10000;
  // HTTPS (Asio engine only) when both are set: a PEM certificate chain (the
  // server's certificate first) and its PEM private key. TLS 1.2 and 1.3.
  std::string tls_certificate_file;
  std::string tls_private_key_file;
  bool Tls() const { return !tls_certificate_file.empty(); }
};

class HttpServer {
 public:
  HttpServer(ServerOptions options, std::shared_ptr<const Router> router,
             metrics::MetricsRegistry* metrics = nullptr);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds and starts serving; throws std::runtime_error naming host:port on failure.
  void Start();
  uint16_t Port() const;
  int InFlight() const;
  // The event loop for asynchronous handlers' I/O (an AsyncClient on it): the
  // Asio engine's own loop, or, on Pistache when the router has asynchronous
  // routes, a loop on one thread of its own. Exists from construction; runs
  // from Start() to Shutdown().
  boost::asio::io_context& io_context();  // the first of loops()
  std::vector<boost::asio::io_context*> loops();
  // Whether each of loops() is run by one thread only: then I/O on them needs
  // no strand (AsyncClient's `one_thread_per_loop`).
  bool OneThreadPerLoop() const;
  // Waits (up to `drain_timeout`) for in-flight requests to finish, then stops.
  // Returns false when requests were still running at the deadline.
  bool Shutdown(std::chrono::milliseconds drain_timeout = std::chrono::seconds(10));

  struct Core;

 private:
  ServerOptions options_;
  std::shared_ptr<Core> core_;
  std::unique_ptr<ServerEngine> engine_;
  bool running_ = false;
  metrics::MetricsRegistry* metrics_ = nullptr;  // the _max collector's, removed with the server
  int collector_id_ = -1;
};

}  // namespace op::http
