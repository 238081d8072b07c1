#include "runtime/tracing/tracing.h"

#include <gtest/gtest.h>

#include <future>

namespace op::tracing {
namespace {

using namespace std::chrono_literals;

Span MakeSpan(const std::string& name) {
  Span s;
  s.trace_id = std::string(32, 'a');
  s.id = std::string(16, 'b');
  s.parent_id = std::string(16, 'c');
  s.name = name;
  s.kind = SpanKind::kServer;
  s.timestamp_us = 1'700'000'000'000'000;
  s.duration_us = 1500;
  s.tags = {{"http.method", "GET"}, {"http.status_code", "200"}};
  return s;
}

TEST(Tracing, ZipkinV2Json) {
  auto j = ToZipkinJson(MakeSpan("get /api/orders/{id}"), "order-service");
  EXPECT_EQ(j["traceId"], std::string(32, 'a'));
  EXPECT_EQ(j["id"], std::string(16, 'b'));
  EXPECT_EQ(j["parentId"], std::string(16, 'c'));
  EXPECT_EQ(j["kind"], "SERVER");
  EXPECT_EQ(j["timestamp"], 1'700'000'000'000'000);
  EXPECT_EQ(j["duration"], 1500);
  EXPECT_EQ(j["localEndpoint"]["serviceName"], "order-service");
  EXPECT_EQ(j["tags"]["http.status_code"], "200");
  Span root = MakeSpan("x");
  root.parent_id.clear();
  root.kind = SpanKind::kInternal;
  root.duration_us = 0;
  auto r = ToZipkinJson(root, "s");
  EXPECT_FALSE(r.contains("parentId"));
  EXPECT_FALSE(r.contains("kind"));
  EXPECT_EQ(r["duration"], 1) << "Zipkin wants a positive duration";
}

TEST(Tracing, SamplingIsDecidedWhereTheTraceStarts) {
  Tracer all({"s", "", 1.0}, nullptr);
  Tracer none({"s", "", 0.0}, nullptr);
  for (int i = 0; i < 20; ++i) {
    EXPECT_TRUE(Sampled(all.NewTrace()));
    EXPECT_FALSE(Sampled(none.NewTrace()));
  }
  Tracer half({"s", "", 0.5}, nullptr);
  int sampled = 0;
  for (int i = 0; i < 2000; ++i) sampled += Sampled(half.NewTrace());
  EXPECT_GT(sampled, 800);
  EXPECT_LT(sampled, 1200);
  auto tp = all.NewTrace();
  EXPECT_TRUE(Sampled(tp.Child())) << "children follow the root's decision";
}

TEST(Tracing, BatchesGoToTheSenderAsOneJsonArray) {
  std::mutex mu;
  std::vector<nlohmann::json> bodies;
  TracerOptions o{"order-service", "http://zipkin/api/v2/spans"};
  o.batch_size = 3;
  Tracer t(o, [&](const std::string& endpoint, const std::string& body, std::string*) {
    EXPECT_EQ(endpoint, "http://zipkin/api/v2/spans");
    std::lock_guard lock(mu);
    bodies.push_back(nlohmann::json::parse(body));
    return true;
  });
  for (int i = 0; i < 7; ++i) t.Report(MakeSpan("span " + std::to_string(i)));
  t.Flush();
  std::lock_guard lock(mu);
  size_t spans = 0;
  for (auto& b : bodies) {
    ASSERT_TRUE(b.is_array());
    EXPECT_LE(b.size(), 3u);
    spans += b.size();
  }
  EXPECT_EQ(spans, 7u);
  EXPECT_EQ(t.Sent(), 7u);
  EXPECT_EQ(t.Dropped(), 0u);
}

TEST(Tracing, AStuckOrFailingZipkinNeverBlocksAndWhatCannotWaitIsDroppedAndCounted) {
  std::promise<void> release;
  auto released = release.get_future().share();
  TracerOptions o{"s", "http://zipkin/api/v2/spans"};
  o.batch_size = 1;
  o.max_queued_spans = 5;
  int calls = 0;
  metrics::MetricsRegistry metrics;
  auto t = std::make_unique<Tracer>(o, [&](const std::string&, const std::string&, std::string* error) {
    ++calls;
    released.wait();  // Zipkin hangs
    *error = "connection refused";
    return false;
  }, &metrics);
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < 1000; ++i) t->Report(MakeSpan("s"));
  EXPECT_LT(std::chrono::steady_clock::now() - start, 1s) << "reporting does not wait for Zipkin";
  EXPECT_GE(t->Dropped(), 990u) << "the queue is bounded";
  release.set_value();
  t->Flush();
  EXPECT_EQ(t->Dropped(), 1000u) << "the ones it sent were refused: dropped too";
  EXPECT_EQ(t->Sent(), 0u);
  EXPECT_NE(metrics.Scrape().find("zipkin_reporter_spans_dropped_total 1000"), std::string::npos) << metrics.Scrape();
  t.reset();
}

TEST(Tracing, WithoutAnEndpointNothingIsQueued) {
  Tracer t({"s", ""}, [](const std::string&, const std::string&, std::string*) { return true; });
  t.Report(MakeSpan("s"));
  t.Flush();
  EXPECT_EQ(t.Sent(), 0u);
  EXPECT_EQ(t.Dropped(), 0u);
}

}  // namespace
}  // namespace op::tracing
