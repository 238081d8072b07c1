#include "dashboard/views.h"

#include <algorithm>

#include "runtime/core/time_format.h"

namespace op::dashboard {

namespace {
std::string Upper(std::string s) {
  for (auto& c : s) c = char(::toupper(static_cast<unsigned char>(c)));
  return s;
}
int StateRank(const std::string& s) {
  if (s == "OPEN" || s == "FORCED_OPEN") return 0;
  if (s == "HALF_OPEN") return 1;
  return 2;
}
}  // namespace

nlohmann::json InstanceTracker::Update(const nlohmann::json& view, const std::map<std::string, InstanceProbe>& probes,
                                       Clock::time_point now) {
  std::map<std::string, bool> listed;
  if (view.contains("applications") && view["applications"].is_object()) {
    for (auto& [app, instances] : view["applications"].items()) {
      for (const auto& i : instances) {
        std::string key = Upper(app) + "/" + i.value("instanceId", "");
        nlohmann::json copy = i;
        copy["app"] = Upper(app);
        seen_[key] = {copy, now};
        listed[key] = true;
      }
    }
  }
  for (auto it = seen_.begin(); it != seen_.end();)
    it = (!listed.count(it->first) && now - it->second.last_listed > forget_after_) ? seen_.erase(it) : std::next(it);

  std::map<std::string, nlohmann::json> apps;
  nlohmann::json breakers = nlohmann::json::array(), bulkheads = nlohmann::json::array();
  for (const auto& [key, s] : seen_) {
    nlohmann::json i = s.instance;
    const std::string id = i.value("instanceId", ""), app = i.value("app", "");
    i["registryStatus"] = i.value("status", "UNKNOWN");
    i["dead"] = false;
    i["deadReason"] = nullptr;
    i["health"] = nullptr;
    if (!listed.count(key)) {
      i["registryStatus"] = "REMOVED";
      i["status"] = "DOWN";
      i["dead"] = true;
      i["deadReason"] = "no longer in the registry (cancelled or evicted)";
      i["lastListed"] = FormatRfc3339(s.last_listed);
    }
    auto p = probes.find(id);
    if (p != probes.end()) {
      const auto& probe = p->second;
      i["health"] = probe.reachable ? nlohmann::json(probe.health) : nlohmann::json("UNREACHABLE");
      if (!probe.reachable) {
        i["status"] = "DOWN";
        i["dead"] = true;
        if (i["deadReason"].is_null()) i["deadReason"] = "health check failed: " + probe.error;
      } else {
        for (auto& [name, b] : probe.breakers.items()) {
          nlohmann::json t = b;
          t["name"] = name;
          t["app"] = app;
          t["instanceId"] = id;
          breakers.push_back(t);
        }
        for (auto& [name, b] : probe.bulkheads.items()) {
          nlohmann::json t = b;
          t["name"] = name;
          t["app"] = app;
          t["instanceId"] = id;
          double max = b.value("maxAllowedConcurrentCalls", 0.0);
          t["saturation"] = max > 0 ? 1.0 - b.value("availableConcurrentCalls", 0.0) / max : 0.0;
          bulkheads.push_back(t);
        }
      }
    }
    apps[app].push_back(i);
  }
  nlohmann::json out_apps = nlohmann::json::array();
  for (auto& [name, instances] : apps) {
    int up = 0;
    for (auto& i : instances) up += i["status"] == "UP";
    out_apps.push_back({{"name", name}, {"up", up}, {"instances", instances}});
  }
  SortBreakerTiles(breakers);
  std::stable_sort(bulkheads.begin(), bulkheads.end(), [](const nlohmann::json& a, const nlohmann::json& b) {
    return a.value("saturation", 0.0) > b.value("saturation", 0.0);
  });
  return {{"apps", out_apps}, {"breakers", breakers}, {"bulkheads", bulkheads}};
}

void SortBreakerTiles(nlohmann::json& tiles) {
  auto volume = [](const nlohmann::json& t) {
    return t.value("successfulCallsTotal", int64_t(0)) + t.value("failedCallsTotal", int64_t(0));
  };
  std::stable_sort(tiles.begin(), tiles.end(), [&](const nlohmann::json& a, const nlohmann::json& b) {
    double fa = std::max(0.0, a.value("failureRatePercent", -1.0)), fb = std::max(0.0, b.value("failureRatePercent", -1.0));
    if (fa != fb) return fa > fb;
    int ra = StateRank(a.value("state", "")), rb = StateRank(b.value("state", ""));
    if (ra != rb) return ra < rb;
    return volume(a) > volume(b);
  });
}

nlohmann::json Timeline(const nlohmann::json& order, const nlohmann::json& notifications) {
  struct Step {
    std::chrono::system_clock::time_point at;
    nlohmann::json json;
  };
  std::vector<Step> steps;
  auto add = [&](const std::string& at, nlohmann::json j) {
    auto t = ParseRfc3339(at);
    if (!t) return;
    j["at"] = at;
    steps.push_back({*t, std::move(j)});
  };
  if (order.contains("history"))
    for (const auto& h : order["history"])
      add(h.value("at", ""), {{"source", h.value("source", "")}, {"event", h.value("event", "")},
                              {"detail", h.contains("detail") ? h["detail"] : nlohmann::json(nullptr)}});
  if (notifications.is_object() && notifications.contains("items"))
    for (const auto& n : notifications["items"]) {
      std::string at = n.contains("sentAt") && n["sentAt"].is_string() ? n["sentAt"].get<std::string>()
                                                                          : n.value("createdAt", "");
      add(at, {{"source", "notification-service"},
               {"event", "Notification " + n.value("channel", "") + " " + n.value("status", "")},
               {"detail", "about " + n.value("eventType", "") + ", attempts " + std::to_string(n.value("attempts", 0))}});
    }
  std::stable_sort(steps.begin(), steps.end(), [](const Step& a, const Step& b) { return a.at < b.at; });
  nlohmann::json out = nlohmann::json::array();
  for (size_t k = 0; k < steps.size(); ++k) {
    auto ms = [](auto d) { return std::chrono::duration_cast<std::chrono::milliseconds>(d).count(); };
    steps[k].json["sinceStartMs"] = ms(steps[k].at - steps[0].at);
    steps[k].json["stepMs"] = k == 0 ? 0 : ms(steps[k].at - steps[k - 1].at);
    out.push_back(steps[k].json);
  }
  return out;
}

// The instance's own base URL, if it is one to probe: http(s) on the host the
// instance registered with. A registration could name any URL (file://,
// another host): those are listed, never fetched.
std::optional<std::string> ProbeBase(const nlohmann::json& instance) {
  auto str = [&](const char* k) {
    return instance.contains(k) && instance[k].is_string() ? instance[k].get<std::string>() : std::string();
  };
  std::string base = str("homePageUrl");
  while (!base.empty() && base.back() == '/') base.pop_back();
  size_t scheme = base.rfind("http://", 0) == 0 ? 7 : base.rfind("https://", 0) == 0 ? 8 : 0;
  if (scheme == 0) return std::nullopt;
  std::string authority = base.substr(scheme, base.find('/', scheme) == std::string::npos ? std::string::npos : base.find('/', scheme) - scheme);
  std::string host = authority[0] == '[' ? authority.substr(1, authority.find(']') - 1) : authority.substr(0, authority.rfind(':'));
  if (host.empty() || (host != str("hostName") && host != str("ipAddr"))) return std::nullopt;
  return base;
}

}  // namespace op::dashboard
