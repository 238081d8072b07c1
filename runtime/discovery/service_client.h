#pragma once
// Calls another application by name: picks an instance through the load
// balancer, guards the call with the app's circuit breaker (named after the
// app) and the instance's breaker, and retries idempotent requests on another
// instance with the app's Retry (full-jitter backoff, retry budget).
// A 5xx, a timeout or a connection error counts as a failure; a 4xx is the
// caller's problem and counts as a success for the breakers.
#include <functional>
#include <optional>
#include <string>

#include "runtime/discovery/discovery.h"
#include "runtime/http/async_client.h"
#include "runtime/http/client.h"

namespace op::discovery {

struct CallResult {
  http::ClientResponse response;  // valid when ok()
  enum class Failure { kNone, kNoInstance, kBreakerOpen, kUpstream } failure = Failure::kNone;
  std::string error;
  bool ok() const { return failure == Failure::kNone; }
};

class ServiceClient {
 public:
  ServiceClient(LoadBalancer& lb, http::HttpClient& http, resilience::ResilienceRegistry& resilience)
      : lb_(lb), http_(http), resilience_(resilience) {}
  struct Options {
    std::string breaker;   // default: the app's name
    std::string retry;     // default: the app's name
    bool retry_idempotent = true;
    bool with_token = true;  // Call() adds this program's token (SetTokenSource) unless the request has one
  };
  // `request.url` is a path ("/api/products/SKU-1"); the base URL is chosen here.
  CallResult Call(const std::string& app, http::ClientRequest request) { return Call(app, std::move(request), Options{}); }
  CallResult Call(const std::string& app, http::ClientRequest request, const Options& options);
  // The same call without blocking the caller: attempts go out on `client`'s
  // io_context, backoffs wait on its timers, and `done` runs once with the
  // result (on one of the io_context's threads, or inline when no attempt
  // could start).
  void CallAsync(const std::string& app, http::ClientRequest request, const Options& options,
                 http::AsyncClient& client, std::function<void(CallResult)> done);

  // This program's own bearer token (client_credentials), which Call() adds
  // to a request that has no Authorization of its own; nullopt: the request
  // goes without (and the callee answers 401). Set by the runtime before
  // the first call. CallAsync never adds one: fetching it may block, and its
  // callers (the gateway) forward their client's token instead.
  using TokenSource = std::function<std::optional<std::string>()>;
  void SetTokenSource(TokenSource source) { token_source_ = std::move(source); }

  class Plan;  // one call's instance choice, breakers and retry decisions

 private:
  LoadBalancer& lb_;
  http::HttpClient& http_;
  resilience::ResilienceRegistry& resilience_;
  TokenSource token_source_;
};

// One upstream answer as a call's result, recorded on `breaker`: no answer or
// a 5xx is a failure (kUpstream, the error naming `upstream`), anything else a
// success. For callers guarding a URL with a breaker of their own.
CallResult RecordOutcome(http::ClientResponse response, resilience::CircuitBreaker& breaker, const std::string& upstream);

}  // namespace op::discovery
