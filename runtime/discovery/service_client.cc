#include "runtime/discovery/service_client.h"

#include <cctype>
#include <optional>
#include <thread>

#include "runtime/tracing/tracing.h"

namespace op::discovery {

CallResult RecordOutcome(http::ClientResponse response, resilience::CircuitBreaker& breaker, const std::string& upstream) {
  CallResult out;
  out.response = std::move(response);
  bool failed = !out.response.ok() || out.response.status >= 500;
  if (failed) breaker.OnError(out.response.elapsed);
  else breaker.OnSuccess(out.response.elapsed);
  if (failed) {
    out.failure = CallResult::Failure::kUpstream;
    out.error = out.response.ok() ? upstream + " answered " + std::to_string(out.response.status)
                                  : out.response.error_message;
  }
  return out;
}

// One call's decisions, shared by the blocking and the asynchronous path, so
// both pick, guard, retry and account the same way. Two levels of breaker:
// each attempt goes through the chosen instance's breaker (a bad instance is
// skipped by the load balancer while it is open); the app's breaker sees the
// outcome of the whole call after retries, so it opens only when the app as a
// whole fails.
class ServiceClient::Plan {
 public:
  Plan(ServiceClient& c, std::string app, http::ClientRequest request, const Options& options)
      : c_(c), app_(std::move(app)), request_(std::move(request)), path_(request_.url),
        breaker_name_(options.breaker.empty() ? app_ : options.breaker),
        app_breaker_(c.resilience_.GetCircuitBreaker(breaker_name_)),
        retry_(options.retry_idempotent && http::IsIdempotent(request_)
                   ? &c.resilience_.GetRetry(options.retry.empty() ? app_ : options.retry)
                   : nullptr) {}

  // The app's breaker: false (and `out` says why) when the call may not start.
  bool Begin(CallResult& out) {
    if (!app_breaker_.TryAcquirePermission()) {
      out.failure = CallResult::Failure::kBreakerOpen;
      out.error = "circuit breaker '" + breaker_name_ + "' is OPEN";
      return false;
    }
    start_ = std::chrono::steady_clock::now();
    if (retry_) retry_->OnCall();
    return true;
  }

  // The next attempt's request (an instance chosen, its breaker permitting),
  // or false with `out` saying why there is none.
  bool StartAttempt(http::ClientRequest& req, CallResult& out) {
    ++attempt_;
    auto inst = c_.lb_.Choose(app_, tried_);
    if (!inst && !tried_.empty()) inst = c_.lb_.Choose(app_);  // every one tried: any healthy one again
    if (!inst) {
      out.failure = CallResult::Failure::kNoInstance;
      out.error = "no UP instance of " + app_ + " with a closed breaker";
      return false;
    }
    tried_.push_back(inst->id);
    inst_breaker_ = c_.resilience_.SharedCircuitBreaker(InstanceBreakerName(*inst));  // held: the instance may leave meanwhile
    if (!inst_breaker_->TryAcquirePermission()) {
      out.failure = CallResult::Failure::kNoInstance;
      out.error = "circuit breaker '" + InstanceBreakerName(*inst) + "' is OPEN";
      return false;
    }
    instance_ = *inst;
    req = request_;
    req.url = inst->base_url + path_;
    c_.lb_.OnStart(instance_);
    return true;
  }

  CallResult FinishAttempt(http::ClientResponse response) {
    c_.lb_.OnEnd(instance_);
    return RecordOutcome(std::move(response), *inst_breaker_, app_);
  }

  // After an attempt: how long to wait before the next one, or nullopt when
  // `result` is the call's result (then End() it).
  std::optional<std::chrono::nanoseconds> RetryAfter(const CallResult& result) {
    if (!retry_) return std::nullopt;
    bool retryable = result.failure == CallResult::Failure::kUpstream || result.failure == CallResult::Failure::kNoInstance;
    if (!retryable) {
      retry_->OnSuccess(attempt_);
      return std::nullopt;
    }
    return retry_->OnFailure(attempt_);
  }

  CallResult End(CallResult result) {
    auto elapsed = std::chrono::steady_clock::now() - start_;
    if (result.ok()) app_breaker_.OnSuccess(elapsed);
    else app_breaker_.OnError(elapsed);
    return result;
  }

