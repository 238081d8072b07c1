#pragma once
// The dashboard's pure logic, kept apart from its I/O so it can be tested on
// its own: remembering instances after they leave the registry (so a dead one
// stays visible, marked), ordering breaker tiles the way the Hystrix dashboard
// does, and turning an order's history into a timeline with step durations.
#include <chrono>
#include <map>
#include <optional>
#include <nlohmann/json.hpp>
#include <string>

namespace op::dashboard {

// One instance as the page shows it.
struct InstanceProbe {
  bool reachable = false;      // its health endpoint answered at all
  std::string health;          // "UP", "DOWN", ... or "" when unreachable
  std::string error;           // why it is unreachable
  nlohmann::json breakers = nlohmann::json::object();   // /actuator/circuitbreakers
  nlohmann::json bulkheads = nlohmann::json::object();  // /actuator/bulkheads
};

class InstanceTracker {
 public:
  using Clock = std::chrono::system_clock;
  explicit InstanceTracker(std::chrono::seconds forget_after) : forget_after_(forget_after) {}
  // `view` is the registry's /registry/view; `probes` by instance id. Returns
  // {"apps": [{"name", "instances": [...]}], "breakers": [...], "bulkheads": [...]}:
  // instances the registry still lists plus those it dropped less than
  // `forget_after` ago (status DOWN, dead, with the reason).
  nlohmann::json Update(const nlohmann::json& view, const std::map<std::string, InstanceProbe>& probes,
                        Clock::time_point now);

 private:
  struct Seen {
    nlohmann::json instance;  // as last listed by the registry
    Clock::time_point last_listed;
  };
  std::chrono::seconds forget_after_;
  std::map<std::string, Seen> seen_;  // by "APP/instanceId"
};

// Breaker tiles: worst first (failure rate, then OPEN/HALF_OPEN before
// CLOSED, then call volume), like the Hystrix dashboard's "error then volume".
void SortBreakerTiles(nlohmann::json& tiles);

// An order (GET /api/orders/{id}) and its notifications as one timeline:
// [{"at", "source", "event", "detail", "sinceStartMs", "stepMs"}] in time order.
nlohmann::json Timeline(const nlohmann::json& order, const nlohmann::json& notifications);

// The instance's own base URL (its homePageUrl without the trailing '/'), if
// the dashboard may probe it: http or https on the host the instance
// registered with (hostName or ipAddr). nullopt for anything else.
std::optional<std::string> ProbeBase(const nlohmann::json& instance);

}  // namespace op::dashboard
