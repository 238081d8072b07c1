#include "dashboard/views.h"

#include <gtest/gtest.h>

namespace op::dashboard {
namespace {

using Json = nlohmann::json;
using namespace std::chrono_literals;

Json View(std::vector<std::pair<std::string, std::string>> instances) {
  Json apps = Json::object();
  for (auto& [app, id] : instances)
    apps[app].push_back({{"instanceId", id}, {"status", "UP"}, {"homePageUrl", "http://" + id + "/"},
                         {"lastRenewal", "2026-11-25T10:00:00.000Z"}});
  return {{"applications", apps}};
}

InstanceProbe Up(Json breakers = Json::object()) {
  InstanceProbe p;
  p.reachable = true;
  p.health = "UP";
  p.breakers = std::move(breakers);
  return p;
}

Json Find(const Json& out, const std::string& id) {
  for (auto& a : out["apps"])
    for (auto& i : a["instances"])
      if (i["instanceId"] == id) return i;
  return nullptr;
}

TEST(InstanceTrackerTest, ListedAndHealthyInstancesAreUp) {
  InstanceTracker t(60s);
  auto now = std::chrono::system_clock::now();
  auto out = t.Update(View({{"ORDER-SERVICE", "o1"}, {"PAYMENT-SERVICE", "p1"}}), {{"o1", Up()}, {"p1", Up()}}, now);
  ASSERT_EQ(out["apps"].size(), 2u);
  EXPECT_EQ(out["apps"][0]["name"], "ORDER-SERVICE");
  EXPECT_EQ(out["apps"][0]["up"], 1);
  EXPECT_EQ(Find(out, "o1")["status"], "UP");
  EXPECT_EQ(Find(out, "o1")["dead"], false);
  EXPECT_EQ(Find(out, "o1")["health"], "UP");
}

TEST(InstanceTrackerTest, AnUnreachableInstanceIsDownAndDeadWithTheReason) {
  InstanceTracker t(60s);
  InstanceProbe gone;
  gone.error = "connection refused";
  auto out = t.Update(View({{"INVENTORY-SERVICE", "i1"}}), {{"i1", gone}}, std::chrono::system_clock::now());
  auto i = Find(out, "i1");
  EXPECT_EQ(i["status"], "DOWN");
  EXPECT_EQ(i["registryStatus"], "UP");
  EXPECT_EQ(i["dead"], true);
  EXPECT_EQ(i["health"], "UNREACHABLE");
  EXPECT_NE(i["deadReason"].get<std::string>().find("connection refused"), std::string::npos);
  EXPECT_EQ(out["apps"][0]["up"], 0);
}

TEST(InstanceTrackerTest, AnInstanceGoneFromTheRegistryStaysVisibleUntilForgotten) {
  InstanceTracker t(60s);
  auto now = std::chrono::system_clock::now();
  t.Update(View({{"ORDER-SERVICE", "o1"}, {"ORDER-SERVICE", "o2"}}), {{"o1", Up()}, {"o2", Up()}}, now);
  auto out = t.Update(View({{"ORDER-SERVICE", "o1"}}), {{"o1", Up()}}, now + 5s);
  auto o2 = Find(out, "o2");
  ASSERT_FALSE(o2.is_null());
  EXPECT_EQ(o2["status"], "DOWN");
  EXPECT_EQ(o2["dead"], true);
  EXPECT_EQ(o2["registryStatus"], "REMOVED");
  EXPECT_NE(o2["deadReason"].get<std::string>().find("no longer in the registry"), std::string::npos);
  out = t.Update(View({{"ORDER-SERVICE", "o1"}}), {{"o1", Up()}}, now + 61s);
  EXPECT_TRUE(Find(out, "o2").is_null());
  EXPECT_FALSE(Find(out, "o1").is_null());
}

TEST(InstanceTrackerTest, BreakersAndBulkheadsComeFromReachableInstancesTagged) {
  InstanceTracker t(60s);
  auto probe = Up({{"inventory-service", {{"state", "OPEN"}, {"failureRatePercent", 100.0}}}});
  probe.bulkheads = {{"orders", {{"availableConcurrentCalls", 5}, {"maxAllowedConcurrentCalls", 20}}}};
  auto out = t.Update(View({{"API-GATEWAY", "g1"}}), {{"g1", probe}}, std::chrono::system_clock::now());
  ASSERT_EQ(out["breakers"].size(), 1u);
  EXPECT_EQ(out["breakers"][0]["name"], "inventory-service");
  EXPECT_EQ(out["breakers"][0]["app"], "API-GATEWAY");
  EXPECT_EQ(out["breakers"][0]["instanceId"], "g1");
  ASSERT_EQ(out["bulkheads"].size(), 1u);
  EXPECT_DOUBLE_EQ(out["bulkheads"][0]["saturation"].get<double>(), 0.75);
}

TEST(SortBreakerTilesTest, WorstFirstThenStateThenVolume) {
  Json tiles = Json::array({
      {{"name", "quiet"}, {"state", "CLOSED"}, {"failureRatePercent", -1.0}, {"successfulCallsTotal", 1}},
      {{"name", "busy"}, {"state", "CLOSED"}, {"failureRatePercent", -1.0}, {"successfulCallsTotal", 900}},
      {{"name", "half"}, {"state", "HALF_OPEN"}, {"failureRatePercent", -1.0}},
      {{"name", "failing"}, {"state", "OPEN"}, {"failureRatePercent", 80.0}},
      {{"name", "some"}, {"state", "CLOSED"}, {"failureRatePercent", 20.0}},
  });
  SortBreakerTiles(tiles);
  std::vector<std::string> order;
  for (auto& t : tiles) order.push_back(t["name"]);
  EXPECT_EQ(order, (std::vector<std::string>{"failing", "some", "half", "busy", "quiet"}));
}

TEST(TimelineTest, MergesHistoryAndNotificationsInTimeOrderWithStepDurations) {
  Json order = {{"history", Json::array({
                    {{"event", "OrderCreated"}, {"source", "order-service"}, {"at", "2026-11-25T10:00:00.000Z"}},
                    {{"event", "InventoryReserved"}, {"source", "inventory-service"}, {"at", "2026-11-25T10:00:00.250Z"}},
                    {{"event", "PaymentCompleted"}, {"source", "payment-service"}, {"at", "2026-11-25T10:00:00.100Z"}},
                    {{"event", "OrderConfirmed"}, {"source", "order-service"}, {"at", "2026-11-25T10:00:00.300Z"}},
                })}};
  Json notes = {{"items", Json::array({{{"channel", "EMAIL"}, {"status", "SENT"}, {"eventType", "OrderConfirmed"},
                                        {"attempts", 1}, {"createdAt", "2026-11-25T10:00:00.310Z"},
                                        {"sentAt", "2026-11-25T10:00:00.400Z"}}})}};
  auto tl = Timeline(order, notes);
  ASSERT_EQ(tl.size(), 5u);
  EXPECT_EQ(tl[1]["event"], "PaymentCompleted");
  EXPECT_EQ(tl[1]["stepMs"], 100);
  EXPECT_EQ(tl[2]["event"], "InventoryReserved");
  EXPECT_EQ(tl[2]["stepMs"], 150);
  EXPECT_EQ(tl[4]["event"], "Notification EMAIL SENT");
  EXPECT_EQ(tl[4]["source"], "notification-service");
  EXPECT_EQ(tl[4]["sinceStartMs"], 400);
  EXPECT_EQ(tl[0]["stepMs"], 0);
}

TEST(TimelineTest, SkipsStepsWithoutAValidTime) {
  Json order = {{"history", Json::array({{{"event", "OrderCreated"}, {"at", "yesterday"}}})}};
  EXPECT_TRUE(Timeline(order, Json()).empty());
}

TEST(ProbeBase, OnlyHttpOnTheInstancesOwnHost) {
  auto instance = [](const std::string& url) {
    return Json{{"homePageUrl", url}, {"hostName", "order-1.local"}, {"ipAddr", "10.0.0.7"}};
  };
  EXPECT_EQ(ProbeBase(instance("http://order-1.local:8081/")), "http://order-1.local:8081");
  EXPECT_EQ(ProbeBase(instance("https://10.0.0.7:8443")), "https://10.0.0.7:8443");
  EXPECT_FALSE(ProbeBase(instance("file:///etc/passwd")));
  EXPECT_FALSE(ProbeBase(instance("gopher://order-1.local:70/")));
  EXPECT_FALSE(ProbeBase(instance("http://169.254.169.254/latest/meta-data"))) << "another host";
  EXPECT_FALSE(ProbeBase(instance("http://")));
  EXPECT_FALSE(ProbeBase(Json{{"homePageUrl", 5}}));
  EXPECT_FALSE(ProbeBase(Json::object()));
}

}  // namespace
}  // namespace op::dashboard
