#include "runtime/metrics/metrics.h"

#include "runtime/metrics/children.h"
#include "runtime/metrics/window_max.h"

#include <gtest/gtest.h>

namespace op::metrics {
namespace {

TEST(Metrics, ScrapeRendersRegistryAndCollectors) {
  MetricsRegistry reg;
  auto& fam = prometheus::BuildCounter().Name("orders_total").Help("orders").Register(reg.Registry());
  fam.Add({{"status", "CONFIRMED"}}).Increment(3);
  LatencyStats stats;
  stats.Record(std::chrono::milliseconds(3));
  stats.Record(std::chrono::milliseconds(30));
  int id = reg.AddCollector([&](Families& out) {
    auto g = Family("outbox_backlog", "rows not yet relayed", prometheus::MetricType::Gauge);
    AddSample(g, {{"service", "order-service"}}, 7);
    auto h = Family("saga_duration_seconds", "saga", prometheus::MetricType::Histogram);
    AddHistogram(h, {}, stats.Read());
    out.push_back(std::move(g));
    out.push_back(std::move(h));
  });
  std::string text = reg.Scrape();
  EXPECT_NE(text.find("orders_total{status=\"CONFIRMED\"} 3"), std::string::npos) << text;
  EXPECT_NE(text.find("# TYPE outbox_backlog gauge"), std::string::npos) << text;
  EXPECT_NE(text.find("outbox_backlog{service=\"order-service\"} 7"), std::string::npos) << text;
  EXPECT_NE(text.find("saga_duration_seconds_bucket{le=\"0.005\"} 1"), std::string::npos) << text;
  EXPECT_NE(text.find("saga_duration_seconds_bucket{le=\"0.05\"} 2"), std::string::npos) << text;
  EXPECT_NE(text.find("saga_duration_seconds_bucket{le=\"+Inf\"} 2"), std::string::npos) << text;
  EXPECT_NE(text.find("saga_duration_seconds_count 2"), std::string::npos) << text;
  reg.RemoveCollector(id);
  EXPECT_EQ(reg.Scrape().find("outbox_backlog"), std::string::npos);
}

TEST(Metrics, CommonLabelsGoOnEverySeriesSortedAndNeverTwice) {
  MetricsRegistry reg;
  reg.SetCommonLabels({{"application", "order-service"}});
  prometheus::BuildCounter().Name("orders_total").Help("o").Register(reg.Registry()).Add({{"status", "CONFIRMED"}}).Increment();
  prometheus::BuildGauge().Name("up_gauge").Help("u").Register(reg.Registry()).Add({}).Set(1);
  reg.AddCollector([](Families& out) {
    auto g = Family("own_label", "keeps its own", prometheus::MetricType::Gauge);
    AddSample(g, {{"application", "other"}, {"z", "1"}}, 2);
    auto b = Family("before", "sorted in", prometheus::MetricType::Gauge);
    AddSample(b, {{"aaa", "x"}, {"zzz", "y"}}, 3);
    out.push_back(std::move(g));
    out.push_back(std::move(b));
  });
  std::string text = reg.Scrape();
  EXPECT_NE(text.find("orders_total{application=\"order-service\",status=\"CONFIRMED\"} 1"), std::string::npos) << text;
  EXPECT_NE(text.find("up_gauge{application=\"order-service\"} 1"), std::string::npos) << text;
  EXPECT_NE(text.find("own_label{application=\"other\",z=\"1\"} 2"), std::string::npos) << text;
  EXPECT_NE(text.find("before{aaa=\"x\",application=\"order-service\",zzz=\"y\"} 3"), std::string::npos) << text;
}

TEST(WindowMax, TheLargestOfTheLastWindowThenForgotten) {
  using namespace std::chrono_literals;
  const auto t0 = WindowMax::Clock::time_point(1000s);
  WindowMax m(120s, t0);
  EXPECT_EQ(m.Poll(t0), 0);
  m.Record(0.5, t0);
  m.Record(0.2, t0 + 1s);
  EXPECT_EQ(m.Poll(t0 + 2s), 0.5);
  EXPECT_EQ(m.Poll(t0 + 79s), 0.5) << "still inside the window";
  m.Record(0.3, t0 + 81s);
  EXPECT_EQ(m.Poll(t0 + 119s), 0.5);
  EXPECT_EQ(m.Poll(t0 + 121s), 0.3) << "0.5 has aged out, 0.3 has not";
  EXPECT_EQ(m.Poll(t0 + 1000s), 0) << "idle longer than the window: nothing";
  m.Record(0.1, t0 + 1001s);
  EXPECT_EQ(m.Poll(t0 + 1002s), 0.1);
}

TEST(Children, OneChildPerLabelValuesMadeOnceAndScrapedLikeFamilyAdd) {
  MetricsRegistry reg;
  auto& fam = prometheus::BuildHistogram().Name("requests_seconds").Help("r").Register(reg.Registry());
  int made = 0;
  Children<prometheus::Histogram> children({"method", "uri"}, [&](const Labels& l) -> prometheus::Histogram& {
    ++made;
    return fam.Add(l, MetricsRegistry::LatencyBuckets());
  });
  children.Get({"GET", "/a"}).Observe(0.001);
  children.Get({"GET", "/a"}).Observe(0.002);
  children.Get({"GET", "/b"}).Observe(0.003);
  // the same characters split differently are different label values
  auto& ab = children.Get({"GE", "T/a"});
  EXPECT_NE(&ab, &children.Get({"GET", "/a"}));
  EXPECT_EQ(&children.Get({"GET", "/a"}), &fam.Add({{"method", "GET"}, {"uri", "/a"}}, MetricsRegistry::LatencyBuckets()));
  EXPECT_EQ(made, 3);
  std::string text = reg.Scrape();
  EXPECT_NE(text.find("requests_seconds_count{method=\"GET\",uri=\"/a\"} 2"), std::string::npos) << text;
  EXPECT_NE(text.find("requests_seconds_count{method=\"GET\",uri=\"/b\"} 1"), std::string::npos) << text;
  EXPECT_THROW(children.Get({"GET"}), std::invalid_argument);
}

TEST(LatencyStats, QuantilesInterpolateWithinBuckets) {
  LatencyStats s;
  for (int i = 0; i < 100; ++i) s.Record(std::chrono::microseconds(1500));  // (0.001, 0.0025]
  auto snap = s.Read();
  EXPECT_EQ(snap.count, 100u);
  EXPECT_GT(snap.Quantile(0.99), 0.001);
  EXPECT_LE(snap.Quantile(0.99), 0.0025);
  EXPECT_EQ(LatencyStats().Read().Quantile(0.5), 0);
}

}  // namespace
}  // namespace op::metrics
