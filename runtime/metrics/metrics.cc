#include "runtime/metrics/metrics.h"

#include <algorithm>

#include <prometheus/text_serializer.h>

#include <sstream>

namespace op::metrics {

MetricsRegistry::MetricsRegistry() : registry_(std::make_shared<prometheus::Registry>()) {}

int MetricsRegistry::AddCollector(Collector c) {
  std::lock_guard lock(mu_);
  collectors_[next_id_] = std::move(c);
  return next_id_++;
}

void MetricsRegistry::RemoveCollector(int id) {
  std::lock_guard lock(mu_);
  collectors_.erase(id);
}

void MetricsRegistry::SetCommonLabels(Labels labels) {
  std::lock_guard lock(mu_);
  common_ = std::move(labels);
}

Families MetricsRegistry::Collect() const {
  Families out = registry_->Collect();
  std::lock_guard lock(mu_);
  for (const auto& [id, c] : collectors_) c(out);
  if (common_.empty()) return out;
  // Labels stay sorted by name, as prometheus-cpp and Micrometer write them.
  for (auto& family : out)
    for (auto& metric : family.metric)
      for (const auto& common : common_) {
        const std::string& name = common.first;  // not a structured binding: clang 14 cannot capture one
        const std::string& value = common.second;
        auto& ls = metric.label;
        if (std::any_of(ls.begin(), ls.end(), [&](const auto& l) { return l.name == name; })) continue;
        auto at = std::find_if(ls.begin(), ls.end(), [&](const auto& l) { return l.name > name; });
        ls.insert(at, prometheus::ClientMetric::Label{name, value});
      }
  return out;
}

std::string MetricsRegistry::Scrape() const {
  std::ostringstream out;
  prometheus::TextSerializer().Serialize(out, Collect());
  return out.str();
}

const prometheus::Histogram::BucketBoundaries& MetricsRegistry::LatencyBuckets() {
  static const prometheus::Histogram::BucketBoundaries b(LatencyStats::kBounds.begin(),
                                                          LatencyStats::kBounds.end());
  return b;
}

prometheus::MetricFamily Family(std::string name, std::string help, prometheus::MetricType type) {
  return prometheus::MetricFamily{std::move(name), std::move(help), type, {}};
}

namespace {
prometheus::ClientMetric Metric(const Labels& labels) {
  prometheus::ClientMetric m;
  for (const auto& [k, v] : labels) m.label.push_back({k, v});
  return m;
}
}  // namespace

void AddSample(prometheus::MetricFamily& f, const Labels& labels, double value) {
  auto m = Metric(labels);
  if (f.type == prometheus::MetricType::Counter) m.counter.value = value;
  else if (f.type == prometheus::MetricType::Untyped) m.untyped.value = value;
  else m.gauge.value = value;
  f.metric.push_back(std::move(m));
}

void AddHistogram(prometheus::MetricFamily& f, const Labels& labels, const LatencyStats::Snapshot& s) {
  auto m = Metric(labels);
  m.histogram.sample_count = s.count;
  m.histogram.sample_sum = s.sum_seconds;
  uint64_t cum = 0;
  for (size_t i = 0; i < LatencyStats::kBounds.size(); ++i) {
    cum += s.buckets[i];
    m.histogram.bucket.push_back({cum, LatencyStats::kBounds[i]});
  }
  cum += s.buckets.back();
  m.histogram.bucket.push_back({cum, std::numeric_limits<double>::infinity()});
  f.metric.push_back(std::move(m));
}

}  // namespace op::metrics
