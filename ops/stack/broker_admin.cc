#include "ops/stack/broker_admin.h"

#include <charconv>

#include "ops/stack/console.h"

namespace op::stack {

using http::HttpError;
using http::Request;
using http::Response;

BrokerAdmin::BrokerAdmin(Supervisor& supervisor, int nodes) : supervisor_(supervisor), nodes_(nodes) {}

BrokerAdmin::~BrokerAdmin() {
  if (server_) server_->Shutdown(std::chrono::seconds(2));
}

void BrokerAdmin::Start() {
  auto router = std::make_shared<http::Router>();
  const auto kLoopbackOnly = http::Access::Public();
  auto node = [this](const Request& r) {
    const std::string& s = r.PathParam("id");
    int id = 0;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), id);
    if (ec != std::errc() || end != s.data() + s.size() || id < 1 || id > nodes_)
      throw HttpError(404, "no broker '" + s + "' (brokers are 1.." + std::to_string(nodes_) + ")");
    return "kafka-" + std::to_string(id);
  };
  router->Get("/programs", kLoopbackOnly, [this](Request&) {
    nlohmann::json list = nlohmann::json::array();
    for (const auto& p : supervisor_.Programs())
      list.push_back({{"name", p.name}, {"state", p.state}, {"restarts", p.restarts}});
    return Response::Json(200, {{"programs", list}});
  });
  router->Get("/brokers", kLoopbackOnly, [this](Request&) {
    nlohmann::json list = nlohmann::json::array();
    for (int id = 1; id <= nodes_; ++id) {
      list.push_back({{"id", id}, {"state", supervisor_.State("kafka-" + std::to_string(id))}, {"rttMs", 0}});
    }
    return Response::Json(200, {{"brokers", list}});
  });
  router->Post("/faults/brokers/{id}/down", kLoopbackOnly, [this, node](Request& r) {
    const std::string name = node(r);
    Say("stack", "stopping " + name + " (dashboard)");
    supervisor_.Hold(name);
    return Response::Json(200, {{"broker", r.PathParam("id")}, {"state", "DOWN"}});
  });
  router->Post("/faults/brokers/{id}/up", kLoopbackOnly, [this, node](Request& r) {
    const std::string name = node(r);
    Say("stack", "starting " + name + " again (dashboard)");
    supervisor_.Release(name);
    return Response::Json(200, {{"broker", r.PathParam("id")}, {"state", "UP"}});
  });
  router->Post("/faults/brokers/{id}/rtt", kLoopbackOnly, [](Request&) -> Response {
    throw HttpError(501, "latency is injected by the dev broker only (--kafka dev)");
  });
  http::ServerOptions opts;
  opts.host = "127.0.0.1";
  opts.port = 0;
  opts.threads = 1;
  opts.access_log = false;
  server_ = std::make_unique<http::HttpServer>(opts, router);
  server_->Start();
}

std::string BrokerAdmin::Url() const { return "http://127.0.0.1:" + std::to_string(server_->Port()); }

}  // namespace op::stack
