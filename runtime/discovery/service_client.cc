#include "runtime/discovery/service_client.h"

namespace op::discovery {

bool IsIdempotent(const http::ClientRequest& r) {
  return r.method == "GET" || r.method == "HEAD" || r.method == "PUT" || r.method == "DELETE" ||
         r.method == "OPTIONS" || r.headers.Get("idempotency-key").has_value();
}

// Two levels of breaker: each attempt goes through the chosen instance's
// breaker (a bad instance is skipped by the load balancer while it is open);
// the app's breaker sees the outcome of the whole call after retries, so it
// opens only when the app as a whole fails.
CallResult ServiceClient::Call(const std::string& app, http::ClientRequest request, const Options& options) {
  const std::string breaker_name = options.breaker.empty() ? app : options.breaker;
  auto& app_breaker = resilience_.GetCircuitBreaker(breaker_name);
  if (!app_breaker.TryAcquirePermission()) {
    CallResult out;
    out.failure = CallResult::Failure::kBreakerOpen;
    out.error = "circuit breaker '" + breaker_name + "' is OPEN";
    return out;
  }
  const std::string path = request.url;
  std::vector<std::string> tried;
  auto start = std::chrono::steady_clock::now();
  auto attempt = [&]() -> CallResult {
    CallResult out;
    auto inst = lb_.Choose(app, tried);
    if (!inst && !tried.empty()) inst = lb_.Choose(app);  // every one tried: any healthy one again
    if (!inst) {
      out.failure = CallResult::Failure::kNoInstance;
      out.error = "no UP instance of " + app + " with a closed breaker";
      return out;
    }
    tried.push_back(inst->id);
    auto& inst_breaker = resilience_.GetCircuitBreaker(InstanceBreakerName(*inst));
    if (!inst_breaker.TryAcquirePermission()) {
      out.failure = CallResult::Failure::kNoInstance;
      out.error = "circuit breaker '" + InstanceBreakerName(*inst) + "' is OPEN";
      return out;
    }
    http::ClientRequest r = request;
    r.url = inst->base_url + path;
    lb_.OnStart(*inst);
    out.response = http_.Send(r);
    lb_.OnEnd(*inst);
    bool failed = !out.response.ok() || out.response.status >= 500;
    if (failed) inst_breaker.OnError(out.response.elapsed);
    else inst_breaker.OnSuccess(out.response.elapsed);
    if (failed) {
      out.failure = CallResult::Failure::kUpstream;
      out.error = out.response.ok() ? app + " answered " + std::to_string(out.response.status)
                                    : out.response.error_message;
    }
    return out;
  };
  CallResult result = options.retry_idempotent && IsIdempotent(request)
                          ? resilience_.GetRetry(options.retry.empty() ? app : options.retry).Execute(attempt, [](const CallResult& r) {
                              return r.failure == CallResult::Failure::kUpstream ||
                                     r.failure == CallResult::Failure::kNoInstance;
                            })
                          : attempt();
  auto elapsed = std::chrono::steady_clock::now() - start;
  if (result.ok()) app_breaker.OnSuccess(elapsed);
  else app_breaker.OnError(elapsed);
  return result;
}

}  // namespace op::discovery
