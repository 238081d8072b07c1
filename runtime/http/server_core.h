#pragma once
// Internal to runtime/http: what every server engine shares around a handler,
// and the engine interface. An engine owns sockets and threads and turns bytes
// into a Request and a Response back into bytes; Core does the rest
// (correlation ids, body limit, routing, errors as problem+json, metrics,
// access log), so both engines behave the same to handlers and clients.
#include <boost/asio/io_context.hpp>

#include <atomic>
#include <chrono>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "runtime/http/server.h"
#include "runtime/metrics/children.h"
#include "runtime/metrics/window_max.h"

namespace op::http {

struct HttpServer::Core {
  std::shared_ptr<const Router> router;
  ServerOptions options;
  std::atomic<int> in_flight{0};
  // Set by Shutdown before it waits for in_flight: a request that starts
  // after it is answered 503 at once instead of racing the stop (it would
  // otherwise run, commit, and lose its answer with the connection).
  std::atomic<bool> draining{false};
  // http_server_requests_seconds by method, uri, status, outcome and
  // exception, as Micrometer's Timer: a histogram and a _max gauge (the
  // largest in the last two minutes).
  struct RequestTimer {
    RequestTimer(prometheus::Histogram& h, metrics::Labels l) : histogram(h), labels(std::move(l)) {}
    void Observe(double seconds) {
      histogram.Observe(seconds);
      max.Record(seconds);
    }
    prometheus::Histogram& histogram;
    metrics::Labels labels;
    metrics::WindowMax max;
  };
  std::unique_ptr<metrics::Children<RequestTimer>> requests;
  std::mutex timers_mu;              // timers: added by `requests`, read by the _max collector
  std::deque<RequestTimer> timers;   // a deque: the children keep their addresses
  prometheus::Gauge* active = nullptr;
  prometheus::Counter* connections_refused = nullptr;  // over ServerOptions::max_connections
  // The event loops asynchronous handlers do their I/O on. One, unless the
  // Asio engine runs a loop per thread (ServerOptions::loop_per_thread): then
  // one per thread, each owning the connections accepted onto it. The Asio
  // engine serves on them; with Pistache one thread of its own runs loops[0].
  std::vector<std::unique_ptr<boost::asio::io_context>> loops;
  // Each loop is run by one thread (see HttpServer::OneThreadPerLoop).
  bool one_thread_per_loop = false;

  // One request through the router. Reads and sets the correlation headers
  // (X-Request-Id, X-Correlation-Id, traceparent) on `req` and the response,
  // and, once the response is final but before the engine writes it (so a
  // client that has its answer also finds it in the metrics), observes
  // http_server_requests_seconds since `start` and writes the access log line.
  // `done` gets the response: inline for a synchronous handler, from the
  // handler's thread for an asynchronous one; `req` must live until then.
  // The request counts as in flight until Finish().
  void Serve(Request& req, std::chrono::steady_clock::time_point start, Respond done);
  // The 413 for a body over max_body_bytes (`size` when it is known).
  Problem BodyTooLarge(std::optional<uint64_t> size) const;
  // After the response is written: the request stops counting as in flight
  // (what Shutdown() drains).
  void Finish();
  // Finish() for an answer only queued to the engine's writer thread (Pistache,
  // an asynchronous handler): Shutdown gives such a write a grace to land.
  void FinishQueued();
  std::atomic<int64_t> last_queued_ns{0};  // steady clock, of the latest FinishQueued
};

class ServerEngine {
 public:
  virtual ~ServerEngine() = default;
  // Binds and serves on background threads; throws std::runtime_error on failure.
  virtual void Start() = 0;
  virtual uint16_t Port() const = 0;
  // Stops accepting and closes every connection; joins the threads.
  virtual void Stop() = 0;
};

std::unique_ptr<ServerEngine> MakePistacheEngine(std::shared_ptr<HttpServer::Core> core);
std::unique_ptr<ServerEngine> MakeAsioEngine(std::shared_ptr<HttpServer::Core> core);

}  // namespace op::http
