#include "runtime/discovery/eureka_client.h"

#include "runtime/auth/basic.h"

#include <algorithm>

#include "runtime/core/json.h"
#include "runtime/logging/log.h"

namespace op::discovery {

namespace {
std::string Upper(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), ::toupper);
  return s;
}
int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}
std::string Effective(const nlohmann::json& i) {
  std::string o = i.value("overriddenStatus", i.value("overriddenstatus", "UNKNOWN"));
  return o != "UNKNOWN" && !o.empty() ? o : i.value("status", "UNKNOWN");
}
}  // namespace

void EurekaClientOptions::DeclareSchema(config::Schema& s) {
  using config::Type;
  s.Add("eureka.client.service-url", Type::kStringList, "", "registry URLs, e.g. http://127.0.0.1:8761/eureka (empty: no registry)");
  s.Add("eureka.client.register-with-eureka", Type::kBool, "true", "register this instance");
  s.Add("eureka.client.fetch-registry", Type::kBool, "true", "keep a local copy of the registry for discovery");
  s.Add("eureka.client.registry-fetch-interval", Type::kDuration, "30s", "how often the local copy is refreshed");
  s.Add("eureka.instance.lease-renewal-interval", Type::kDuration, "30s", "how often this instance renews its lease");
  s.Add("eureka.instance.lease-expiration-duration", Type::kDuration, "90s", "lease duration without renewal");
  s.Add("eureka.instance.hostname", Type::kString, "127.0.0.1", "host name other instances use to reach this one");
}

CredentialedUrl SplitCredentials(const std::string& url) {
  const auto scheme = url.find("://");
  if (scheme == std::string::npos) return {url, ""};
  const auto authority_end = url.find('/', scheme + 3);
  const auto at = url.rfind('@', authority_end == std::string::npos ? std::string::npos : authority_end);
  if (at == std::string::npos || at < scheme) return {url, ""};
  const std::string userinfo = url.substr(scheme + 3, at - scheme - 3);
  const auto colon = userinfo.find(':');
  const std::string user = http::PercentDecode(userinfo.substr(0, colon));
  const std::string password = colon == std::string::npos ? "" : http::PercentDecode(userinfo.substr(colon + 1));
  return {url.substr(0, scheme + 3) + url.substr(at + 1), auth::BasicAuthorization(user, password)};
}

EurekaClientOptions EurekaClientOptions::FromConfig(const config::Config& c) {
  EurekaClientOptions o;
  for (auto u : c.GetList("eureka.client.service-url")) {
    while (!u.empty() && u.back() == '/') u.pop_back();
    auto split = SplitCredentials(u);
    // the message names the URL without its password
    if (split.url.rfind("http://", 0) != 0 && split.url.rfind("https://", 0) != 0)
      throw config::ConfigError("key 'eureka.client.service-url' must list http(s) URLs: got '" + split.url + "'");
    o.service_urls.push_back(split.url);
    o.authorizations.push_back(split.authorization);
  }
  o.register_with_eureka = c.GetBool("eureka.client.register-with-eureka");
  o.fetch_registry = c.GetBool("eureka.client.fetch-registry");
  o.fetch_interval = c.GetDuration("eureka.client.registry-fetch-interval");
  o.renewal_interval = c.GetDuration("eureka.instance.lease-renewal-interval");
  o.lease_duration = c.GetDuration("eureka.instance.lease-expiration-duration");
  o.host_name = c.GetString("eureka.instance.hostname");
  if (o.renewal_interval.count() < 1000 || o.lease_duration < o.renewal_interval)
    throw config::ConfigError("key 'eureka.instance.lease-expiration-duration' must be longer than the renewal interval (at least 1s)");
  return o;
}

EurekaClient::EurekaClient(EurekaClientOptions options, http::HttpClient& http) : options_(std::move(options)), http_(http) {
  dirty_ms_ = NowMs();
}

EurekaClient::~EurekaClient() { Stop(); }

