#include "runtime/actuator/actuator.h"

#include "runtime/core/time_format.h"

namespace op::actuator {

namespace {
// health, info and prometheus are open (probes and scrapers carry no token),
// and so are the resilience reads: they show no customer's data and change
// nothing. What changes state needs admin (DESIGN section 10).
http::Access Open() { return http::Access::Public(); }

http::Response HealthResponse(const HealthRegistry::Report& r) {
  auto resp = http::Response::Json(r.up ? 200 : 503, r.body);
  resp.headers.Set("Content-Type", "application/vnd.spring-boot.actuator.v3+json");
  return resp;
}
}  // namespace

void Mount(http::Router& router, HealthRegistry& health, metrics::MetricsRegistry& metrics,
           resilience::ResilienceRegistry& resilience, const Info& info) {
  router.Get("/actuator", Open(), [](http::Request& r) {
    nlohmann::json links = nlohmann::json::object();
    std::string base = "http://" + r.Header("host").value_or("localhost") + "/actuator";
    for (const char* n : {"health", "health/liveness", "health/readiness", "info", "prometheus", "circuitbreakers",
                          "bulkheads", "retries", "ratelimiters"})
      links[n] = {{"href", base + "/" + n}};
    links["self"] = {{"href", base}};
    return http::Response::Json(200, {{"_links", links}});
  });
  router.Get("/actuator/health", Open(), [&health](http::Request&) { return HealthResponse(health.Overall()); });
  router.Get("/actuator/health/liveness", Open(), [&health](http::Request&) { return HealthResponse(health.Liveness()); });
  router.Get("/actuator/health/readiness", Open(), [&health](http::Request&) { return HealthResponse(health.Readiness()); });
  router.Get("/actuator/info", Open(), [info](http::Request&) {
    auto uptime = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now() - info.started_at);
    nlohmann::json body = {{"app", {{"name", info.name}, {"version", info.version}}},
                           {"instance", {{"id", info.instance_id}, {"startedAt", FormatRfc3339(info.started_at)},
                                         {"uptimeSeconds", uptime.count()}}}};
    for (auto& [k, v] : info.extra.items()) body[k] = v;
    return http::Response::Json(200, body);
  });
  auto prometheus = [&metrics](http::Request&) {
    return http::Response::Text(200, metrics.Scrape(), "text/plain; version=0.0.4; charset=utf-8");
  };
  router.Get("/actuator/prometheus", Open(), prometheus);
  router.Get("/metrics", Open(), prometheus);
  router.Get("/actuator/circuitbreakers", Open(), [&resilience](http::Request&) {
    return http::Response::Json(200, resilience.CircuitBreakersJson());
  });
  router.Get("/actuator/bulkheads", Open(), [&resilience](http::Request&) {
    return http::Response::Json(200, resilience.BulkheadsJson());
  });
  router.Get("/actuator/retries", Open(), [&resilience](http::Request&) {
    return http::Response::Json(200, resilience.RetriesJson());
  });
  router.Get("/actuator/ratelimiters", Open(), [&resilience](http::Request&) {
    return http::Response::Json(200, resilience.RateLimitersJson());
  });
}

}  // namespace op::actuator
