#include "dashboard/collector.h"

#include <algorithm>
#include <atomic>
#include <future>
#include <system_error>
#include <thread>
#include <set>

#include "runtime/core/json.h"
#include "runtime/core/time_format.h"
#include "runtime/kafka/dead_letter.h"
#include "runtime/logging/log.h"

namespace op::dashboard {

using Json = nlohmann::json;

Collector::Collector(CollectorOptions options, http::HttpClient& http, discovery::ServiceClient& services,
                     kafka::ClusterAdmin* admin, DeadLetters* dead_letters)
    : options_(std::move(options)),
      http_(http),
      services_(services),
      admin_(admin),
      dead_letters_(dead_letters),
      tracker_(options_.forget_after) {
  registry_ = {{"reachable", false}, {"error", "not polled yet"}, {"apps", Json::array()},
               {"breakers", Json::array()}, {"bulkheads", Json::array()}};
  orders_ = {{"reachable", false}, {"error", "not polled yet"}, {"items", Json::array()}};
  kafka_ = {{"reachable", false}, {"error", "not polled yet"}};
}

Collector::~Collector() { Stop(); }

void Collector::Start() {
  platform_.Start();
  kafka_task_.Start();
}

void Collector::Stop() {
  platform_.Stop();
  kafka_task_.Stop();
}

std::string Collector::Snapshot() const {
  std::lock_guard lock(mu_);
  Json out = {{"generatedAt", generated_at_}, {"registry", registry_}, {"orders", orders_}, {"kafka", kafka_}};
  // Overlay the dev broker's fault state; a broker it took down may be missing from metadata.
  Json& brokers = out["kafka"]["brokers"];
  if (!brokers.is_array()) brokers = Json::array();
  for (const auto& f : devbroker_) {
    bool found = false;
    for (auto& b : brokers)
      if (b["id"] == f["id"]) {
        b["state"] = f.value("state", "UP");
        b["rttMs"] = f.value("rttMs", 0);
        found = true;
      }
    if (!found)
      brokers.push_back({{"id", f["id"]}, {"host", ""}, {"port", 0}, {"state", f.value("state", "UP")}, {"rttMs", f.value("rttMs", 0)}});
  }
  std::sort(brokers.begin(), brokers.end(), [](const Json& a, const Json& b) { return a["id"] < b["id"]; });
  if (dead_letters_) out["deadLetters"] = dead_letters_->Json();
  out["programs"] = programs_;
  return out.dump();
}

std::chrono::milliseconds Collector::RefreshPlatform() {
  Json registry = PollRegistry();
  Json orders = PollOrders();
  Json devbroker = PollDevBroker();
  Json programs = PollStack();
  std::lock_guard lock(mu_);
  devbroker_ = std::move(devbroker);
  programs_ = std::move(programs);
  registry_ = std::move(registry);
  orders_ = std::move(orders);
  generated_at_ = FormatRfc3339(std::chrono::system_clock::now());
  return options_.interval;
}

std::chrono::milliseconds Collector::RefreshKafka() {
  Json kafka = PollKafka();
  std::lock_guard lock(mu_);
  kafka_ = std::move(kafka);
  return options_.interval * 2;
}

namespace {
constexpr size_t kMaxProbedInstances = 200;  // per round; more are listed, not probed
constexpr size_t kProbeThreads = 8;

}  // namespace

InstanceProbe Collector::Probe(const std::string& base) {
  InstanceProbe p;
  auto h = http_.Send({"GET", base + "/actuator/health", {}, {}, options_.probe_timeout});
  if (!h.ok()) {
    p.error = h.error_message;
    return p;
  }
  p.reachable = true;
  auto hj = ParseJsonOrDiscarded(h.body);
  p.health = hj.is_object() ? hj.value("status", "UNKNOWN") : "UNKNOWN";
  // One actuator list; empty when the instance does not serve it.
  auto list = [&](const std::string& path, const char* key) {
    auto r = http_.Send({"GET", base + path, {}, {}, options_.probe_timeout});
    auto j = r.ok() && r.status == 200 ? ParseJsonOrDiscarded(r.body) : Json();
    return j.is_object() && j.contains(key) ? j[key] : Json::object();
  };
  p.breakers = list("/actuator/circuitbreakers", "circuitBreakers");
  p.bulkheads = list("/actuator/bulkheads", "bulkheads");
  return p;
}

// Probes in parallel (a stopped instance costs one timeout, not one per
// endpoint), on at most kProbeThreads threads however many instances the
// registry lists, at most kMaxProbedInstances of them.
std::map<std::string, InstanceProbe> Collector::ProbeInstances(const Json& view) {
  std::vector<std::pair<std::string, std::string>> targets;  // instance id, base URL
  if (view.contains("applications") && view["applications"].is_object())
    for (auto& [app, instances] : view["applications"].items())
      for (const auto& i : instances)
        if (auto base = i.is_object() ? ProbeBase(i) : std::nullopt; base && targets.size() < kMaxProbedInstances)
          targets.emplace_back(i.value("instanceId", ""), *base);
  std::vector<InstanceProbe> results(targets.size());
  std::atomic<size_t> next{0};
  auto work = [&] {
    for (size_t k; (k = next.fetch_add(1)) < targets.size();) results[k] = Probe(targets[k].second);
  };
  std::vector<std::thread> workers;
  for (size_t w = 1; w < std::min(kProbeThreads, targets.size()); ++w) {
    try {
      workers.emplace_back(work);
    } catch (const std::system_error&) {
      break;  // no more threads to be had: fewer probe in parallel
    }
  }
  work();  // this thread probes too
  for (auto& t : workers) t.join();
  std::map<std::string, InstanceProbe> out;
  for (size_t k = 0; k < targets.size(); ++k) out[targets[k].first] = std::move(results[k]);
  return out;
}

Json Collector::PollRegistry() {
  Json view;
  std::string error;
  if (options_.registry_url.empty()) {
    error = "no registry configured (eureka.client.service-url)";
  } else {
    http::ClientRequest req{"GET", options_.registry_url + "/registry/view", {}, {}, options_.probe_timeout};
    if (!options_.registry_authorization.empty()) req.headers.Set("Authorization", options_.registry_authorization);
    auto r = http_.Send(req);
    if (!r.ok()) error = r.error_message;
    else if (r.status != 200) error = "registry answered " + std::to_string(r.status);
    else view = ParseJsonOrDiscarded(r.body);
    if (error.empty() && (view.is_discarded() || !view.is_object())) error = "registry view is not JSON";
  }
  std::map<std::string, InstanceProbe> probes;
  if (error.empty()) probes = ProbeInstances(view);
  Json out = tracker_.Update(error.empty() ? view : Json::object(), probes, std::chrono::system_clock::now());
  out["url"] = options_.registry_url;
  out["reachable"] = error.empty();
  out["error"] = error.empty() ? Json(nullptr) : Json(error);
  for (const char* k : {"selfPreservation", "renewsLastMinute", "renewsThreshold", "evictions", "recentEvents", "peers"})
    out[k] = error.empty() && view.contains(k) ? view[k] : Json(nullptr);
  return out;
}

// The dev broker's own view of its faults (which brokers it took down, added
// latency): cheap HTTP, polled with the platform so a fault shows at once even
// while Kafka calls are slow because of it.
Json Collector::PollDevBroker() {
  if (options_.devbroker_url.empty()) return Json::array();
  auto r = http_.Send({"GET", options_.devbroker_url + "/brokers", {}, {}, options_.probe_timeout});
  if (!r.ok() || r.status != 200) return Json::array();
  auto j = ParseJsonOrDiscarded(r.body);
  return j.is_object() && j.contains("brokers") ? j["brokers"] : Json::array();
}

// The stack's programs with their supervisor's restart counts, when the
// dashboard runs inside `bazel run //ops:stack`; null otherwise.
Json Collector::PollStack() {
  if (options_.stack_url.empty()) return nullptr;
  auto r = http_.Send({"GET", options_.stack_url + "/programs", {}, {}, options_.probe_timeout});
  if (!r.ok() || r.status != 200) return nullptr;
  auto j = ParseJsonOrDiscarded(r.body);
  if (!j.is_object() || !j.contains("programs") || !j["programs"].is_array()) return nullptr;
  Json out = Json::array();
  // Only the fields the page shows, of the types it expects: anything else
  // is left out, never thrown (it would stop the whole refresh).
  auto text = [](const Json& p, const char* k) { return p.contains(k) && p[k].is_string() ? p[k] : Json(""); };
  for (const auto& p : j["programs"]) {
    if (!p.is_object() || !p.contains("name") || !p["name"].is_string()) continue;
    const Json restarts = p.contains("restarts") && p["restarts"].is_number_integer() ? p["restarts"] : Json(0);
    out.push_back({{"name", p["name"]}, {"state", text(p, "state")}, {"restarts", restarts}});
  }
  return out;
}

Json Collector::PollOrders() {
  http::ClientRequest req{"GET", "/api/orders?limit=" + std::to_string(options_.recent_orders), {}, {},
                          options_.probe_timeout * 2};
  auto r = services_.Call("order-service", req);
  if (!r.ok()) return {{"reachable", false}, {"error", r.error}, {"items", Json::array()}};
  auto j = ParseJsonOrDiscarded(r.response.body);
  if (j.is_discarded() || !j.contains("items")) return {{"reachable", false}, {"error", "order-service answered no list"}, {"items", Json::array()}};
  Json items = Json::array();
  for (auto& o : j["items"]) {
    Json timeline = Timeline(o, Json());
    o["steps"] = timeline.size();
    o["sagaMs"] = timeline.empty() ? Json(nullptr) : timeline.back()["sinceStartMs"];
    o.erase("history");
    items.push_back(o);
  }
  return {{"reachable", true}, {"error", nullptr}, {"items", items}};
}

Json Collector::PollKafka() {
  Json out = {{"bootstrap", options_.bootstrap_servers}, {"devbroker", options_.devbroker_url.empty() ? Json(nullptr) : Json(options_.devbroker_url)}};
  if (!admin_) {
    out["reachable"] = false;
    out["error"] = "no Kafka configured";
    return out;
  }
  try {
    auto cluster = admin_->Describe(std::chrono::milliseconds(2000));
    Json brokers = Json::array();
    for (auto& b : cluster.brokers)
      brokers.push_back({{"id", b.id}, {"host", b.host}, {"port", b.port}, {"state", "UP"}, {"rttMs", 0}});
    Json topics = Json::array();
    std::vector<std::string> platform_topics;
    for (auto& t : cluster.topics) {
      Json parts = Json::array();
      for (auto& p : t.partitions)
        parts.push_back({{"id", p.id}, {"leader", p.leader}, {"replicas", p.replicas}, {"isr", p.isr},
                         {"error", p.error.empty() ? Json(nullptr) : Json(p.error)}});
      topics.push_back({{"name", t.name}, {"partitions", parts}, {"error", t.error.empty() ? Json(nullptr) : Json(t.error)}});
      if (!kafka::IsDeadLetterTopic(t.name)) platform_topics.push_back(t.name);
    }
    Json groups = Json::array();
    auto high = admin_->HighWatermarks(cluster, platform_topics, std::chrono::milliseconds(1000));
    for (const auto& g : options_.consumer_groups) {
      Json gj = {{"group", g}, {"totalLag", 0}, {"partitions", Json::array()}, {"error", nullptr}};
      try {
        int64_t total = 0;
        auto lag = admin_->GroupLag(g, cluster, platform_topics, high, std::chrono::milliseconds(1000));
        // Only topics the group reads: those where it committed somewhere.
        std::set<std::string> read;
        for (auto& l : lag)
          if (l.committed >= 0) read.insert(l.topic);
        for (auto& l : lag) {
          if (!read.count(l.topic)) continue;
          gj["partitions"].push_back({{"topic", l.topic}, {"partition", l.partition}, {"committed", l.committed},
                                      {"high", l.high}, {"lag", l.lag}});
          total += std::max<int64_t>(0, l.lag);
        }
        gj["totalLag"] = total;
      } catch (const std::exception& e) {
        gj["error"] = e.what();
      }
      groups.push_back(gj);
    }
    out["reachable"] = true;
    out["error"] = nullptr;
    out["brokers"] = brokers;
    out["topics"] = topics;
    out["groups"] = groups;
  } catch (const std::exception& e) {
    out["reachable"] = false;
    out["error"] = e.what();
  }
  return out;
}

}  // namespace op::dashboard
