#pragma once
// Service discovery behind a small interface: who serves application X, at
// which base URL, in which status. StaticDiscovery reads the answer from
// config (discovery.static.APP: [urls]); the registry client (Eureka API)
// implements the same interface. LoadBalancer picks an instance round-robin or
// least-outstanding, skipping instances that are not UP and instances whose
// per-instance breaker is OPEN.
#include <atomic>
#include <map>
#include <set>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "runtime/config/config.h"
#include "runtime/resilience/registry.h"

namespace op::discovery {

struct Instance {
  std::string app;       // "inventory-service"
  std::string id;        // "host:8084"
  std::string base_url;  // "http://127.0.0.1:8084"
  std::string status = "UP";  // UP, DOWN, STARTING, OUT_OF_SERVICE, UNKNOWN
  std::map<std::string, std::string> metadata;
};

class Discovery {
 public:
  virtual ~Discovery() = default;
  virtual std::vector<Instance> Instances(const std::string& app) = 0;
};

class StaticDiscovery : public Discovery {
 public:
  static void DeclareSchema(config::Schema& s);
  explicit StaticDiscovery(const config::Config& cfg);
  explicit StaticDiscovery(std::map<std::string, std::vector<std::string>> urls);
  std::vector<Instance> Instances(const std::string& app) override;

 private:
  std::map<std::string, std::vector<Instance>> apps_;
};

// Fixed entries first: an app listed in `first` is served from it, any other
// from `second` (static config overriding the registry, as a local override).
class CompositeDiscovery : public Discovery {
 public:
  CompositeDiscovery(Discovery& first, Discovery& second) : first_(first), second_(second) {}
  std::vector<Instance> Instances(const std::string& app) override {
    auto v = first_.Instances(app);
    return v.empty() ? second_.Instances(app) : v;
  }

 private:
  Discovery& first_;
  Discovery& second_;
};

// Breaker name for one instance of an app: "inventory-service@host:8084".
std::string InstanceBreakerName(const Instance& i);

class LoadBalancer {
 public:
  enum class Strategy { kRoundRobin, kLeastOutstanding };
  LoadBalancer(Discovery& discovery, resilience::ResilienceRegistry* breakers = nullptr,
               Strategy strategy = Strategy::kRoundRobin);

  // An instance to call (nullopt: none is UP with a closed breaker). `exclude`
  // lets a retry go to a different instance.
  std::optional<Instance> Choose(const std::string& app, const std::vector<std::string>& exclude = {});
  // For least-outstanding: bracket each call.
  void OnStart(const Instance& i);
  void OnEnd(const Instance& i);

 private:
  // Instances that left discovery take their breaker and counters with them:
  // a registry full of short-lived instances must not grow the caller.
  void ForgetDeparted(const std::string& app, const std::vector<Instance>& present);

  Discovery& discovery_;
  resilience::ResilienceRegistry* breakers_;
  Strategy strategy_;
  std::mutex mu_;
  std::map<std::string, uint64_t> next_;       // app -> round-robin counter
  std::map<std::string, int> outstanding_;     // instance id -> calls in flight
  std::map<std::string, std::set<std::string>> known_;  // app -> instance ids seen last time
};

}  // namespace op::discovery
