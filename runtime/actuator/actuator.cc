#include "runtime/actuator/actuator.h"

#include "runtime/actuator/metrics_endpoint.h"
#include "runtime/core/time_format.h"
#include "runtime/logging/log.h"

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
                          "bulkheads", "retries", "ratelimiters", "loggers", "metrics"})
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
  // Resilience4j's state change (CircuitBreakerEndpoint's write operation).
  router.Post("/actuator/circuitbreakers/{name}", http::Access::Roles({"admin"}), [&resilience](http::Request& r) {
    const std::string& name = r.PathParam("name");
    auto cb = resilience.FindCircuitBreaker(name);
    if (!cb) throw http::HttpError(404, "no circuit breaker '" + name.substr(0, 128) + "'");
    auto body = r.JsonBody();
    const std::string to = body.contains("updateState") && body["updateState"].is_string() ? body["updateState"].get<std::string>() : "";
    if (to == "CLOSE") cb->TransitionToClosed();
    else if (to == "FORCE_OPEN") cb->TransitionToForcedOpen();
    else if (to == "DISABLE") cb->TransitionToDisabled();
    else if (to == "METRICS_ONLY") cb->TransitionToMetricsOnly();
    else throw http::HttpError(400, "updateState must be CLOSE, FORCE_OPEN, DISABLE or METRICS_ONLY");
    std::string state = resilience::StateName(cb->GetSnapshot().state);
    for (auto& c : state) c = char(::toupper(static_cast<unsigned char>(c)));
    log::Warn("circuit breaker state changed by hand", {{"name", name}, {"state", state},
                                                         {"by", r.principal ? r.principal->subject : std::string("?")}});
    return http::Response::Json(200, {{"circuitBreakerName", name}, {"currentState", state},
                                      {"message", "CircuitBreaker '" + name + "' set to '" + state + "'"}});
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
  MountLoggers(router);
  MountMetrics(router, metrics);
}

// Spring Boot's loggers endpoint. There is one logger, ROOT: the process's
// level. Reading is open like the other reads; changing it needs admin.
void MountLoggers(http::Router& router) {
  auto root = [] {
    const char* level = log::LevelName(log::CurrentLevel());
    return nlohmann::json{{"configuredLevel", level}, {"effectiveLevel", level}};
  };
  router.Get("/actuator/loggers", Open(), [root](http::Request&) {
    return http::Response::Json(
        200, {{"levels", {"ERROR", "WARN", "INFO", "DEBUG"}}, {"loggers", {{"ROOT", root()}}}, {"groups", nlohmann::json::object()}});
  });
  router.Get("/actuator/loggers/{name}", Open(), [root](http::Request& r) {
    if (r.PathParam("name") != "ROOT") throw http::HttpError(404, "no logger '" + r.PathParam("name").substr(0, 64) + "': there is ROOT only");
    return http::Response::Json(200, root());
  });
  router.Post("/actuator/loggers/{name}", http::Access::Roles({"admin"}), [](http::Request& r) {
    if (r.PathParam("name") != "ROOT") throw http::HttpError(404, "no logger '" + r.PathParam("name").substr(0, 64) + "': there is ROOT only");
    auto body = r.JsonBody();
    auto level = body.contains("configuredLevel") && body["configuredLevel"].is_string()
                     ? log::ParseLevel(body["configuredLevel"].get<std::string>())
                     : std::nullopt;
    if (!level) throw http::HttpError(400, "configuredLevel must be one of ERROR, WARN, INFO, DEBUG");
    log::Warn("log level changed", {{"logger", "ROOT"}, {"level", log::LevelName(*level)},
                                    {"by", r.principal ? r.principal->subject : std::string("?")}});
    log::SetLevel(*level);
    return http::Response::Empty(204);
  });
}

}  // namespace op::actuator
