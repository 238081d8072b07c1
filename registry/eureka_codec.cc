#include "registry/eureka_codec.h"

#include <algorithm>
#include <cctype>
#include <map>

namespace op::registry {

namespace {

std::string Upper(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), ::toupper);
  return s;
}

std::map<std::string, std::vector<InstanceInfo>> ByApp(const std::vector<InstanceInfo>& all) {
  std::map<std::string, std::vector<InstanceInfo>> out;
  for (const auto& i : all) out[i.app].push_back(i);
  return out;
}

// Eureka JSON writes scalars as strings in places and numbers in others;
// clients accept both, so read leniently.
int64_t Int(const nlohmann::json& v, int64_t dflt = 0) {
  if (v.is_number_integer()) return v.get<int64_t>();
  if (v.is_string()) {
    try {
      return std::stoll(v.get<std::string>());
    } catch (...) {
    }
  }
  return dflt;
}

bool Bool(const nlohmann::json& v, bool dflt) {
  if (v.is_boolean()) return v.get<bool>();
  if (v.is_string()) return v.get<std::string>() == "true";
  return dflt;
}

}  // namespace

std::string XmlEscape(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&apos;"; break;
      default: out += c;
    }
  }
  return out;
}

nlohmann::json InstanceJson(const InstanceInfo& i) {
  nlohmann::json md = nlohmann::json::object();
  if (i.metadata.empty()) md["@class"] = "java.util.Collections$EmptyMap";
  for (const auto& [k, v] : i.metadata) md[k] = v;
  return {{"instanceId", i.instance_id},
          {"hostName", i.host_name},
          {"app", i.app},
          {"ipAddr", i.ip_addr},
          {"status", InstanceRegistry::Effective(i)},
          {"overriddenStatus", i.overridden_status},
          {"overriddenstatus", i.overridden_status},
          {"port", {{"$", i.port}, {"@enabled", i.port_enabled ? "true" : "false"}}},
          {"securePort", {{"$", i.secure_port}, {"@enabled", i.secure_port_enabled ? "true" : "false"}}},
          {"countryId", i.country_id},
          {"dataCenterInfo", {{"@class", "com.netflix.appinfo.InstanceInfo$DefaultDataCenterInfo"}, {"name", i.data_center}}},
          {"leaseInfo", {{"renewalIntervalInSecs", i.renewal_interval_secs}, {"durationInSecs", i.duration_secs},
                         {"registrationTimestamp", i.registration_timestamp},
                         {"lastRenewalTimestamp", i.last_renewal_timestamp},
                         {"evictionTimestamp", i.eviction_timestamp}, {"serviceUpTimestamp", i.service_up_timestamp}}},
          {"metadata", md},
          {"homePageUrl", i.home_page_url},
          {"statusPageUrl", i.status_page_url},
          {"healthCheckUrl", i.health_check_url},
          {"vipAddress", i.vip_address},
          {"secureVipAddress", i.secure_vip_address},
          {"isCoordinatingDiscoveryServer", "false"},
          {"lastUpdatedTimestamp", std::to_string(i.last_updated_timestamp)},
          {"lastDirtyTimestamp", std::to_string(i.last_dirty_timestamp)},
          {"actionType", i.action_type}};
}

nlohmann::json ApplicationJson(const std::string& name, const std::vector<InstanceInfo>& instances) {
  nlohmann::json list = nlohmann::json::array();
  for (const auto& i : instances) list.push_back(InstanceJson(i));
  return {{"name", name}, {"instance", list}};
}

nlohmann::json ApplicationsJson(const std::vector<InstanceInfo>& all, int64_t version, const std::string& hashcode) {
  nlohmann::json apps = nlohmann::json::array();
  for (const auto& [name, instances] : ByApp(all)) apps.push_back(ApplicationJson(name, instances));
  return {{"applications", {{"versions__delta", std::to_string(version)}, {"apps__hashcode", hashcode}, {"application", apps}}}};
}

namespace {
// An XML element name this encoder may write: a letter or '_', then letters,
// digits, '.', '_' or '-' (a metadata key becomes one).
bool XmlName(const std::string& k) {
  if (k.empty() || k.size() > 64 || !(std::isalpha(static_cast<unsigned char>(k[0])) || k[0] == '_')) return false;
  return std::all_of(k.begin(), k.end(), [](unsigned char c) { return std::isalnum(c) || c == '.' || c == '_' || c == '-'; });
}
}  // namespace

