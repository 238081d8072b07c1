#pragma once
// Named resilience instances configured the way Resilience4j's Spring Boot
// starter configures them:
//
//   resilience:
//     circuitbreaker:
//       configs:   { default: { sliding-window-size: 20 } }
//       instances: { inventory: { base-config: default, failure-rate-threshold: 25 } }
//
// A key is looked up in instances.NAME, then in configs.(NAME's base-config,
// or "default"), then the built-in default. Instances named in the config are
// created (and validated) at start-up; others on first use. A per-instance
// name "APP@host:port" is configured by APP's entry. The registry
// exports Resilience4j's Micrometer metric names and the actuator JSON.
#include <nlohmann/json.hpp>

#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "runtime/config/config.h"
#include "runtime/core/clock.h"
#include "runtime/metrics/metrics.h"
#include "runtime/resilience/bulkhead.h"
#include "runtime/resilience/circuit_breaker.h"
#include "runtime/resilience/rate_limiter.h"
#include "runtime/resilience/retry.h"
#include "runtime/resilience/time_limiter.h"

namespace op::resilience {

class ResilienceRegistry {
 public:
  static void DeclareSchema(config::Schema& schema);

  // `cfg` may be null (built-in defaults only). Throws config::ConfigError
  // naming the key when a configured value is invalid.
  explicit ResilienceRegistry(const config::Config* cfg, const Clock& clock = SystemClock::Instance());

  CircuitBreaker& GetCircuitBreaker(const std::string& name);
  Retry& GetRetry(const std::string& name);
  Bulkhead& GetBulkhead(const std::string& name);
  RateLimiter& GetRateLimiter(const std::string& name);
  TimeLimiter& GetTimeLimiter(const std::string& name);

  // For a caller that builds its own config (e.g. a breaker per upstream instance).
  CircuitBreaker& GetCircuitBreaker(const std::string& name, const CircuitBreakerConfig& cfg);
  CircuitBreakerConfig CircuitBreakerConfigFor(const std::string& name) const;
  // Breakers whose subject can go away (one per upstream instance) are held
  // through shared ownership and removed when it does, so a registry that sees
  // instances come and go does not grow. A caller that still holds one keeps
  // it alive until it lets go. Never remove a breaker reached by reference.
  std::shared_ptr<CircuitBreaker> SharedCircuitBreaker(const std::string& name);
  bool RemoveCircuitBreaker(const std::string& name);
  // The breaker of that name if one exists (null otherwise; never makes one).
  std::shared_ptr<CircuitBreaker> FindCircuitBreaker(const std::string& name) const;
  Bulkhead& GetBulkhead(const std::string& name, const BulkheadConfig& cfg);

  // Resilience4j/Micrometer names: resilience4j_circuitbreaker_state{name,state}, ...
  void Collect(metrics::Families& out) const;
  // /actuator/circuitbreakers, /actuator/bulkheads, /actuator/retries bodies
  nlohmann::json CircuitBreakersJson() const;
  nlohmann::json BulkheadsJson() const;
  nlohmann::json RetriesJson() const;
  nlohmann::json RateLimitersJson() const;

 private:
  std::string Key(const std::string& kind, const std::string& name, const std::string& key) const;

  const config::Config* cfg_;
  const Clock& clock_;
  mutable std::mutex mu_;
  std::map<std::string, std::shared_ptr<CircuitBreaker>> breakers_;
  std::map<std::string, std::unique_ptr<Retry>> retries_;
  std::map<std::string, std::unique_ptr<Bulkhead>> bulkheads_;
  std::map<std::string, std::unique_ptr<RateLimiter>> rate_limiters_;
  std::map<std::string, std::unique_ptr<TimeLimiter>> time_limiters_;
};

}  // namespace op::resilience
