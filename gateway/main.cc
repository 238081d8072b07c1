// api-gateway: the platform's front door (port 8080). Routes from config to
// applications found through discovery, with per-route timeout, retry
// (idempotent requests only), circuit breaker (per route and per upstream
// instance), bulkhead and per-client rate limit; adds X-Request-Id,
// X-Correlation-Id and W3C traceparent; strips hop-by-hop headers; answers
// upstream failures as problem+json (502/503/504, Retry-After when a breaker
// is open).
#include "gateway/api_docs.h"
#include "gateway/proxy.h"
#include "runtime/logging/log.h"

namespace op::gateway {
namespace {

std::unique_ptr<ServiceState> Wire(Service& svc) {
  auto node = svc.config().GetYaml("gateway.routes");
  auto routes = node.IsDefined() && !node.IsNull() ? ParseRoutes(node) : DefaultRoutes();
  for (const auto& r : routes)
    log::Info("route", {{"id", r.id}, {"path", r.path}, {"uri", r.app.empty() ? r.base_url : "lb://" + r.app},
                        {"timeoutMs", r.timeout.count()}, {"retry", r.retry}});
  auto access_node = svc.config().GetYaml("gateway.access");
  auto access = access_node.IsDefined() && !access_node.IsNull() ? ParseAccessRules(access_node) : DefaultAccessRules();
  auto gw = std::make_unique<Gateway>(svc, std::move(routes), std::move(access));
  gw->Mount(svc.router());
  MountApiDocs(svc.router());
  return gw;
}

}  // namespace
}  // namespace op::gateway

int main(int argc, char** argv) {
  op::ServiceSpec spec;
  spec.name = "api-gateway";
  spec.default_port = 8080;
  // The data path: Asio/Beast costs half of Pistache's system calls per
  // proxied request (docs/benchmarks.md); server.engine=pistache still works
  // (each request then waits on a Pistache thread for the upstream's answer).
  spec.server_engine = "asio";
  // Its handlers never block (upstream calls are asynchronous; the actuator
  // endpoints only read memory): one event-loop thread per CPU, each with a
  // loop of its own that owns the connections dealt to it and their upstream
  // calls, as nginx's and Envoy's workers do. No hand-offs between threads and
  // no strands: it serves more than one loop shared by the threads
  // (docs/benchmarks.md).
  spec.server_threads = 0;
  spec.nonblocking_handlers = true;
  spec.loop_per_thread = true;
  spec.declare_config = [](op::config::Schema& s) {
    s.Add("gateway.routes", op::config::Type::kYaml, std::nullopt, "routes (default: the platform's APIs)");
    s.Add("gateway.access", op::config::Type::kYaml, std::nullopt,
          "who may call what: [{path, methods, access: public|authenticated, roles: [...]}] (default: DESIGN section 10)");
  };
  return op::Service::Run(spec, argc, argv, op::gateway::Wire);
}
