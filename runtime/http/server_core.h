#pragma once
// Internal to runtime/http: what every server engine shares around a handler,
// and the engine interface. An engine owns sockets and threads and turns bytes
// into a Request and a Response back into bytes; Core does the rest
// (correlation ids, body limit, routing, errors as problem+json, metrics,
// access log), so both engines behave the same to handlers and clients.
#include <atomic>
#include <chrono>
#include <memory>
#include <string>

#include "runtime/http/server.h"

namespace op::http {

struct HttpServer::Core {
  std::shared_ptr<const Router> router;
  ServerOptions options;
  std::atomic<int> in_flight{0};
  prometheus::Family<prometheus::Histogram>* requests = nullptr;
  prometheus::Gauge* active = nullptr;

  // One request through the router. Reads and sets the correlation headers
  // (X-Request-Id, X-Correlation-Id, traceparent) on `req` and the response;
  // `route` gets the metric label (the template, NOT_FOUND, ...).
  Response Serve(Request& req, std::string& route);
  // Once the response is final, before it is written (so a client that has
  // its answer also finds it in the metrics): the histogram observation and
  // the access log line.
  void Record(const Request& req, int status, size_t body_bytes, const std::string& route,
              std::chrono::steady_clock::time_point start);
  // After the response is written: the request stops counting as in flight
  // (what Shutdown() drains).
  void Finish();
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
