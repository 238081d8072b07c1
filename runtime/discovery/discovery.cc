#include "runtime/discovery/discovery.h"

namespace op::discovery {

namespace {
Instance FromUrl(const std::string& app, std::string url) {
  while (!url.empty() && url.back() == '/') url.pop_back();
  Instance i;
  i.app = app;
  auto scheme = url.find("://");
  i.id = scheme == std::string::npos ? url : url.substr(scheme + 3);
  i.base_url = url;
  return i;
}
}  // namespace

void StaticDiscovery::DeclareSchema(config::Schema& s) {
  s.Add("discovery.static.*", config::Type::kStringList, "", "fixed base URLs of an application (when no registry)");
}

StaticDiscovery::StaticDiscovery(const config::Config& cfg) {
  for (const auto& app : cfg.InstanceNames("discovery.static"))
    for (const auto& url : cfg.GetList("discovery.static." + app)) {
      if (url.rfind("http://", 0) != 0 && url.rfind("https://", 0) != 0)
        throw config::ConfigError("key 'discovery.static." + app + "' must list http(s) URLs: got '" + url + "'");
      apps_[app].push_back(FromUrl(app, url));
    }
}

StaticDiscovery::StaticDiscovery(std::map<std::string, std::vector<std::string>> urls) {
  for (auto& [app, list] : urls)
    for (auto& u : list) apps_[app].push_back(FromUrl(app, u));
}

std::vector<Instance> StaticDiscovery::Instances(const std::string& app) {
  auto it = apps_.find(app);
  return it == apps_.end() ? std::vector<Instance>{} : it->second;
}

std::string InstanceBreakerName(const Instance& i) { return i.app + "@" + i.id; }

LoadBalancer::LoadBalancer(Discovery& d, resilience::ResilienceRegistry* b, Strategy s)
    : discovery_(d), breakers_(b), strategy_(s) {}

std::optional<Instance> LoadBalancer::Choose(const std::string& app, const std::vector<std::string>& exclude) {
  std::vector<Instance> candidates;
  auto present = discovery_.Instances(app);
  ForgetDeparted(app, present);
  for (auto& i : present) {
    if (i.status != "UP") continue;
    if (std::find(exclude.begin(), exclude.end(), i.id) != exclude.end()) continue;
    if (breakers_) {
      auto breaker = breakers_->SharedCircuitBreaker(InstanceBreakerName(i));
      auto state = breaker->State();
      if (state == resilience::CircuitState::kOpen || state == resilience::CircuitState::kForcedOpen) {
        // let it through once its open wait is over, so it can half-open
        if (breaker->RemainingOpenWait().count() > 0) continue;
      }
    }
    candidates.push_back(std::move(i));
  }
  if (candidates.empty()) return std::nullopt;
  std::lock_guard lock(mu_);
  if (strategy_ == Strategy::kLeastOutstanding) {
    // fewest in flight; ties broken round-robin so equal instances share load
    uint64_t start = next_[app]++;
    size_t best = start % candidates.size();
    for (size_t k = 0; k < candidates.size(); ++k) {
      size_t idx = (start + k) % candidates.size();
      if (outstanding_[candidates[idx].id] < outstanding_[candidates[best].id]) best = idx;
    }
    return candidates[best];
  }
  return candidates[next_[app]++ % candidates.size()];
}

void LoadBalancer::ForgetDeparted(const std::string& app, const std::vector<Instance>& present) {
  std::set<std::string> ids;
  for (const auto& i : present) ids.insert(i.id);
  std::lock_guard lock(mu_);
  auto& known = known_[app];
  if (known == ids) return;
  for (const auto& id : known) {
    if (ids.count(id)) continue;
    if (breakers_) breakers_->RemoveCircuitBreaker(app + "@" + id);
    auto it = outstanding_.find(id);
    if (it != outstanding_.end() && it->second <= 0) outstanding_.erase(it);
  }
  known = std::move(ids);
}

void LoadBalancer::OnStart(const Instance& i) {
  std::lock_guard lock(mu_);
  outstanding_[i.id]++;
}

void LoadBalancer::OnEnd(const Instance& i) {
  std::lock_guard lock(mu_);
  outstanding_[i.id]--;
}

}  // namespace op::discovery
