#include "runtime/resilience/registry.h"

#include <fmt/format.h>

namespace op::resilience {

namespace {

using config::Type;
using std::chrono::nanoseconds;

struct Key {
  const char* kind;
  const char* key;
  Type type;
  const char* def;
  const char* help;
  std::optional<double> min, max;
};

// Defaults are Resilience4j's, except where noted.
const Key kKeys[] = {
    {"circuitbreaker", "failure-rate-threshold", Type::kDouble, "50", "percent of failed calls that opens the breaker", 0.001, 100},
    {"circuitbreaker", "slow-call-rate-threshold", Type::kDouble, "100", "percent of slow calls that opens the breaker", 0.001, 100},
    {"circuitbreaker", "slow-call-duration-threshold", Type::kDuration, "60s", "a call at least this long is slow", 1, {}},
    {"circuitbreaker", "permitted-number-of-calls-in-half-open-state", Type::kInt, "10", "trial calls in HALF_OPEN", 1, 100000},
    {"circuitbreaker", "max-wait-duration-in-half-open-state", Type::kDuration, "0", "HALF_OPEN longer than this reopens (0: no limit)", 0, {}},
    {"circuitbreaker", "sliding-window-type", Type::kString, "COUNT_BASED", "COUNT_BASED or TIME_BASED", {}, {}},
    {"circuitbreaker", "sliding-window-size", Type::kInt, "100", "calls (count-based) or seconds (time-based)", 1, 100000},
    {"circuitbreaker", "minimum-number-of-calls", Type::kInt, "100", "calls before rates are computed", 1, 100000},
    {"circuitbreaker", "wait-duration-in-open-state", Type::kDuration, "60s", "OPEN for this long before HALF_OPEN", 1, {}},
    {"circuitbreaker", "base-config", Type::kString, "default", "configs.NAME to inherit from", {}, {}},
    {"retry", "max-attempts", Type::kInt, "3", "attempts including the first", 1, 100},
    {"retry", "wait-duration", Type::kDuration, "500ms", "first backoff", 0, {}},
    {"retry", "exponential-backoff-multiplier", Type::kDouble, "2", "backoff growth per attempt", 1, 100},
    {"retry", "exponential-max-wait-duration", Type::kDuration, "30s", "backoff cap", 0, {}},
    {"retry", "enable-randomized-wait", Type::kBool, "true", "full jitter (uniform in [0, backoff])", {}, {}},
    {"retry", "retry-budget-ratio", Type::kDouble, "0.1", "retries allowed per first attempt (not in Resilience4j)", 0, 10},
    {"retry", "retry-budget-min-retries", Type::kInt, "10", "retry burst always allowed (not in Resilience4j)", 0, 1000000},
    {"retry", "base-config", Type::kString, "default", "configs.NAME to inherit from", {}, {}},
    {"bulkhead", "max-concurrent-calls", Type::kInt, "25", "concurrent calls allowed", 1, 1000000},
    {"bulkhead", "max-wait-duration", Type::kDuration, "0", "wait for a slot at most", 0, {}},
    {"bulkhead", "base-config", Type::kString, "default", "configs.NAME to inherit from", {}, {}},
    {"ratelimiter", "limit-for-period", Type::kInt, "50", "permits per refresh period (and burst)", 1, 100000000},
    {"ratelimiter", "limit-refresh-period", Type::kDuration, "1s", "period of limit-for-period (Resilience4j: 500ns)", 1, {}},
    {"ratelimiter", "timeout-duration", Type::kDuration, "0", "wait for a permit at most (Resilience4j: 5s)", 0, {}},
    {"ratelimiter", "base-config", Type::kString, "default", "configs.NAME to inherit from", {}, {}},
    {"timelimiter", "timeout-duration", Type::kDuration, "1s", "wait for a result at most", 1, {}},
    {"timelimiter", "cancel-running-future", Type::kBool, "true", "signal the work to stop on timeout", {}, {}},
    {"timelimiter", "base-config", Type::kString, "default", "configs.NAME to inherit from", {}, {}},
};

const Key& Find(const std::string& kind, const std::string& key) {
  for (const auto& k : kKeys)
    if (kind == k.kind && key == k.key) return k;
  throw std::logic_error("undeclared resilience key " + kind + "." + key);
}

std::string Pct(float v) { return fmt::format("{:.1f}%", v); }

}  // namespace

void ResilienceRegistry::DeclareSchema(config::Schema& schema) {
  for (const auto& k : kKeys)
    for (const char* scope : {"instances", "configs"})
      schema.Add(config::KeySpec{fmt::format("resilience.{}.{}.*.{}", k.kind, scope, k.key), k.type,
                                 k.def, k.help, k.min, k.max});
}

ResilienceRegistry::ResilienceRegistry(const config::Config* cfg, const Clock& clock)
    : cfg_(cfg), clock_(clock) {
  if (!cfg_) return;
  // Create every configured instance now so a bad value fails start-up.
  for (auto& n : cfg_->InstanceNames("resilience.circuitbreaker.instances")) GetCircuitBreaker(n);
  for (auto& n : cfg_->InstanceNames("resilience.retry.instances")) GetRetry(n);
  for (auto& n : cfg_->InstanceNames("resilience.bulkhead.instances")) GetBulkhead(n);
  for (auto& n : cfg_->InstanceNames("resilience.ratelimiter.instances")) GetRateLimiter(n);
  for (auto& n : cfg_->InstanceNames("resilience.timelimiter.instances")) GetTimeLimiter(n);
  // A base-config must name an existing configs entry (or the implicit default).
  for (const char* kind : {"circuitbreaker", "retry", "bulkhead", "ratelimiter", "timelimiter"}) {
    auto configs = cfg_->InstanceNames(fmt::format("resilience.{}.configs", kind));
    for (auto& n : cfg_->InstanceNames(fmt::format("resilience.{}.instances", kind))) {
      std::string key = fmt::format("resilience.{}.instances.{}.base-config", kind, n);
      if (!cfg_->Has(key)) continue;
      std::string base = cfg_->GetString(key);
      if (base != "default" && std::find(configs.begin(), configs.end(), base) == configs.end())
        throw config::ConfigError(fmt::format("key '{}' names configs '{}', which is not defined", key, base));
    }
  }
}

// The concrete key to read for instance `name`: its own, its base config's, or
// (returned as the instance key, whose declared default then applies) neither.
std::string ResilienceRegistry::Key(const std::string& kind, const std::string& instance,
                                    const std::string& key) const {
  // "APP@host:port" (one breaker per upstream instance) is configured by APP's entry.
  std::string name = instance.substr(0, instance.find('@'));
  std::string own = fmt::format("resilience.{}.instances.{}.{}", kind, name, key);
  if (name.find('.') != std::string::npos) {  // cannot be a config key: defaults only
    std::string dflt = fmt::format("resilience.{}.configs.default.{}", kind, key);
    return cfg_ && cfg_->Has(dflt) ? dflt : fmt::format("resilience.{}.instances._.{}", kind, key);
  }
  if (!cfg_ || cfg_->Has(own)) return own;
  std::string base_key = fmt::format("resilience.{}.instances.{}.base-config", kind, name);
  std::string base = cfg_->Has(base_key) ? cfg_->GetString(base_key) : "default";
  std::string inherited = fmt::format("resilience.{}.configs.{}.{}", kind, base, key);
  return cfg_->Has(inherited) ? inherited : own;
}

namespace {
// Reads through the config when present, else the built-in default.
struct Reader {
  const config::Config* cfg;
  std::string Str(const std::string& key, const std::string& kind, const char* k) const {
    return cfg ? cfg->GetString(key) : Find(kind, k).def;
  }
  double Num(const std::string& key, const std::string& kind, const char* k) const {
    return cfg ? cfg->GetDouble(key) : std::stod(Find(kind, k).def);
  }
  nanoseconds Dur(const std::string& key, const std::string& kind, const char* k) const {
    return cfg ? nanoseconds(cfg->GetDuration(key))
               : nanoseconds(*config::ParseDuration(Find(kind, k).def));
  }
  bool Bool(const std::string& key, const std::string& kind, const char* k) const {
    return cfg ? cfg->GetBool(key) : std::string(Find(kind, k).def) == "true";
  }
};
}  // namespace

CircuitBreakerConfig ResilienceRegistry::CircuitBreakerConfigFor(const std::string& name) const {
  Reader r{cfg_};
  const std::string kind = "circuitbreaker";
  auto k = [&](const char* key) { return Key(kind, name, key); };
  CircuitBreakerConfig c;
  c.failure_rate_threshold = r.Num(k("failure-rate-threshold"), kind, "failure-rate-threshold");
  c.slow_call_rate_threshold = r.Num(k("slow-call-rate-threshold"), kind, "slow-call-rate-threshold");
  c.slow_call_duration_threshold = r.Dur(k("slow-call-duration-threshold"), kind, "slow-call-duration-threshold");
  c.permitted_calls_in_half_open = int(r.Num(k("permitted-number-of-calls-in-half-open-state"), kind,
                                             "permitted-number-of-calls-in-half-open-state"));
  c.max_wait_in_half_open = r.Dur(k("max-wait-duration-in-half-open-state"), kind, "max-wait-duration-in-half-open-state");
  std::string type_key = k("sliding-window-type");
  std::string type = r.Str(type_key, kind, "sliding-window-type");
  if (type == "COUNT_BASED") c.window_type = CircuitBreakerConfig::WindowType::kCountBased;
  else if (type == "TIME_BASED") c.window_type = CircuitBreakerConfig::WindowType::kTimeBased;
  else throw config::ConfigError(fmt::format("key '{}' must be COUNT_BASED or TIME_BASED: got '{}'", type_key, type));
  c.sliding_window_size = int(r.Num(k("sliding-window-size"), kind, "sliding-window-size"));
  c.minimum_number_of_calls = int(r.Num(k("minimum-number-of-calls"), kind, "minimum-number-of-calls"));
  c.wait_duration_in_open_state = r.Dur(k("wait-duration-in-open-state"), kind, "wait-duration-in-open-state");
  return c;
}

CircuitBreaker& ResilienceRegistry::GetCircuitBreaker(const std::string& name) {
  {
    std::lock_guard lock(mu_);
    auto it = breakers_.find(name);
    if (it != breakers_.end()) return *it->second;
  }
  return GetCircuitBreaker(name, CircuitBreakerConfigFor(name));
}

CircuitBreaker& ResilienceRegistry::GetCircuitBreaker(const std::string& name,
                                                      const CircuitBreakerConfig& cfg) {
  std::lock_guard lock(mu_);
  auto& slot = breakers_[name];
  if (!slot) slot = std::make_shared<CircuitBreaker>(name, cfg, clock_);
  return *slot;
}

std::shared_ptr<CircuitBreaker> ResilienceRegistry::SharedCircuitBreaker(const std::string& name) {
  {
    std::lock_guard lock(mu_);
    auto it = breakers_.find(name);
    if (it != breakers_.end()) return it->second;
  }
  auto cfg = CircuitBreakerConfigFor(name);
  std::lock_guard lock(mu_);
  auto& slot = breakers_[name];
  if (!slot) slot = std::make_shared<CircuitBreaker>(name, cfg, clock_);
  return slot;
}

std::shared_ptr<CircuitBreaker> ResilienceRegistry::FindCircuitBreaker(const std::string& name) const {
  std::lock_guard lock(mu_);
  auto it = breakers_.find(name);
  return it == breakers_.end() ? nullptr : it->second;
}

bool ResilienceRegistry::RemoveCircuitBreaker(const std::string& name) {
  std::lock_guard lock(mu_);
  return breakers_.erase(name) > 0;
}

Retry& ResilienceRegistry::GetRetry(const std::string& name) {
  std::lock_guard lock(mu_);
  auto& slot = retries_[name];
  if (!slot) {
    Reader r{cfg_};
    const std::string kind = "retry";
    auto k = [&](const char* key) { return Key(kind, name, key); };
    RetryConfig c;
    c.max_attempts = int(r.Num(k("max-attempts"), kind, "max-attempts"));
    c.wait_duration = r.Dur(k("wait-duration"), kind, "wait-duration");
    c.exponential_multiplier = r.Num(k("exponential-backoff-multiplier"), kind, "exponential-backoff-multiplier");
    c.max_wait_duration = r.Dur(k("exponential-max-wait-duration"), kind, "exponential-max-wait-duration");
    c.full_jitter = r.Bool(k("enable-randomized-wait"), kind, "enable-randomized-wait");
    c.budget_ratio = r.Num(k("retry-budget-ratio"), kind, "retry-budget-ratio");
    c.budget_min_retries = int(r.Num(k("retry-budget-min-retries"), kind, "retry-budget-min-retries"));
    slot = std::make_unique<Retry>(name, c);
  }
  return *slot;
}

Bulkhead& ResilienceRegistry::GetBulkhead(const std::string& name) {
  std::lock_guard lock(mu_);
  auto& slot = bulkheads_[name];
  if (!slot) {
    Reader r{cfg_};
    const std::string kind = "bulkhead";
    BulkheadConfig c;
    c.max_concurrent_calls = int(r.Num(Key(kind, name, "max-concurrent-calls"), kind, "max-concurrent-calls"));
    c.max_wait_duration = r.Dur(Key(kind, name, "max-wait-duration"), kind, "max-wait-duration");
    slot = std::make_unique<Bulkhead>(name, c);
  }
  return *slot;
}

Bulkhead& ResilienceRegistry::GetBulkhead(const std::string& name, const BulkheadConfig& cfg) {
  std::lock_guard lock(mu_);
  auto& slot = bulkheads_[name];
  if (!slot) slot = std::make_unique<Bulkhead>(name, cfg);
  return *slot;
}

RateLimiter& ResilienceRegistry::GetRateLimiter(const std::string& name) {
  std::lock_guard lock(mu_);
  auto& slot = rate_limiters_[name];
  if (!slot) {
    Reader r{cfg_};
    const std::string kind = "ratelimiter";
    RateLimiterConfig c;
    c.limit_for_period = int(r.Num(Key(kind, name, "limit-for-period"), kind, "limit-for-period"));
    c.limit_refresh_period = r.Dur(Key(kind, name, "limit-refresh-period"), kind, "limit-refresh-period");
    c.timeout_duration = r.Dur(Key(kind, name, "timeout-duration"), kind, "timeout-duration");
    slot = std::make_unique<RateLimiter>(name, c, clock_);
  }
  return *slot;
}

TimeLimiter& ResilienceRegistry::GetTimeLimiter(const std::string& name) {
  std::lock_guard lock(mu_);
  auto& slot = time_limiters_[name];
  if (!slot) {
    Reader r{cfg_};
    const std::string kind = "timelimiter";
    TimeLimiterConfig c;
    c.timeout_duration = r.Dur(Key(kind, name, "timeout-duration"), kind, "timeout-duration");
    c.cancel_running_future = r.Bool(Key(kind, name, "cancel-running-future"), kind, "cancel-running-future");
    slot = std::make_unique<TimeLimiter>(name, c);
  }
  return *slot;
}

void ResilienceRegistry::Collect(metrics::Families& out) const {
  using prometheus::MetricType;
  using metrics::Family;
  using metrics::AddSample;
  std::lock_guard lock(mu_);
  if (!breakers_.empty()) {
    auto state = Family("resilience4j_circuitbreaker_state", "The states of the circuit breaker", MetricType::Gauge);
    auto calls = Family("resilience4j_circuitbreaker_calls_seconds", "Total number of calls which finished successfully, failed or were ignored", MetricType::Histogram);
    auto np = Family("resilience4j_circuitbreaker_not_permitted_calls_total", "Total number of not permitted calls", MetricType::Counter);
    auto fr = Family("resilience4j_circuitbreaker_failure_rate", "The failure rate of the circuit breaker", MetricType::Gauge);
    auto sr = Family("resilience4j_circuitbreaker_slow_call_rate", "The slow call rate of the circuit breaker", MetricType::Gauge);
    auto buffered = Family("resilience4j_circuitbreaker_buffered_calls", "The number of buffered calls stored in the ring buffer", MetricType::Gauge);
    auto slow = Family("resilience4j_circuitbreaker_slow_calls", "The number of slow calls which were slower than a certain threshold", MetricType::Gauge);
    for (const auto& [name, cb] : breakers_) {
      auto s = cb->GetSnapshot();
      for (auto st : {CircuitState::kClosed, CircuitState::kOpen, CircuitState::kHalfOpen,
                      CircuitState::kDisabled, CircuitState::kForcedOpen, CircuitState::kMetricsOnly})
        AddSample(state, {{"name", name}, {"state", StateName(st)}}, s.state == st ? 1 : 0);
      metrics::AddHistogram(calls, {{"name", name}, {"kind", "successful"}}, cb->SuccessfulCalls().Read());
      metrics::AddHistogram(calls, {{"name", name}, {"kind", "failed"}}, cb->FailedCalls().Read());
      metrics::AddHistogram(calls, {{"name", name}, {"kind", "ignored"}}, cb->IgnoredCalls().Read());
      AddSample(np, {{"name", name}, {"kind", "not_permitted"}}, double(s.not_permitted_calls));
      AddSample(fr, {{"name", name}}, s.failure_rate);
      AddSample(sr, {{"name", name}}, s.slow_call_rate);
      AddSample(buffered, {{"name", name}, {"kind", "successful"}}, s.buffered_calls - s.failed_calls);
      AddSample(buffered, {{"name", name}, {"kind", "failed"}}, s.failed_calls);
      AddSample(slow, {{"name", name}, {"kind", "successful"}}, s.slow_calls - s.slow_failed_calls);
      AddSample(slow, {{"name", name}, {"kind", "failed"}}, s.slow_failed_calls);
    }
    out.push_back(std::move(state));
    out.push_back(std::move(calls));
    out.push_back(std::move(np));
    out.push_back(std::move(fr));
    out.push_back(std::move(sr));
    out.push_back(std::move(buffered));
    out.push_back(std::move(slow));
  }
  if (!bulkheads_.empty()) {
    auto avail = Family("resilience4j_bulkhead_available_concurrent_calls", "The number of available permissions", MetricType::Gauge);
    auto max = Family("resilience4j_bulkhead_max_allowed_concurrent_calls", "The maximum number of available permissions", MetricType::Gauge);
    auto rejected = Family("bulkhead_calls_rejected_total", "Calls rejected because the bulkhead was full", MetricType::Counter);
    for (const auto& [name, b] : bulkheads_) {
      AddSample(avail, {{"name", name}}, b->AvailableConcurrentCalls());
      AddSample(max, {{"name", name}}, b->MaxAllowedConcurrentCalls());
      AddSample(rejected, {{"name", name}}, double(b->RejectedCalls()));
    }
    out.push_back(std::move(avail));
    out.push_back(std::move(max));
    out.push_back(std::move(rejected));
  }
  if (!retries_.empty()) {
    auto calls = Family("resilience4j_retry_calls_total", "The number of calls", MetricType::Counter);
    for (const auto& [name, r] : retries_) {
      auto c = r->GetCounts();
      AddSample(calls, {{"name", name}, {"kind", "successful_without_retry"}}, double(c.successful_without_retry));
      AddSample(calls, {{"name", name}, {"kind", "successful_with_retry"}}, double(c.successful_with_retry));
      AddSample(calls, {{"name", name}, {"kind", "failed_with_retry"}}, double(c.failed_with_retry));
      AddSample(calls, {{"name", name}, {"kind", "failed_without_retry"}}, double(c.failed_without_retry));
    }
    out.push_back(std::move(calls));
  }
  if (!rate_limiters_.empty()) {
    auto avail = Family("resilience4j_ratelimiter_available_permissions", "The number of available permissions", MetricType::Gauge);
    auto calls = Family("ratelimiter_calls_total", "Calls permitted or rejected by the rate limiter", MetricType::Counter);
    for (const auto& [name, rl] : rate_limiters_) {
      AddSample(avail, {{"name", name}}, rl->AvailablePermissions());
      AddSample(calls, {{"name", name}, {"kind", "successful"}}, double(rl->PermittedCalls()));
      AddSample(calls, {{"name", name}, {"kind", "failed"}}, double(rl->RejectedCalls()));
    }
    out.push_back(std::move(avail));
    out.push_back(std::move(calls));
  }
  if (!time_limiters_.empty()) {
    auto calls = Family("resilience4j_timelimiter_calls_total", "The number of calls", MetricType::Counter);
    for (const auto& [name, tl] : time_limiters_) {
      AddSample(calls, {{"name", name}, {"kind", "successful"}}, double(tl->Successes()));
      AddSample(calls, {{"name", name}, {"kind", "failed"}}, double(tl->Failures()));
      AddSample(calls, {{"name", name}, {"kind", "timeout"}}, double(tl->Timeouts()));
    }
    out.push_back(std::move(calls));
  }
}

nlohmann::json ResilienceRegistry::CircuitBreakersJson() const {
  std::lock_guard lock(mu_);
  nlohmann::json out = nlohmann::json::object();
  for (const auto& [name, cb] : breakers_) {
    auto s = cb->GetSnapshot();
    const auto& c = cb->Config();
    std::string state = StateName(s.state);
    std::transform(state.begin(), state.end(), state.begin(), ::toupper);
    auto ok = cb->SuccessfulCalls().Read(), failed = cb->FailedCalls().Read();
    metrics::LatencyStats::Snapshot all = ok;
    all.count += failed.count;
    for (size_t i = 0; i < all.buckets.size(); ++i) all.buckets[i] += failed.buckets[i];
    // Spring Boot actuator's shape, plus numeric fields and latency for dashboards.
    out[name] = {{"state", state},
                 {"failureRate", Pct(s.failure_rate)},
                 {"slowCallRate", Pct(s.slow_call_rate)},
                 {"failureRateThreshold", Pct(float(c.failure_rate_threshold))},
                 {"slowCallRateThreshold", Pct(float(c.slow_call_rate_threshold))},
                 {"failureRatePercent", s.failure_rate},
                 {"slowCallRatePercent", s.slow_call_rate},
                 {"bufferedCalls", s.buffered_calls},
                 {"failedCalls", s.failed_calls},
                 {"slowCalls", s.slow_calls},
                 {"slowFailedCalls", s.slow_failed_calls},
                 {"notPermittedCalls", s.not_permitted_calls},
                 {"successfulCallsTotal", ok.count},
                 {"failedCallsTotal", failed.count},
                 {"latencySeconds", {{"p50", all.Quantile(0.5)}, {"p90", all.Quantile(0.9)},
                                     {"p99", all.Quantile(0.99)}}}};
  }
  return {{"circuitBreakers", out}};
}

nlohmann::json ResilienceRegistry::BulkheadsJson() const {
  std::lock_guard lock(mu_);
  nlohmann::json out = nlohmann::json::object();
  for (const auto& [name, b] : bulkheads_)
    out[name] = {{"availableConcurrentCalls", b->AvailableConcurrentCalls()},
                 {"maxAllowedConcurrentCalls", b->MaxAllowedConcurrentCalls()},
                 {"permittedCalls", b->PermittedCalls()},
                 {"rejectedCalls", b->RejectedCalls()}};
  return {{"bulkheads", out}};
}

nlohmann::json ResilienceRegistry::RetriesJson() const {
  std::lock_guard lock(mu_);
  nlohmann::json out = nlohmann::json::object();
  for (const auto& [name, r] : retries_) {
    auto c = r->GetCounts();
    out[name] = {{"maxAttempts", r->Config().max_attempts},
                 {"successfulCallsWithoutRetry", c.successful_without_retry},
                 {"successfulCallsWithRetry", c.successful_with_retry},
                 {"failedCallsWithRetry", c.failed_with_retry},
                 {"failedCallsWithoutRetry", c.failed_without_retry},
                 {"retryBudgetExhausted", c.budget_exhausted},
                 {"retryBudgetBalance", r->Budget().Balance()}};
  }
  return {{"retries", out}};
}

nlohmann::json ResilienceRegistry::RateLimitersJson() const {
  std::lock_guard lock(mu_);
  nlohmann::json out = nlohmann::json::object();
  for (const auto& [name, rl] : rate_limiters_)
    out[name] = {{"availablePermissions", rl->AvailablePermissions()},
                 {"permittedCalls", rl->PermittedCalls()},
                 {"rejectedCalls", rl->RejectedCalls()}};
  return {{"rateLimiters", out}};
}

}  // namespace op::resilience
