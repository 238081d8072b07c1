#pragma once
// Mounts the actuator endpoints every service has:
//   /actuator                       links
//   /actuator/health[/liveness|/readiness]   Spring Boot shapes; 503 when DOWN
//   /actuator/info                  name, version, instance, start time, uptime
//   /actuator/prometheus, /metrics  Prometheus text format 0.0.4
//   /actuator/circuitbreakers, /bulkheads, /retries, /ratelimiters
//   /actuator/loggers[/ROOT]        the level; POST {"configuredLevel"} (admin) changes it
//   /actuator/metrics[/{name}]      Spring's JSON over the same series (metrics_endpoint.h)
#include <chrono>
#include <string>

#include "runtime/actuator/health.h"
#include "runtime/http/router.h"
#include "runtime/metrics/metrics.h"
#include "runtime/resilience/registry.h"

namespace op::actuator {

struct Info {
  std::string name, instance_id, version;
  std::chrono::system_clock::time_point started_at;
  nlohmann::json extra = nlohmann::json::object();
};

void Mount(http::Router& router, HealthRegistry& health, metrics::MetricsRegistry& metrics,
           resilience::ResilienceRegistry& resilience, const Info& info);
void MountLoggers(http::Router& router);

}  // namespace op::actuator