std::optional<http::ClientResponse> EurekaClient::Send(http::ClientRequest r) {
  const std::string path = r.url;
  r.headers.Set("Accept", "application/json");
  if (r.timeout.count() == 0) r.timeout = std::chrono::milliseconds(3000);
  size_t n = options_.service_urls.size();
  for (size_t k = 0; k < n; ++k) {
    size_t idx = (preferred_url_.load() + k) % n;
    r.url = options_.service_urls[idx] + path;
    if (idx < options_.authorizations.size() && !options_.authorizations[idx].empty())
      r.headers.Set("Authorization", options_.authorizations[idx]);
    else
      r.headers.Remove("authorization");
    auto resp = http_.Send(r);
    if (resp.ok() && resp.status < 500) {
      preferred_url_ = idx;  // stick to a registry that answers
      return resp;
    }
    Contact(false, resp.ok() ? r.url + " answered " + std::to_string(resp.status) : resp.error_message);
  }
  return std::nullopt;
}

void EurekaClient::Contact(bool ok, const std::string& error) {
  std::lock_guard lock(state_mu_);
  if (ok) last_contact_ = std::chrono::system_clock::now();
  else last_error_ = error;
}

std::string EurekaClient::InstanceBody() {
  std::lock_guard lock(state_mu_);
  std::string base = "http://" + options_.host_name + ":" + std::to_string(options_.port);
  nlohmann::json md = nlohmann::json::object();
  for (const auto& [k, v] : options_.metadata) md[k] = v;
  std::string vip = options_.app;
  return nlohmann::json(
             {{"instance",
               {{"instanceId", options_.instance_id}, {"hostName", options_.host_name}, {"app", Upper(options_.app)},
                {"ipAddr", options_.host_name}, {"status", status_}, {"overriddenStatus", "UNKNOWN"},
                {"port", {{"$", options_.port}, {"@enabled", "true"}}},
                {"securePort", {{"$", 443}, {"@enabled", "false"}}}, {"countryId", 1},
                {"dataCenterInfo", {{"@class", "com.netflix.appinfo.InstanceInfo$DefaultDataCenterInfo"}, {"name", "MyOwn"}}},
                {"leaseInfo", {{"renewalIntervalInSecs", options_.renewal_interval.count() / 1000},
                               {"durationInSecs", options_.lease_duration.count() / 1000}}},
                {"metadata", md}, {"homePageUrl", base + "/"}, {"statusPageUrl", base + "/actuator/info"},
                {"healthCheckUrl", base + "/actuator/health"}, {"vipAddress", vip}, {"secureVipAddress", vip},
                {"lastDirtyTimestamp", std::to_string(dirty_ms_)}}}})
      .dump();
}

bool EurekaClient::Register() {
  http::ClientRequest r{"POST", "/apps/" + Upper(options_.app), {}, InstanceBody(), {}};
  r.headers.Set("Content-Type", "application/json");
  auto resp = Send(r);
  bool ok = resp && resp->status == 204;
  if (ok) {
    Contact(true);
    if (!registered_.exchange(true)) log::Info("registered with the registry", {{"app", Upper(options_.app)}, {"instance", options_.instance_id}});
  } else if (resp) {
    Contact(false, "register answered " + std::to_string(resp->status) + ": " + resp->body.substr(0, 200));
  }
  return ok;
}

bool EurekaClient::Renew() {
  int64_t dirty;
  std::string status;
  {
    std::lock_guard lock(state_mu_);
    dirty = dirty_ms_;
    status = status_;
  }
  auto resp = Send({"PUT", "/apps/" + Upper(options_.app) + "/" + options_.instance_id + "?status=" + status +
                               "&lastDirtyTimestamp=" + std::to_string(dirty), {}, "", {}});
  if (!resp) return false;
  if (resp->status == 404) {  // the registry forgot us (eviction, restart): register again
    log::Warn("lease unknown to the registry: registering again");
    return Register();
  }
  Contact(resp->status == 200);
  return resp->status == 200;
}

