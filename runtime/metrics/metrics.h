#pragma once
// The process's metrics: a prometheus-cpp Registry for ordinary counters,
// gauges and histograms, plus collectors called at scrape time for values that
// live elsewhere (breaker states, pool sizes, consumer lag), rendered in the
// Prometheus text format for /actuator/prometheus.
#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/metric_family.h>
#include <prometheus/registry.h>

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "runtime/metrics/latency_stats.h"

namespace op::metrics {

using Labels = std::map<std::string, std::string>;
using Families = std::vector<prometheus::MetricFamily>;

class MetricsRegistry {
 public:
  using Collector = std::function<void(Families&)>;

  MetricsRegistry();
  prometheus::Registry& Registry() { return *registry_; }
  // Runs at every scrape; must be cheap and thread-safe. Returns an id for RemoveCollector.
  int AddCollector(Collector c);
  void RemoveCollector(int id);
  // Labels every series gets (Micrometer's common tags), e.g. {application:
  // order-service}; a series that has the label already keeps its own. Set
  // before the first scrape.
  void SetCommonLabels(Labels labels);
  Families Collect() const;
  // Prometheus text exposition format 0.0.4.
  std::string Scrape() const;

  // Seconds buckets for request latency histograms.
  static const prometheus::Histogram::BucketBoundaries& LatencyBuckets();

 private:
  std::shared_ptr<prometheus::Registry> registry_;
  mutable std::mutex mu_;
  std::map<int, Collector> collectors_;
  Labels common_;
  int next_id_ = 0;
};

// Builders for collector output: make a family, add samples, then move it
// into the output (appending early would let later appends move it).
prometheus::MetricFamily Family(std::string name, std::string help, prometheus::MetricType type);
void AddSample(prometheus::MetricFamily& f, const Labels& labels, double value);
void AddHistogram(prometheus::MetricFamily& f, const Labels& labels, const LatencyStats::Snapshot& s);

}  // namespace op::metrics