std::string InstanceXml(const InstanceInfo& i) {
  auto tag = [](const std::string& name, const std::string& v) { return "<" + name + ">" + XmlEscape(v) + "</" + name + ">"; };
  std::string md;
  if (i.metadata.empty()) md = "<metadata class=\"java.util.Collections$EmptyMap\"/>";
  else {
    md = "<metadata>";
    for (const auto& [k, v] : i.metadata)
      if (XmlName(k)) md += tag(k, v);  // registrations are validated; a peer's copy is checked here too
    md += "</metadata>";
  }
  return "<instance>" + tag("instanceId", i.instance_id) + tag("hostName", i.host_name) + tag("app", i.app) +
         tag("ipAddr", i.ip_addr) + tag("status", InstanceRegistry::Effective(i)) +
         tag("overriddenstatus", i.overridden_status) + "<port enabled=\"" + (i.port_enabled ? "true" : "false") + "\">" +
         std::to_string(i.port) + "</port><securePort enabled=\"" + (i.secure_port_enabled ? "true" : "false") + "\">" +
         std::to_string(i.secure_port) + "</securePort>" + tag("countryId", std::to_string(i.country_id)) +
         "<dataCenterInfo class=\"com.netflix.appinfo.InstanceInfo$DefaultDataCenterInfo\">" + tag("name", i.data_center) +
         "</dataCenterInfo><leaseInfo>" + tag("renewalIntervalInSecs", std::to_string(i.renewal_interval_secs)) +
         tag("durationInSecs", std::to_string(i.duration_secs)) +
         tag("registrationTimestamp", std::to_string(i.registration_timestamp)) +
         tag("lastRenewalTimestamp", std::to_string(i.last_renewal_timestamp)) +
         tag("evictionTimestamp", std::to_string(i.eviction_timestamp)) +
         tag("serviceUpTimestamp", std::to_string(i.service_up_timestamp)) + "</leaseInfo>" + md +
         tag("homePageUrl", i.home_page_url) + tag("statusPageUrl", i.status_page_url) +
         tag("healthCheckUrl", i.health_check_url) + tag("vipAddress", i.vip_address) +
         tag("secureVipAddress", i.secure_vip_address) + tag("isCoordinatingDiscoveryServer", "false") +
         tag("lastUpdatedTimestamp", std::to_string(i.last_updated_timestamp)) +
         tag("lastDirtyTimestamp", std::to_string(i.last_dirty_timestamp)) + tag("actionType", i.action_type) +
         "</instance>";
}

std::string ApplicationXml(const std::string& name, const std::vector<InstanceInfo>& instances) {
  std::string out = "<application><name>" + XmlEscape(name) + "</name>";
  for (const auto& i : instances) out += InstanceXml(i);
  return out + "</application>";
}

std::string ApplicationsXml(const std::vector<InstanceInfo>& all, int64_t version, const std::string& hashcode) {
  std::string out = "<applications><versions__delta>" + std::to_string(version) + "</versions__delta><apps__hashcode>" +
                    XmlEscape(hashcode) + "</apps__hashcode>";
  for (const auto& [name, instances] : ByApp(all)) out += ApplicationXml(name, instances);
  return out + "</applications>";
}

InstanceInfo ParseInstanceJson(const nlohmann::json& body, const std::string& app_from_path) {
  if (!body.is_object() || !body.contains("instance") || !body["instance"].is_object())
    throw std::invalid_argument("instance: the body must be {\"instance\": {...}}");
  const auto& j = body["instance"];
  InstanceInfo i;
  auto str = [&](const char* k, const std::string& dflt = "") {
    return j.contains(k) && j[k].is_string() ? j[k].get<std::string>() : dflt;
  };
  i.host_name = str("hostName");
  if (i.host_name.empty()) throw std::invalid_argument("instance.hostName: is required");
  i.app = Upper(str("app", app_from_path));
  if (i.app != Upper(app_from_path)) throw std::invalid_argument("instance.app: does not match the path's application");
  i.ip_addr = str("ipAddr", i.host_name);
  i.status = str("status", "UP");
  static const std::vector<std::string> statuses = {"UP", "DOWN", "STARTING", "OUT_OF_SERVICE", "UNKNOWN"};
  if (std::find(statuses.begin(), statuses.end(), i.status) == statuses.end())
    throw std::invalid_argument("instance.status: must be UP, DOWN, STARTING, OUT_OF_SERVICE or UNKNOWN");
  i.overridden_status = str("overriddenStatus", str("overriddenstatus", "UNKNOWN"));
  if (j.contains("port")) {
    const auto& p = j["port"];
    if (p.is_object()) {
      i.port = int(Int(p.value("$", nlohmann::json(0))));
      i.port_enabled = Bool(p.value("@enabled", nlohmann::json("true")), true);
    } else {
      i.port = int(Int(p));
    }
  }
  if (i.port < 0 || i.port > 65535) throw std::invalid_argument("instance.port: must be 0..65535");
  if (j.contains("securePort") && j["securePort"].is_object()) {
    i.secure_port = int(Int(j["securePort"].value("$", nlohmann::json(443))));
    i.secure_port_enabled = Bool(j["securePort"].value("@enabled", nlohmann::json("false")), false);
  }
  i.vip_address = str("vipAddress", Upper(app_from_path) == i.app ? app_from_path : i.app);
  std::transform(i.vip_address.begin(), i.vip_address.end(), i.vip_address.begin(), ::tolower);
  i.secure_vip_address = str("secureVipAddress", i.vip_address);
  i.home_page_url = str("homePageUrl");
  i.status_page_url = str("statusPageUrl");
  i.health_check_url = str("healthCheckUrl");
  if (j.contains("metadata") && j["metadata"].is_object())
    for (auto& [k, v] : j["metadata"].items())
      if (k != "@class" && v.is_string()) i.metadata[k] = v.get<std::string>();
  if (j.contains("dataCenterInfo") && j["dataCenterInfo"].is_object())
    i.data_center = j["dataCenterInfo"].value("name", std::string("MyOwn"));
  i.country_id = int(Int(j.value("countryId", nlohmann::json(1)), 1));
  if (j.contains("leaseInfo") && j["leaseInfo"].is_object()) {
    i.renewal_interval_secs = int(std::max<int64_t>(1, Int(j["leaseInfo"].value("renewalIntervalInSecs", nlohmann::json(30)), 30)));
    i.duration_secs = int(std::max<int64_t>(1, Int(j["leaseInfo"].value("durationInSecs", nlohmann::json(90)), 90)));
  }
  i.last_dirty_timestamp = Int(j.value("lastDirtyTimestamp", nlohmann::json(0)));
  i.instance_id = str("instanceId");
  if (i.instance_id.empty()) i.instance_id = i.host_name;  // Eureka's fallback for old clients
  return i;
}

}  // namespace op::registry