bool EurekaClient::Fetch(bool full) {
  auto resp = Send({"GET", full ? "/apps" : "/apps/delta", {}, {}, {}});
  if (!resp || resp->status != 200) return false;
  auto body = ParseJsonOrDiscarded(resp->body);
  if (!body.is_object() || !body.contains("applications")) return false;
  const auto& apps = body["applications"];
  std::lock_guard lock(state_mu_);
  auto raw = raw_;
  if (full) raw.clear();
  for (const auto& app : apps.value("application", nlohmann::json::array()))
    for (const auto& inst : app.value("instance", nlohmann::json::array())) {
      std::string id = inst.value("instanceId", "");
      if (id.empty()) continue;
      if (!full && inst.value("actionType", "") == "DELETED") raw.erase(id);
      else raw[id] = inst;
    }
  // Reconcile: the server's hashcode over effective statuses must match ours.
  std::map<std::string, int> counts;
  for (const auto& [id, inst] : raw) counts[Effective(inst)]++;
  std::string hash;
  for (const auto& [s, n] : counts) hash += s + "_" + std::to_string(n) + "_";
  if (!full && hash != apps.value("apps__hashcode", std::string())) return false;  // caller does a full fetch
  raw_ = std::move(raw);
  cache_.clear();
  for (const auto& [id, inst] : raw_) {
    Instance i;
    i.app = inst.value("app", "");
    i.id = id;
    int port = 0;
    if (inst.contains("port") && inst["port"].is_object()) {
      const auto& p = inst["port"]["$"];
      port = p.is_number() ? p.get<int>() : std::atoi(p.get<std::string>().c_str());
    }
    i.base_url = "http://" + inst.value("hostName", inst.value("ipAddr", "")) + ":" + std::to_string(port);
    i.status = Effective(inst);
    if (inst.contains("metadata") && inst["metadata"].is_object())
      for (auto& [k, v] : inst["metadata"].items())
        if (v.is_string() && k != "@class") i.metadata[k] = v.get<std::string>();
    cache_[Upper(i.app)].push_back(std::move(i));
  }
  last_contact_ = std::chrono::system_clock::now();
  fetches_++;
  return true;
}

void EurekaClient::Start() {
  if (options_.service_urls.empty()) return;
  if (options_.fetch_registry) Fetch(true);
  if (options_.register_with_eureka) Register();
  next_renew_ = std::chrono::steady_clock::now() + options_.renewal_interval;
  next_fetch_ = std::chrono::steady_clock::now() + options_.fetch_interval;
  task_ = std::make_unique<PeriodicTask>("eureka-client", [this] { return Step(); });
  task_->Start();
}

std::chrono::milliseconds EurekaClient::Step() {
  using Clock = std::chrono::steady_clock;
  auto now = Clock::now();
  if (options_.register_with_eureka && (now >= next_renew_ || !registered_.load())) {
    bool ok = registered_.load() ? Renew() : Register();
    if (ok) backoff_.Reset();
    next_renew_ = Clock::now() + (ok ? options_.renewal_interval : backoff_.Next());
  }
  if (options_.fetch_registry && now >= next_fetch_) {
    bool ok = Fetch(false) || Fetch(true);
    if (!ok) log::Warn("registry unreachable: serving the last known view", {{"error", LastError()}});
    next_fetch_ = Clock::now() + (ok ? options_.fetch_interval : std::min(options_.fetch_interval, backoff_.policy().Cap(backoff_.attempts() + 1)));
  }
  auto until = std::min(next_renew_, next_fetch_);
  if (!options_.register_with_eureka) until = next_fetch_;
  if (!options_.fetch_registry) until = next_renew_;
  return std::max(std::chrono::milliseconds(0), std::chrono::duration_cast<std::chrono::milliseconds>(until - Clock::now()));
}

void EurekaClient::Stop() {
  if (!task_) return;
  task_->Stop();
  task_.reset();
  if (options_.register_with_eureka && registered_.load()) {
    auto resp = Send({"DELETE", "/apps/" + Upper(options_.app) + "/" + options_.instance_id, {}, "", std::chrono::milliseconds(2000)});
    log::Info("lease cancelled", {{"ok", resp && resp->status == 200}});
    registered_ = false;
  }
}

void EurekaClient::SetStatus(const std::string& status) {
  {
    std::lock_guard lock(state_mu_);
    if (status_ == status) return;
    status_ = status;
    dirty_ms_ = NowMs();
  }
  if (options_.register_with_eureka && !options_.service_urls.empty()) Register();
}

std::vector<Instance> EurekaClient::Instances(const std::string& app) {
  std::lock_guard lock(state_mu_);
  auto it = cache_.find(Upper(app));
  return it == cache_.end() ? std::vector<Instance>{} : it->second;
}

std::optional<std::chrono::system_clock::time_point> EurekaClient::LastContact() const {
  std::lock_guard lock(state_mu_);
  return last_contact_;
}

std::string EurekaClient::LastError() const {
  std::lock_guard lock(state_mu_);
  return last_error_;
}

}  // namespace op::discovery
