#pragma once
// Spring Boot's /actuator/metrics over the process's Prometheus families:
//   GET /actuator/metrics                    {"names": [...]}
//   GET /actuator/metrics/{name}?tag=K:V     {"name", "description", "baseUnit",
//                                             "measurements": [{statistic, value}],
//                                             "availableTags": [{tag, values}]}
// Names are Micrometer's: http_server_requests_seconds is the timer
// http.server.requests (baseUnit seconds; COUNT, TOTAL_TIME and MAX from its
// _max gauge), orders_total the counter orders (COUNT), outbox_backlog the
// gauge outbox.backlog (VALUE). Measurements add up the series the tag
// selects (one `tag` parameter: the request keeps one value per parameter);
// a name or tag nothing matches is 404, as in Spring.
#include <nlohmann/json.hpp>

#include <optional>
#include <string>

#include "runtime/http/router.h"
#include "runtime/metrics/metrics.h"

namespace op::actuator {

nlohmann::json MetricNames(const metrics::Families& families);
// nullopt: no such metric, or no series with that tag.
std::optional<nlohmann::json> MetricDetail(const metrics::Families& families, const std::string& name,
                                           const std::optional<std::pair<std::string, std::string>>& tag);

void MountMetrics(http::Router& router, metrics::MetricsRegistry& metrics);

}  // namespace op::actuator
