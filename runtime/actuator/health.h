#pragma once
// Health as Spring Boot reports it: named components (db, kafka, ...), each UP
// or DOWN with details; the aggregate is DOWN if any component that counts for
// the group is DOWN. Liveness says the process can make progress (restart me
// if not); readiness says it should receive traffic (take me out of the load
// balancer if not). Checks are cached for `cache_for` so probes stay cheap.
#include <nlohmann/json.hpp>

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <mutex>
#include <string>

namespace op::actuator {

struct Health {
  bool up = true;
  nlohmann::json details = nlohmann::json::object();
  static Health Up(nlohmann::json d = nlohmann::json::object()) { return {true, std::move(d)}; }
  static Health Down(nlohmann::json d) { return {false, std::move(d)}; }
};

class HealthRegistry {
 public:
  using Check = std::function<Health()>;
  explicit HealthRegistry(std::chrono::milliseconds cache_for = std::chrono::milliseconds(1000))
      : cache_for_(cache_for) {}

  // `readiness`: the component must be UP for the instance to take traffic.
  void Add(std::string name, Check check, bool readiness = true);
  // Lifecycle: not ready until started; not ready while draining.
  void SetReady(bool ready) { ready_ = ready; }
  bool Ready() const { return ready_.load(); }

  struct Report {
    bool up;
    nlohmann::json body;  // {"status": "UP"|"DOWN"|"OUT_OF_SERVICE", "components": {...}}
  };
  Report Overall();
  Report Liveness();
  Report Readiness();

 private:
  struct Entry {
    Check check;
    bool readiness;
    Health last;
    std::chrono::steady_clock::time_point checked_at{};
  };
  Health Run(Entry& e);
  const std::chrono::milliseconds cache_for_;
  std::mutex mu_;
  std::map<std::string, Entry> checks_;
  std::atomic<bool> ready_{false};
};

}  // namespace op::actuator
