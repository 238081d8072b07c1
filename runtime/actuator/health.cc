#include "runtime/actuator/health.h"

namespace op::actuator {

void HealthRegistry::Add(std::string name, Check check, bool readiness) {
  std::lock_guard lock(mu_);
  checks_[std::move(name)] = Entry{std::move(check), readiness, Health::Up(), {}};
}

Health HealthRegistry::Run(Entry& e) {
  auto now = std::chrono::steady_clock::now();
  if (e.checked_at != std::chrono::steady_clock::time_point{} && now - e.checked_at < cache_for_) return e.last;
  try {
    e.last = e.check();
  } catch (const std::exception& ex) {
    e.last = Health::Down({{"error", ex.what()}});
  }
  e.checked_at = now;
  return e.last;
}

HealthRegistry::Report HealthRegistry::Overall() {
  std::lock_guard lock(mu_);
  nlohmann::json components = nlohmann::json::object();
  bool up = true;
  for (auto& [name, e] : checks_) {
    Health h = Run(e);
    up = up && h.up;
    components[name] = {{"status", h.up ? "UP" : "DOWN"}};
    if (!h.details.empty()) components[name]["details"] = h.details;
  }
  components["livenessState"] = {{"status", "UP"}};
  components["readinessState"] = {{"status", ready_ ? "UP" : "OUT_OF_SERVICE"}};
  return {up, {{"status", up ? "UP" : "DOWN"}, {"components", components}}};
}

HealthRegistry::Report HealthRegistry::Liveness() { return {true, {{"status", "UP"}}}; }

HealthRegistry::Report HealthRegistry::Readiness() {
  if (!ready_) return {false, {{"status", "OUT_OF_SERVICE"}}};
  std::lock_guard lock(mu_);
  nlohmann::json components = nlohmann::json::object();
  bool up = true;
  for (auto& [name, e] : checks_) {
    if (!e.readiness) continue;
    Health h = Run(e);
    up = up && h.up;
    components[name] = {{"status", h.up ? "UP" : "DOWN"}};
  }
  nlohmann::json body = {{"status", up ? "UP" : "DOWN"}};
  if (!components.empty()) body["components"] = components;
  return {up, body};
}

}  // namespace op::actuator
