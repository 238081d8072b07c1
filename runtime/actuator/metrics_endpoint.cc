#include "runtime/actuator/metrics_endpoint.h"

#include <map>
#include <set>

namespace op::actuator {
namespace {

using prometheus::ClientMetric;
using prometheus::MetricFamily;
using prometheus::MetricType;

bool EndsWith(const std::string& s, const std::string& suffix) {
  return s.size() > suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

std::string Dotted(std::string s) {
  for (auto& c : s)
    if (c == '_') c = '.';
  return s;
}

// A Micrometer meter made of one or two Prometheus families.
struct Meter {
  const MetricFamily* main = nullptr;
  const MetricFamily* max = nullptr;  // a timer's _max gauge
  std::string unit;                   // "seconds", "bytes" or ""
};

std::map<std::string, Meter> Meters(const metrics::Families& families) {
  std::set<std::string> histograms;
  for (const auto& f : families)
    if (f.type == MetricType::Histogram) histograms.insert(f.name);
  std::map<std::string, Meter> out;
  for (const auto& f : families) {
    std::string base = f.name;
    if (f.type == MetricType::Gauge && EndsWith(base, "_max") && histograms.count(base.substr(0, base.size() - 4))) continue;
    if (f.type == MetricType::Counter && EndsWith(base, "_total")) base.resize(base.size() - 6);
    Meter m{&f, nullptr, ""};
    for (const char* unit : {"seconds", "bytes"})
      if (EndsWith(base, std::string("_") + unit)) {
        m.unit = unit;
        base.resize(base.size() - std::string(unit).size() - 1);
      }
    if (f.type == MetricType::Histogram)
      for (const auto& g : families)
        if (g.type == MetricType::Gauge && g.name == f.name + "_max") m.max = &g;
    out[Dotted(base)] = m;
  }
  return out;
}

bool Matches(const ClientMetric& m, const std::optional<std::pair<std::string, std::string>>& tag) {
  if (!tag) return true;
  for (const auto& l : m.label)
    if (l.name == tag->first) return l.value == tag->second;
  return false;
}

}  // namespace

nlohmann::json MetricNames(const metrics::Families& families) {
  nlohmann::json names = nlohmann::json::array();
  for (const auto& [name, meter] : Meters(families)) names.push_back(name);
  return {{"names", names}};
}

std::optional<nlohmann::json> MetricDetail(const metrics::Families& families, const std::string& name,
                                           const std::optional<std::pair<std::string, std::string>>& tag) {
  auto meters = Meters(families);
  auto it = meters.find(name);
  if (it == meters.end()) return std::nullopt;
  const Meter& m = it->second;
  std::map<std::string, std::set<std::string>> tags;
  double count = 0, total = 0, value = 0, max = 0;
  size_t matched = 0;
  for (const auto& s : m.main->metric) {
    if (!Matches(s, tag)) continue;
    ++matched;
    for (const auto& l : s.label)
      if (!tag || l.name != tag->first) tags[l.name].insert(l.value);
    switch (m.main->type) {
      case MetricType::Counter: count += s.counter.value; break;
      case MetricType::Gauge: value += s.gauge.value; break;
      case MetricType::Histogram:
        count += double(s.histogram.sample_count);
        total += s.histogram.sample_sum;
        break;
      case MetricType::Summary:
        count += double(s.summary.sample_count);
        total += s.summary.sample_sum;
        break;
      default: value += s.untyped.value; break;
    }
  }
  if (matched == 0) return std::nullopt;
  if (m.max)
    for (const auto& s : m.max->metric)
      if (Matches(s, tag)) max = std::max(max, s.gauge.value);
  nlohmann::json measurements = nlohmann::json::array();
  auto add = [&](const char* statistic, double v) { measurements.push_back({{"statistic", statistic}, {"value", v}}); };
  switch (m.main->type) {
    case MetricType::Counter: add("COUNT", count); break;
    case MetricType::Histogram:
    case MetricType::Summary:
      add("COUNT", count);
      add(m.unit == "seconds" ? "TOTAL_TIME" : "TOTAL", total);
      if (m.max) add("MAX", max);
      break;
    default: add("VALUE", value); break;
  }
  nlohmann::json available = nlohmann::json::array();
  for (const auto& [k, values] : tags) available.push_back({{"tag", k}, {"values", values}});
  return nlohmann::json{{"name", name}, {"description", m.main->help}, {"baseUnit", m.unit.empty() ? nlohmann::json(nullptr) : nlohmann::json(m.unit)},
                        {"measurements", measurements}, {"availableTags", available}};
}

void MountMetrics(http::Router& router, metrics::MetricsRegistry& registry) {
  router.Get("/actuator/metrics", http::Access::Public(), [&registry](http::Request&) {
    return http::Response::Json(200, MetricNames(registry.Collect()));
  });
  router.Get("/actuator/metrics/{name}", http::Access::Public(), [&registry](http::Request& r) {
    std::optional<std::pair<std::string, std::string>> tag;
    if (auto t = r.Query("tag")) {
      const auto colon = t->find(':');
      if (colon == std::string::npos || colon == 0)
        throw http::HttpError(400, "tag must be KEY:VALUE, e.g. tag=uri:/api/orders");
      tag = std::make_pair(t->substr(0, colon), t->substr(colon + 1));
    }
    auto detail = MetricDetail(registry.Collect(), r.PathParam("name"), tag);
    if (!detail) throw http::HttpError(404, "no metric '" + r.PathParam("name").substr(0, 128) + "'" + (tag ? " with that tag" : ""));
    return http::Response::Json(200, *detail);
  });
}

}  // namespace op::actuator
