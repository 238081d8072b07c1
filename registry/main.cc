// The service registry: Eureka's REST API under /eureka, so Eureka clients
// and Prometheus's eureka_sd_configs work against it unchanged. Leases,
// eviction, self-preservation, status overrides and deltas follow Eureka
// (see instance_registry.h); peers given in registry.peers receive every
// change in batches (POST /eureka/peerreplication/batch, marked with the
// x-netflix-discovery-replication header so they do not forward it again),
// and a starting node copies the registry of the first peer that answers.
//
// Threads: HTTP handlers; one "evictor"; one "replicator" per peer.
#include <fmt/format.h>

#include "registry/basic_auth.h"
#include "registry/eureka_codec.h"
#include "registry/instance_registry.h"
#include "registry/peer_replicator.h"
#include "registry/status_page.h"
#include "registry/validation.h"
#include "runtime/core/json.h"
#include "runtime/core/periodic_task.h"
#include "runtime/core/time_format.h"
#include "runtime/logging/log.h"
#include "runtime/service/service.h"

namespace op::registry {
namespace {

constexpr size_t kMaxBatchItems = 1000;  // peers send 250 (PeerReplicator::kBatchSize)

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}
bool WantsJson(const http::Request& r) { return r.Header("accept").value_or("").find("json") != std::string::npos; }

http::Response Negotiated(const http::Request& r, const nlohmann::json& json, const std::string& xml) {
  if (WantsJson(r)) return http::Response::Json(200, json);
  return http::Response::Text(200, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>" + xml, "application/xml");
}

std::optional<int64_t> QueryInt(const http::Request& r, const std::string& k) {
  auto v = r.Query(k);
  if (!v || v->empty()) return std::nullopt;
  try {
    return std::stoll(*v);
  } catch (...) {
    return std::nullopt;
  }
}

bool ValidStatus(const std::string& s) {
  return s == "UP" || s == "DOWN" || s == "STARTING" || s == "OUT_OF_SERVICE" || s == "UNKNOWN";
}

class RegistryServer : public ServiceState {
 public:
  explicit RegistryServer(Service& svc)
      : svc_(svc),
        auth_(BasicAuth::FromConfig(svc.config())),
        max_instances_(size_t(svc.config().GetInt("registry.max-instances"))),
        reg_(RegistryOptions{svc.config().GetDouble("registry.renewal-percent-threshold"),
                             svc.config().GetBool("registry.enable-self-preservation"),
                             int(svc.config().GetDuration("registry.expected-client-renewal-interval").count() / 1000),
                             max_instances_, size_t(svc.config().GetInt("registry.max-delta-changes"))}) {
    auto& r = svc.metrics().Registry();
    evictions_ = &prometheus::BuildCounter().Name("registry_evictions_total").Help("Instances evicted after their lease expired").Register(r).Add({});
    replication_failures_ = &prometheus::BuildCounter().Name("registry_replication_failures_total").Help("Replication batches a peer did not take").Register(r).Add({});
    replication_batches_ = &prometheus::BuildCounter().Name("registry_replication_batches_total").Help("Replication batches sent").Register(r).Add({});
    replication_dropped_ = &prometheus::BuildCounter().Name("registry_replication_dropped_total").Help("Replication tasks dropped because a peer's queue was full").Register(r).Add({});
    svc.metrics().AddCollector([this](metrics::Families& out) {
      auto inst = metrics::Family("registry_instances", "Registered instances by application and status", prometheus::MetricType::Gauge);
      std::map<std::pair<std::string, std::string>, int> counts;
      for (const auto& i : reg_.Instances()) counts[{i.app, InstanceRegistry::Effective(i)}]++;
      for (const auto& [k, n] : counts) metrics::AddSample(inst, {{"app", k.first}, {"status", k.second}}, n);
      auto renews = metrics::Family("registry_renewals_last_minute", "Lease renewals in the last minute", prometheus::MetricType::Gauge);
      metrics::AddSample(renews, {}, double(reg_.RenewsLastMinute()));
      auto threshold = metrics::Family("registry_renewal_threshold", "Renewals per minute below which self-preservation starts", prometheus::MetricType::Gauge);
      metrics::AddSample(threshold, {}, double(reg_.RenewsThreshold()));
      auto sp = metrics::Family("registry_self_preservation", "1 while self-preservation is active", prometheus::MetricType::Gauge);
      metrics::AddSample(sp, {}, reg_.SelfPreservationActive() ? 1 : 0);
      for (auto* f : {&inst, &renews, &threshold, &sp}) out.push_back(std::move(*f));
    });
    for (const auto& peer : svc.config().GetList("registry.peers")) {
      std::string p = discovery::SplitCredentials(peer).url;  // the peer credential is the config's
      while (!p.empty() && p.back() == '/') p.pop_back();
      peers_.push_back(std::make_unique<PeerReplicator>(p, auth_.PeerAuthorization(), svc.http_client(), reg_,
                                                        *replication_failures_, *replication_batches_, *replication_dropped_));
    }
    SyncFromPeers();
    evictor_ = std::make_unique<PeriodicTask>("evictor", [this, interval = svc.config().GetDuration("registry.eviction-interval")] {
      Evict();
      return interval;
    });
    evictor_->Start();
  }

  // Every route: HTTP Basic (basic_auth.h), as Eureka clients send it.
  http::Access Basic() const {
    return http::Access::Custom([this](http::Request& r) { auth_.Require(r); });
  }
  // A change a peer sent (marked, and from a peer): not forwarded again.
  bool IsReplication(const http::Request& r) const {
    return r.Header(kReplicationHeader).value_or("") == "true" && auth_.Check(r) == BasicAuth::Caller::kPeer;
  }

  void Mount(http::Router& router) {
    router.Post("/eureka/apps/{app}", Basic(), [this](http::Request& r) { return Register(r); });
    router.Put("/eureka/apps/{app}/{id}", Basic(), [this](http::Request& r) { return Renew(r); });
    router.Delete("/eureka/apps/{app}/{id}", Basic(), [this](http::Request& r) {
      if (!reg_.Cancel(r.PathParam("app"), r.PathParam("id"), IsReplication(r)))
        throw http::HttpError(404, "no instance " + r.PathParam("id") + " of " + r.PathParam("app"));
      Replicate(r, {"Cancel", r.PathParam("app"), r.PathParam("id"), ""});
      log::Info("instance cancelled", {{"app", r.PathParam("app")}, {"id", r.PathParam("id")}, {"replication", IsReplication(r)}});
      return http::Response::Empty(200);
    });
    router.Get("/eureka/apps", Basic(), [this](http::Request& r) {
      auto all = reg_.Instances();
      return Negotiated(r, ApplicationsJson(all, reg_.Version(), reg_.AppsHashCode()),
                        ApplicationsXml(all, reg_.Version(), reg_.AppsHashCode()));
    });
    router.Get("/eureka/apps/delta", Basic(), [this](http::Request& r) {
      auto delta = reg_.Delta();
      return Negotiated(r, ApplicationsJson(delta, reg_.Version(), reg_.AppsHashCode()),
                        ApplicationsXml(delta, reg_.Version(), reg_.AppsHashCode()));
    });
    router.Get("/eureka/apps/{app}", Basic(), [this](http::Request& r) {
      auto list = reg_.App(r.PathParam("app"));
      if (list.empty()) throw http::HttpError(404, "no application " + r.PathParam("app"));
      std::string name = list.front().app;
      return Negotiated(r, {{"application", ApplicationJson(name, list)}}, ApplicationXml(name, list));
    });
    router.Get("/eureka/apps/{app}/{id}", Basic(), [this](http::Request& r) {
      auto i = reg_.Get(r.PathParam("app"), r.PathParam("id"));
      if (!i) throw http::HttpError(404, "no instance " + r.PathParam("id") + " of " + r.PathParam("app"));
      return Negotiated(r, {{"instance", InstanceJson(*i)}}, InstanceXml(*i));
    });
    router.Get("/eureka/instances/{id}", Basic(), [this](http::Request& r) {
      auto i = reg_.FindById(r.PathParam("id"));
      if (!i) throw http::HttpError(404, "no instance " + r.PathParam("id"));
      return Negotiated(r, {{"instance", InstanceJson(*i)}}, InstanceXml(*i));
    });
    router.Get("/eureka/vips/{vip}", Basic(), [this](http::Request& r) {
      std::vector<InstanceInfo> match;
      for (auto& i : reg_.Instances())
        if (i.vip_address == r.PathParam("vip")) match.push_back(i);
      return Negotiated(r, ApplicationsJson(match, reg_.Version(), reg_.AppsHashCode()),
                        ApplicationsXml(match, reg_.Version(), reg_.AppsHashCode()));
    });
    router.Put("/eureka/apps/{app}/{id}/status", Basic(), [this](http::Request& r) {
      std::string value = r.Query("value").value_or("");
      if (!ValidStatus(value))
        throw http::HttpError(http::Problem(http::MakeProblem(400, "invalid status").Field("value", "UP, DOWN, STARTING, OUT_OF_SERVICE or UNKNOWN")));
      if (!reg_.StatusUpdate(r.PathParam("app"), r.PathParam("id"), value))
        throw http::HttpError(404, "no instance " + r.PathParam("id"));
      Replicate(r, {"StatusUpdate", r.PathParam("app"), r.PathParam("id"), value});
      return http::Response::Empty(200);
    });
    router.Delete("/eureka/apps/{app}/{id}/status", Basic(), [this](http::Request& r) {
      std::string value = r.Query("value").value_or("");
      if (!value.empty() && !ValidStatus(value))
        throw http::HttpError(http::Problem(http::MakeProblem(400, "invalid status").Field("value", "UP, DOWN, STARTING, OUT_OF_SERVICE or UNKNOWN")));
      if (!reg_.DeleteStatusOverride(r.PathParam("app"), r.PathParam("id"), value))
        throw http::HttpError(404, "no instance " + r.PathParam("id"));
      Replicate(r, {"DeleteStatusOverride", r.PathParam("app"), r.PathParam("id"), value});
      return http::Response::Empty(200);
    });
    router.Put("/eureka/apps/{app}/{id}/metadata", Basic(), [this](http::Request& r) {
      bool found = false;
      try {
        found = reg_.UpdateMetadata(r.PathParam("app"), r.PathParam("id"), {r.query.begin(), r.query.end()});
      } catch (const std::invalid_argument& e) {
        std::string what = e.what();
        auto colon = what.find(':');
        throw http::HttpError(http::Problem(http::MakeProblem(400, "invalid metadata").Field(what.substr(0, colon), what.substr(colon + 2))));
      }
      if (!found) throw http::HttpError(404, "no instance " + r.PathParam("id"));
      return http::Response::Empty(200);
    });
    router.Post("/eureka/peerreplication/batch", Basic(), [this](http::Request& r) { return Batch(r); });
    router.Get("/registry/view", Basic(), [this](http::Request&) { return http::Response::Json(200, View()); });
    // Eureka's status page at the root, behind the same credential as the API.
    router.Get("/", Basic(), [this](http::Request&) {
      return http::Response::Text(200, StatusPageHtml(View(), page_), "text/html; charset=utf-8");
    });
  }

 private:
  http::Response Register(http::Request& r) {
    InstanceInfo info;
    std::string error;
    auto body = ParseJson(r.body, &error);
    if (!body) throw http::HttpError(http::Problem(http::MakeProblem(400, "register body is not Eureka JSON").Field("body", error)));
    try {
      info = ParseInstanceJson(*body, r.PathParam("app"));
      ValidateInstance(info, NowMs());
    } catch (const nlohmann::json::exception& e) {
      throw http::HttpError(http::Problem(http::MakeProblem(400, "register body is not Eureka JSON").Field("body", e.what())));
    } catch (const std::invalid_argument& e) {
      std::string what = e.what();
      auto colon = what.find(':');
      throw http::HttpError(http::Problem(http::MakeProblem(400, "invalid instance").Field(what.substr(0, colon), what.substr(colon + 2))));
    }
    bool known = reg_.Get(info.app, info.instance_id).has_value();
    if (reg_.Register(info, IsReplication(r)) == InstanceRegistry::Result::kFull) {
      http::Problem p = http::MakeProblem(429, "the registry is full: " + std::to_string(max_instances_) + " instances (registry.max-instances)");
      p.headers.Set("Retry-After", "30");
      throw http::HttpError(p);
    }
    if (!known) log::Info("instance registered", {{"app", info.app}, {"id", info.instance_id}, {"status", info.status}, {"replication", IsReplication(r)}});
    Replicate(r, {"Register", info.app, info.instance_id, ""});
    return http::Response::Empty(204);
  }

  http::Response Renew(http::Request& r) {
    if (auto dirty = QueryInt(r, "lastDirtyTimestamp")) {
      try {
        ValidateDirtyTimestamp(*dirty, NowMs());
      } catch (const std::invalid_argument&) {
        throw http::HttpError(http::Problem(http::MakeProblem(400, "invalid renewal").Field("lastDirtyTimestamp", "is in the future")));
      }
    }
    InstanceInfo conflicting;
    auto res = reg_.Renew(r.PathParam("app"), r.PathParam("id"), QueryInt(r, "lastDirtyTimestamp"), IsReplication(r), &conflicting);
    if (res == InstanceRegistry::Result::kNotFound) throw http::HttpError(404, "no instance " + r.PathParam("id") + ": register again");
    if (res == InstanceRegistry::Result::kConflict) return http::Response::Json(409, InstanceJson(conflicting));
    Replicate(r, {"Heartbeat", r.PathParam("app"), r.PathParam("id"), ""});
    return http::Response::Empty(200);
  }

  http::Response Batch(http::Request& r) {
    if (auth_.Check(r) != BasicAuth::Caller::kPeer) throw http::HttpError(403, "replication batches come from peers (their own credential)");
    auto body = r.JsonBody();
    auto list = body.is_object() ? body.value("replicationList", nlohmann::json::array()) : nlohmann::json();
    if (!list.is_array()) throw http::HttpError(400, "replicationList must be an array");
    if (list.size() > kMaxBatchItems)
      throw http::HttpError(413, "at most " + std::to_string(kMaxBatchItems) + " tasks per replication batch");
    nlohmann::json responses = nlohmann::json::array();
    for (const auto& item : list) {
      std::string action = item.value("action", ""), app = item.value("appName", ""), id = item.value("id", "");
      int code = 200;
      try {
        if (action == "Register") {
          auto info = ParseInstanceJson({{"instance", item.at("instanceInfo")}}, app);
          ValidateInstance(info, NowMs());  // a peer's copy passes the same checks as a client's
          code = reg_.Register(info, true) == InstanceRegistry::Result::kFull ? 429 : 200;
        } else if (action == "Heartbeat") {
          auto res = reg_.Renew(app, id, std::nullopt, true);
          code = res == InstanceRegistry::Result::kNotFound ? 404 : 200;
        } else if (action == "Cancel") {
          code = reg_.Cancel(app, id, true) ? 200 : 404;
        } else if (action == "StatusUpdate") {
          code = reg_.StatusUpdate(app, id, item.value("status", "UNKNOWN")) ? 200 : 404;
        } else if (action == "DeleteStatusOverride") {
          code = reg_.DeleteStatusOverride(app, id, "") ? 200 : 404;
        } else {
          code = 400;
        }
      } catch (const std::exception&) {
        code = 400;
      }
      responses.push_back({{"statusCode", code}});
    }
    return http::Response::Json(200, {{"responseList", responses}});
  }

  void Replicate(const http::Request& r, ReplicationTask t) {
    if (IsReplication(r)) return;  // a peer told us: do not forward it again
    for (auto& p : peers_) p->Add(t);
  }

  void SyncFromPeers() {
    for (auto& p : peers_) {
      http::ClientRequest req{"GET", p->peer() + "/apps", {}, {}, std::chrono::milliseconds(3000)};
      req.headers.Set("Accept", "application/json");
      if (auto a = auth_.PeerAuthorization(); !a.empty()) req.headers.Set("Authorization", a);
      auto resp = svc_.http_client().Send(req);
      if (!resp.ok() || resp.status != 200) continue;
      int n = 0;
      auto apps = ParseJsonOrDiscarded(resp.body);
      if (!apps.is_object()) continue;
      for (const auto& app : apps["applications"].value("application", nlohmann::json::array()))
        for (const auto& inst : app.value("instance", nlohmann::json::array())) {
          try {
            reg_.Register(ParseInstanceJson({{"instance", inst}}, app.value("name", "")), true);
            ++n;
          } catch (const std::exception&) {
          }
        }
      log::Info("registry copied from peer", {{"peer", p->peer()}, {"instances", n}});
      return;
    }
  }

  void Evict() {
    if (reg_.SelfPreservationActive())
      log::Warn("self-preservation: renewals below the threshold, not evicting",
                {{"renewsLastMinute", reg_.RenewsLastMinute()}, {"threshold", reg_.RenewsThreshold()}});
    for (const auto& gone : reg_.Evict()) {
      evictions_->Increment();
      log::Warn("instance evicted: lease expired", {{"app", gone.app}, {"id", gone.instance_id}});
      for (auto& p : peers_) p->Add({"Cancel", gone.app, gone.instance_id, ""});
    }
  }

  nlohmann::json View() {
    auto ms = [](int64_t t) {
      return t ? FormatRfc3339(std::chrono::system_clock::time_point(std::chrono::milliseconds(t))) : std::string();
    };
    nlohmann::json apps = nlohmann::json::object();
    for (const auto& i : reg_.Instances()) {
      apps[i.app].push_back({{"instanceId", i.instance_id}, {"status", InstanceRegistry::Effective(i)},
                             {"overriddenStatus", i.overridden_status}, {"homePageUrl", i.home_page_url},
                             {"hostName", i.host_name}, {"ipAddr", i.ip_addr},
                             {"healthCheckUrl", i.health_check_url}, {"registeredAt", ms(i.registration_timestamp)},
                             {"lastRenewal", ms(i.last_renewal_timestamp)},
                             {"leaseExpiresAt", ms(i.last_renewal_timestamp + int64_t(i.duration_secs) * 1000)},
                             {"metadata", i.metadata}});
    }
    nlohmann::json events = nlohmann::json::array();
    for (const auto& e : reg_.RecentEvents(50))
      events.push_back({{"at", ms(e.at_ms)}, {"kind", e.kind}, {"app", e.app}, {"instanceId", e.id}, {"status", e.status}});
    nlohmann::json peers = nlohmann::json::array();
    for (auto& p : peers_) peers.push_back(p->peer());
    return {{"applications", apps}, {"selfPreservation", reg_.SelfPreservationActive()},
            {"renewsLastMinute", reg_.RenewsLastMinute()}, {"renewsThreshold", reg_.RenewsThreshold()},
            {"evictions", reg_.Evictions()}, {"recentEvents", events}, {"peers", peers}};
  }

  Service& svc_;
  const StatusPageInfo page_{svc_.spec().version, svc_.instance_id(), std::chrono::system_clock::now()};
  const BasicAuth auth_;
  const size_t max_instances_;
  InstanceRegistry reg_;
  std::vector<std::unique_ptr<PeerReplicator>> peers_;
  prometheus::Counter *evictions_, *replication_failures_, *replication_batches_, *replication_dropped_;
  std::unique_ptr<PeriodicTask> evictor_;  // last: stops first
};

std::unique_ptr<ServiceState> Wire(Service& svc) {
  double t = svc.config().GetDouble("registry.renewal-percent-threshold");
  if (t <= 0 || t > 1) throw config::ConfigError("key 'registry.renewal-percent-threshold' must be in (0, 1]");
  auto server = std::make_unique<RegistryServer>(svc);
  server->Mount(svc.router());
  return server;
}

}  // namespace
}  // namespace op::registry

int main(int argc, char** argv) {
  op::ServiceSpec spec;
  spec.name = "service-registry";
  spec.default_port = 8761;
  spec.declare_config = [](op::config::Schema& s) {
    using op::config::Type;
    s.Add("registry.eviction-interval", Type::kDuration, "60s", "how often expired leases are evicted");
    s.Add("registry.renewal-percent-threshold", Type::kDouble, "0.85", "self-preservation threshold");
    s.Add("registry.enable-self-preservation", Type::kBool, "true", "keep instances when renewals collapse");
    s.Add("registry.expected-client-renewal-interval", Type::kDuration, "30s", "clients' renewal interval, for the threshold");
    s.Add("registry.peers", Type::kStringList, "", "peer registries (http://host:8761/eureka, ...)");
    s.Add(op::config::KeySpec{"registry.max-instances", Type::kInt, "10000", "instances held at most; a new one past this is refused with 429", 1, 1'000'000});
    s.Add(op::config::KeySpec{"registry.max-delta-changes", Type::kInt, "10000", "changes kept for /apps/delta at most (besides the 3-minute window)", 100, 1'000'000});
    op::registry::BasicAuth::DeclareSchema(s);
  };
  return op::Service::Run(spec, argc, argv, op::registry::Wire);
}
