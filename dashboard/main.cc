// The admin dashboard: one page (dashboard/web, compiled in) that polls
// /api/snapshot every second, plus a few actions (order look-up, dev-broker
// faults, dead-letter replay). Registered in the registry as "dashboard".
#include <memory>

#include "dashboard/collector.h"
#include "dashboard/dead_letters.h"
#include "dashboard/views.h"
#include "dashboard/web_assets.h"
#include "events/topics.h"
#include "runtime/core/json.h"
#include "runtime/service/service.h"

namespace op::dashboard {
namespace {

using http::HttpError;
using http::Request;
using http::Response;
using Json = nlohmann::json;

// The first registry's base URL, its credentials taken out (CollectorOptions).
discovery::CredentialedUrl RegistryBase(const config::Config& c) {
  auto urls = c.GetList("eureka.client.service-url");
  if (urls.empty()) return {};
  auto split = discovery::SplitCredentials(urls.front());
  std::string& u = split.url;
  while (!u.empty() && u.back() == '/') u.pop_back();
  if (u.size() >= 7 && u.compare(u.size() - 7, 7, "/eureka") == 0) u.resize(u.size() - 7);
  return split;
}

// Passes an upstream's answer through, or a 502/503 problem naming it.
Response Relay(const discovery::CallResult& r, const std::string& app) {
  if (!r.ok() && r.failure != discovery::CallResult::Failure::kUpstream)
    throw HttpError(503, app + " is unavailable: " + r.error);
  if (!r.response.ok()) throw HttpError(502, app + " did not answer: " + r.response.error_message);
  Response out;
  out.status = r.response.status;
  out.body = r.response.body;
  out.headers.Set("Content-Type", r.response.headers.Get("content-type").value_or("application/json"));
  return out;
}

// Owned by the runtime; its threads stop once the HTTP server has drained.
struct Dashboard : ServiceState {
  explicit Dashboard(Service& s) : svc(s) {}
  ~Dashboard() override {
    if (collector) collector->Stop();
    if (dead_letters) dead_letters->Stop();
  }
  Service& svc;
  std::unique_ptr<kafka::ClusterAdmin> admin;
  std::unique_ptr<DeadLetters> dead_letters;
  std::unique_ptr<Collector> collector;
};

CollectorOptions CollectorOptionsOf(const config::Config& c) {
  CollectorOptions o;
  auto registry = RegistryBase(c);
  o.registry_url = registry.url;
  o.registry_authorization = registry.authorization;
  o.devbroker_url = c.GetString("dashboard.devbroker-url");
  while (!o.devbroker_url.empty() && o.devbroker_url.back() == '/') o.devbroker_url.pop_back();
  o.bootstrap_servers = c.GetString("kafka.bootstrap.servers");
  o.consumer_groups = c.GetList("dashboard.consumer-groups");
  o.interval = c.GetDuration("dashboard.refresh-interval");
  o.probe_timeout = c.GetDuration("dashboard.probe-timeout");
  o.forget_after = std::chrono::duration_cast<std::chrono::seconds>(c.GetDuration("dashboard.forget-after"));
  o.recent_orders = int(c.GetInt("dashboard.recent-orders"));
  if (o.interval < std::chrono::milliseconds(100))
    throw config::ConfigError("key 'dashboard.refresh-interval' must be at least 100ms");
  if (o.recent_orders < 1 || o.recent_orders > 100)
    throw config::ConfigError("key 'dashboard.recent-orders' must be in [1, 100]");
  return o;
}

// The page and its assets, compiled in.
void AddPage(http::Router& router) {
  for (const auto& asset : WebAssets()) {
    auto serve = [&asset](Request&) {
      auto r = Response::Text(200, std::string(asset.body), std::string(asset.content_type));
      r.headers.Set("Cache-Control", "no-cache");
      return r;
    };
    router.Get(std::string(asset.path), op::http::Access::Public(), serve);
    if (asset.path == "/index.html") router.Get("/", op::http::Access::Public(), serve);
  }
}

// Read-only: the snapshot, an order's saga as a timeline, order search.
void AddReads(http::Router& router, Dashboard* d) {
  router.Get("/api/snapshot", op::http::Access::Public(), [d](Request&) {
    Response r = Response::Text(200, d->collector->Snapshot(), "application/json");
    r.headers.Set("Cache-Control", "no-store");
    return r;
  });
  // One order with its saga as a timeline (order history + notifications).
  router.Get("/api/orders/{id}", op::http::Access::Public(), [d](Request& req) {
    const std::string& id = req.PathParam("id");
    auto order = d->svc.services().Call("order-service", {"GET", "/api/orders/" + id, {}, {}, {}});
    if (!order.ok() || order.response.status != 200) return Relay(order, "order-service");
    Json o = ParseJsonOrDiscarded(order.response.body);
    if (o.is_discarded()) throw HttpError(502, "order-service answered no JSON");
    Json notes = Json::object();
    std::string notes_error;
    auto n = d->svc.services().Call("notification-service", {"GET", "/api/notifications?orderId=" + id, {}, {}, {}});
    if (n.ok() && n.response.status == 200) notes = ParseJsonOrDiscarded(n.response.body);
    else notes_error = n.ok() ? "notification-service answered " + std::to_string(n.response.status) : n.error;
    if (notes.is_discarded()) notes = Json::object();
    return Response::Json(200, {{"order", o},
                                {"notifications", notes.value("items", Json::array())},
                                {"notificationsError", notes_error.empty() ? Json(nullptr) : Json(notes_error)},
                                {"timeline", Timeline(o, notes)}});
  });
  // Search: by customer and/or status, through order-service's list.
  router.Get("/api/orders", op::http::Access::Public(), [d](Request& req) {
    std::string q = "/api/orders?limit=" + req.Query("limit").value_or("25");
    for (const char* k : {"customerId", "status", "cursor"})
      if (auto v = req.Query(k)) q += std::string("&") + k + "=" + http::PercentEncode(*v);
    return Relay(d->svc.services().Call("order-service", {"GET", q, {}, {}, {}}), "order-service");
  });

}

// Actions: dev-broker faults, dead-letter replay.
void AddActions(http::Router& router, Dashboard* d) {
  // Dev-broker faults, forwarded to its admin API.
  auto forward = [d](const std::string& path, const Json& body) {
    const auto& base = d->collector->options().devbroker_url;
    if (base.empty()) throw HttpError(404, "no dev broker configured (dashboard.devbroker-url)");
    auto r = d->svc.http_client().PostJson(base + path, body);
    if (!r.ok()) throw HttpError(502, "dev broker did not answer: " + r.error_message);
    Response out;
    out.status = r.status;
    out.body = r.body;
    out.headers.Set("Content-Type", r.headers.Get("content-type").value_or("application/json"));
    return out;
  };
  router.Post("/api/kafka/brokers/{id}/{action}", op::http::Access::Public(), [forward](Request& req) {
    const auto& action = req.PathParam("action");
    if (action == "rtt") return forward("/faults/brokers/" + req.PathParam("id") + "/rtt", req.JsonBody());
    if (action != "down" && action != "up")
      throw HttpError(404, "no broker action '" + action + "' (down, up, rtt)");
    return forward("/faults/brokers/" + req.PathParam("id") + "/" + action, Json::object());
  });
  router.Post("/api/kafka/partitions/{topic}/{partition}/leader", op::http::Access::Public(), [forward](Request& req) {
    return forward("/faults/partitions/" + http::PercentEncode(req.PathParam("topic")) + "/" + req.PathParam("partition") +
                       "/leader",
                   req.JsonBody());
  });
  router.Post("/api/dead-letters/replay", op::http::Access::Public(), [d](Request& req) {
    auto body = req.JsonBody();
    http::Validation v;
    if (!body.contains("topic") || !body["topic"].is_string()) v.Add("topic", "must be the dead-letter topic");
    if (!body.contains("partition") || !body["partition"].is_number_integer()) v.Add("partition", "must be an integer");
    if (!body.contains("offset") || !body["offset"].is_number_integer()) v.Add("offset", "must be an integer");
    v.ThrowIfInvalid();
    std::optional<Json> done;
    try {
      done = d->dead_letters->Replay(body["topic"], body["partition"], body["offset"]);
    } catch (const std::runtime_error& e) {
      throw HttpError(503, e.what());
    }
    if (!done) throw HttpError(404, "no dead letter at that topic/partition/offset (only the newest are kept)");
    return Response::Json(202, *done);
  });
}

std::unique_ptr<ServiceState> Wire(Service& svc) {
  const auto& c = svc.config();
  auto state = std::make_unique<Dashboard>(svc);
  Dashboard* d = state.get();
  CollectorOptions o = CollectorOptionsOf(c);
  d->admin = std::make_unique<kafka::ClusterAdmin>(o.bootstrap_servers, "dashboard-admin");
  auto co = kafka::ConsumerOptions::FromConfig(c);
  co.group_id = "dashboard-" + svc.instance_id();  // every instance reads all dead letters
  co.topics = {};
  for (auto t : events::kAllTopics) co.topics.push_back(events::DeadLetterTopic(t));
  co.auto_offset_reset = "earliest";
  d->dead_letters = std::make_unique<DeadLetters>(co, svc.producer());
  d->collector = std::make_unique<Collector>(o, svc.http_client(), svc.services(), d->admin.get(), d->dead_letters.get());
  AddPage(svc.router());
  AddReads(svc.router(), d);
  AddActions(svc.router(), d);
  d->dead_letters->Start();
  d->collector->Start();
  return state;
}

}  // namespace
}  // namespace op::dashboard

int main(int argc, char** argv) {
  op::ServiceSpec spec;
  spec.name = "dashboard";
  spec.default_port = 8090;
  spec.uses_kafka = true;
  spec.declare_config = [](op::config::Schema& s) {
    using op::config::Type;
    s.Add("dashboard.devbroker-url", Type::kString, "", "admin URL of the dev Kafka broker (faults from the page)");
    s.Add("dashboard.refresh-interval", Type::kDuration, "1s", "how often the snapshot is rebuilt");
    s.Add("dashboard.probe-timeout", Type::kDuration, "800ms", "timeout of each instance probe");
    s.Add("dashboard.forget-after", Type::kDuration, "5m", "how long an instance gone from the registry stays shown");
    s.Add("dashboard.consumer-groups", Type::kStringList,
          "order-service,payment-service,inventory-service,notification-service", "consumer groups whose lag is shown");
    s.Add("dashboard.recent-orders", Type::kInt, "25", "orders listed on the page");
  };
  return op::Service::Run(spec, argc, argv, op::dashboard::Wire);
}