 private:
  ServiceClient& c_;
  const std::string app_;
  const http::ClientRequest request_;
  const std::string path_;
  const std::string breaker_name_;
  resilience::CircuitBreaker& app_breaker_;
  resilience::Retry* const retry_;
  std::vector<std::string> tried_;
  Instance instance_;
  std::shared_ptr<resilience::CircuitBreaker> inst_breaker_;
  std::chrono::steady_clock::time_point start_;
  int attempt_ = 0;
};

namespace {
// The client span of a call made while serving a request (or handling an
// event): its context goes out in traceparent, and the span is reported once
// the call (all its attempts) is over.
class ClientSpan {
 public:
  ClientSpan(const std::string& app, http::ClientRequest& request) {
    const TraceParent* current = tracing::Current();
    if (!current || request.headers.Get("traceparent")) return;
    context_ = current->Child();
    request.headers.Set("traceparent", context_->ToString());
    if (!tracing::Global() || !tracing::Sampled(*context_)) return;
    span_.trace_id = context_->trace_id;
    span_.id = context_->span_id;
    span_.parent_id = current->span_id;
    std::string method = request.method;
    for (auto& c : method) c = char(std::tolower(static_cast<unsigned char>(c)));
    span_.name = method;
    span_.kind = tracing::SpanKind::kClient;
    span_.remote_service = app;
    span_.timestamp_us = tracing::NowMicros();
    span_.tags = {{"http.method", request.method}, {"http.path", request.url.substr(0, 256)}};
    report_ = true;
  }
  void Finish(const CallResult& result) {
    auto* tracer = tracing::Global();
    if (!report_ || !tracer) return;
    span_.duration_us = tracing::NowMicros() - span_.timestamp_us;
    if (result.ok()) span_.tags["http.status_code"] = std::to_string(result.response.status);
    if (!result.ok()) span_.tags["error"] = result.error.substr(0, 256);
    else if (result.response.status >= 500) span_.tags["error"] = std::to_string(result.response.status);
    tracer->Report(std::move(span_));
  }

 private:
  std::optional<TraceParent> context_;
  tracing::Span span_;
  bool report_ = false;
};
}  // namespace

CallResult ServiceClient::Call(const std::string& app, http::ClientRequest request, const Options& options) {
  if (token_source_ && options.with_token && !request.headers.Get("authorization"))
    if (auto token = token_source_()) request.headers.Set("Authorization", "Bearer " + *token);
  ClientSpan span(app, request);
  Plan plan(*this, app, std::move(request), options);
  CallResult result;
  if (!plan.Begin(result)) {
    span.Finish(result);
    return result;
  }
  for (;;) {
    http::ClientRequest req;
    result = {};
    if (plan.StartAttempt(req, result)) result = plan.FinishAttempt(http_.Send(req));
    auto wait = plan.RetryAfter(result);
    if (!wait) {
      result = plan.End(std::move(result));
      span.Finish(result);
      return result;
    }
    std::this_thread::sleep_for(*wait);
  }
}

namespace {
// The asynchronous call's state between its attempts; each pending step
// (the upstream's answer, the backoff timer) holds it alive.
struct AsyncCall : std::enable_shared_from_this<AsyncCall> {
  AsyncCall(std::unique_ptr<ServiceClient::Plan> p, http::AsyncClient& c, std::function<void(CallResult)> d)
      : plan(std::move(p)), client(c), done(std::move(d)) {}
  std::unique_ptr<ServiceClient::Plan> plan;
  http::AsyncClient& client;
  std::function<void(CallResult)> done;

  void Attempt() {
    http::ClientRequest req;
    CallResult result;
    if (!plan->StartAttempt(req, result)) return Next(std::move(result));
    client.Send(std::move(req), [self = shared_from_this()](http::ClientResponse r) {
      self->Next(self->plan->FinishAttempt(std::move(r)));
    });
  }
  void Next(CallResult result) {
    auto wait = plan->RetryAfter(result);
    if (!wait) return done(plan->End(std::move(result)));
    client.After(*wait, [self = shared_from_this()] { self->Attempt(); });
  }
};
}  // namespace

void ServiceClient::CallAsync(const std::string& app, http::ClientRequest request, const Options& options,
                              http::AsyncClient& client, std::function<void(CallResult)> done) {
  auto plan = std::make_unique<Plan>(*this, app, std::move(request), options);
  CallResult early;
  if (!plan->Begin(early)) return done(std::move(early));
  std::make_shared<AsyncCall>(std::move(plan), client, std::move(done))->Attempt();
}

}  // namespace op::discovery
