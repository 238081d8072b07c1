#include "registry/status_page.h"

#include <fmt/format.h>

#include <map>

#include "registry/eureka_codec.h"
#include "runtime/core/time_format.h"

namespace op::registry {
namespace {

// Every value goes through the registry's XML escaping, which HTML shares.
std::string Text(const nlohmann::json& j, const char* key) {
  return j.contains(key) && j[key].is_string() ? j[key].get<std::string>() : std::string();
}

std::string Uptime(std::chrono::seconds s) {
  const auto d = s.count() / 86400, h = s.count() % 86400 / 3600, m = s.count() % 3600 / 60;
  return d > 0 ? fmt::format("{} day(s) {:02}:{:02}", d, h, m) : fmt::format("{:02}:{:02}", h, m);
}

std::string Row(const std::string& name, const std::string& value) {
  return "<tr><td>" + XmlEscape(name) + "</td><td>" + XmlEscape(value) + "</td></tr>\n";
}

// "UP (2) - host:8081 , host:8181" per status, as Eureka lists them.
std::string StatusCell(const nlohmann::json& instances) {
  std::map<std::string, std::vector<std::string>> by_status;
  for (const auto& i : instances) by_status[Text(i, "status")].push_back(Text(i, "instanceId"));
  std::string out;
  for (const auto& [status, ids] : by_status) {
    out += "<span class=\"" + XmlEscape(status) + "\">" + XmlEscape(status) + " (" + std::to_string(ids.size()) + ") - ";
    for (size_t k = 0; k < ids.size(); ++k) out += (k ? " , " : "") + XmlEscape(ids[k]);
    out += "</span><br>";
  }
  return out;
}

}  // namespace

std::string StatusPageHtml(const nlohmann::json& view, const StatusPageInfo& info, std::chrono::system_clock::time_point now) {
  const bool preserving = view.value("selfPreservation", false);
  const int64_t renews = view.value("renewsLastMinute", int64_t{0}), threshold = view.value("renewsThreshold", int64_t{0});
  std::string html =
      "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Service registry</title>\n"
      "<style>body{font-family:sans-serif;margin:2em;color:#222}table{border-collapse:collapse;margin-bottom:1.5em}"
      "td,th{border:1px solid #ccc;padding:.3em .7em;text-align:left}th{background:#eee}"
      ".emergency{color:#b00;font-weight:bold}.UP{color:#070}.DOWN,.OUT_OF_SERVICE{color:#b00}</style></head><body>\n"
      "<h1>Service registry</h1>\n<h2>System Status</h2>\n<table id=\"system-status\">\n";
  html += Row("Environment", "orderplatform");
  html += Row("Current time", FormatRfc3339(now));
  html += Row("Uptime", Uptime(std::chrono::duration_cast<std::chrono::seconds>(now - info.started_at)));
  html += Row("Lease expiration enabled", preserving ? "false" : "true");
  html += Row("Renews threshold", std::to_string(threshold));
  html += Row("Renews (last min)", std::to_string(renews));
  html += "</table>\n";
  if (preserving)
    html += "<p class=\"emergency\" id=\"self-preservation\">EMERGENCY! THE REGISTRY MAY BE INCORRECTLY CLAIMING INSTANCES "
            "ARE UP WHEN THEY'RE NOT. RENEWALS ARE LESSER THAN THRESHOLD AND HENCE THE INSTANCES ARE NOT BEING EXPIRED JUST "
            "TO BE SAFE.</p>\n";
  html += "<h2>DS Replicas</h2>\n<ul id=\"replicas\">";
  for (const auto& p : view.value("peers", nlohmann::json::array()))
    html += "<li>" + XmlEscape(p.is_string() ? p.get<std::string>() : p.dump()) + "</li>";
  html += "</ul>\n<h2>Instances currently registered</h2>\n<table id=\"instances\">\n"
          "<tr><th>Application</th><th>Availability Zones</th><th>Status</th></tr>\n";
  const auto apps = view.value("applications", nlohmann::json::object());
  if (apps.empty()) html += "<tr><td colspan=\"3\">No instances available</td></tr>\n";
  for (const auto& [app, instances] : apps.items())
    html += "<tr class=\"application\" data-app=\"" + XmlEscape(app) + "\"><td><b>" + XmlEscape(app) + "</b></td><td>" +
            std::to_string(instances.size()) + "</td><td>" + StatusCell(instances) + "</td></tr>\n";
  html += "</table>\n<h2>General Info</h2>\n<table id=\"general-info\">\n";
  html += Row("version", info.version);
  html += Row("instance", info.instance_id);
  html += Row("evictions", std::to_string(view.value("evictions", int64_t{0})));
  html += Row("registered instances", std::to_string([&] {
                size_t n = 0;
                for (const auto& [app, instances] : apps.items()) n += instances.size();
                return n;
              }()));
  html += "</table>\n<p>Also: <a href=\"/registry/view\">/registry/view</a> (JSON), "
          "<a href=\"/eureka/apps\">/eureka/apps</a> (Eureka's API).</p>\n</body></html>\n";
  return html;
}

}  // namespace op::registry
