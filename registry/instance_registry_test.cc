#include "registry/instance_registry.h"

#include <gtest/gtest.h>

#include "registry/eureka_codec.h"

namespace op::registry {
namespace {

using namespace std::chrono_literals;

InstanceInfo Inst(const std::string& app, const std::string& id, int port = 8080) {
  InstanceInfo i;
  i.app = app;
  i.instance_id = id;
  i.host_name = "127.0.0.1";
  i.ip_addr = "127.0.0.1";
  i.port = port;
  i.vip_address = app;
  return i;
}

TEST(InstanceRegistry, RegisterRenewCancel) {
  ManualClock clock;
  InstanceRegistry reg({}, clock);
  reg.Register(Inst("order-service", "a"), false);
  ASSERT_TRUE(reg.Get("ORDER-SERVICE", "a"));
  EXPECT_EQ(reg.Get("order-service", "a")->app, "ORDER-SERVICE") << "apps are upper-cased, look-ups not case-sensitive";
  EXPECT_EQ(reg.Renew("order-service", "a", std::nullopt, false), InstanceRegistry::Result::kOk);
  EXPECT_EQ(reg.Renew("order-service", "nope", std::nullopt, false), InstanceRegistry::Result::kNotFound);
  EXPECT_EQ(reg.Renew("other", "a", std::nullopt, false), InstanceRegistry::Result::kNotFound);
  EXPECT_TRUE(reg.Cancel("order-service", "a", false));
  EXPECT_FALSE(reg.Cancel("order-service", "a", false));
  EXPECT_TRUE(reg.Instances().empty());
}

TEST(InstanceRegistry, InstancesAndDeltaHistoryAreCapped) {
  ManualClock clock;
  RegistryOptions o;
  o.max_instances = 3;
  o.max_delta_changes = 5;
  InstanceRegistry reg(o, clock);
  for (int k = 0; k < 3; ++k) EXPECT_EQ(reg.Register(Inst("APP", "i" + std::to_string(k)), false), InstanceRegistry::Result::kOk);
  EXPECT_EQ(reg.Register(Inst("APP", "i3"), false), InstanceRegistry::Result::kFull);
  EXPECT_EQ(reg.Register(Inst("OTHER", "x"), false), InstanceRegistry::Result::kFull);
  EXPECT_EQ(reg.Register(Inst("APP", "i0"), false), InstanceRegistry::Result::kOk) << "a known instance re-registers";
  EXPECT_EQ(reg.Size(), 3u);
  EXPECT_TRUE(reg.Cancel("APP", "i1", false));
  EXPECT_EQ(reg.Register(Inst("APP", "i3"), false), InstanceRegistry::Result::kOk) << "room again after a cancel";
  for (int k = 0; k < 100; ++k) reg.StatusUpdate("APP", "i0", k % 2 ? "UP" : "DOWN");
  EXPECT_EQ(reg.Delta().size(), 5u) << "a burst of changes keeps the newest max_delta_changes";
}

TEST(InstanceRegistry, RenewalsAreCountedPerSecondOverTheLastMinute) {
  ManualClock clock;
  InstanceRegistry reg({}, clock);
  reg.Register(Inst("APP", "a"), false);
  for (int k = 0; k < 100'000; ++k) reg.Renew("APP", "a", std::nullopt, false);
  EXPECT_EQ(reg.RenewsLastMinute(), 100'000);
  clock.Advance(30s);
  reg.Renew("APP", "a", std::nullopt, false);
  EXPECT_EQ(reg.RenewsLastMinute(), 100'001);
  clock.Advance(31s);
  reg.Renew("APP", "a", std::nullopt, false);
  EXPECT_EQ(reg.RenewsLastMinute(), 2) << "the first second's renewals left the window";
}

TEST(InstanceRegistry, DirtyTimestampRulesOfRenewAndRegister) {
  ManualClock clock;
  InstanceRegistry reg({}, clock);
  auto i = Inst("APP", "a");
  i.last_dirty_timestamp = 1000;
  reg.Register(i, false);
  EXPECT_EQ(reg.Renew("APP", "a", 2000, false), InstanceRegistry::Result::kNotFound) << "client is newer: re-register";
  InstanceInfo theirs;
  EXPECT_EQ(reg.Renew("APP", "a", 500, true, &theirs), InstanceRegistry::Result::kConflict) << "peer is behind";
  EXPECT_EQ(theirs.last_dirty_timestamp, 1000);
  EXPECT_EQ(reg.Renew("APP", "a", 500, false), InstanceRegistry::Result::kOk) << "an older client value is fine";
  auto stale = Inst("APP", "a", 9999);
  stale.last_dirty_timestamp = 10;
  reg.Register(stale, true);
  EXPECT_EQ(reg.Get("APP", "a")->port, 8080) << "a stale register does not overwrite newer data";
}

TEST(InstanceRegistry, ExpiredLeasesAreEvictedButAtMostFifteenPercentPerSweep) {
  ManualClock clock;
  InstanceRegistry reg({0.85, true, 30}, clock);
  for (int k = 0; k < 20; ++k) reg.Register(Inst("APP", "i" + std::to_string(k)), false);
  // keep renewing 18 of them, so renewals stay above the threshold
  for (int t = 0; t < 4; ++t) {
    clock.Advance(30s);
    for (int k = 2; k < 20; ++k)
      for (int twice = 0; twice < 2; ++twice) reg.Renew("APP", "i" + std::to_string(k), std::nullopt, false);
  }
  EXPECT_FALSE(reg.SelfPreservationActive());
  auto evicted = reg.Evict();
  EXPECT_EQ(evicted.size(), 2u);
  EXPECT_EQ(reg.Instances().size(), 18u);
  EXPECT_EQ(reg.Evictions(), 2);
  EXPECT_EQ(reg.RecentEvents(1)[0].kind, "EVICTED");
}

TEST(InstanceRegistry, SelfPreservationStopsEvictionWhenRenewalsCollapse) {
  ManualClock clock;
  InstanceRegistry reg({0.85, true, 30}, clock);
  for (int k = 0; k < 4; ++k) reg.Register(Inst("APP", "i" + std::to_string(k)), false);
  clock.Advance(5min);  // a partition: nobody renews
  EXPECT_TRUE(reg.SelfPreservationActive());
  EXPECT_EQ(reg.RenewsThreshold(), 6) << "4 clients x 2 renewals/min x 0.85";
  EXPECT_TRUE(reg.Evict().empty());
  EXPECT_EQ(reg.Instances().size(), 4u);

  InstanceRegistry off({0.85, false, 30}, clock);
  for (int k = 0; k < 4; ++k) off.Register(Inst("APP", "i" + std::to_string(k)), false);
  clock.Advance(91s);
  EXPECT_EQ(off.Evict().size(), 4u) << "without self-preservation every expired lease goes";
}

TEST(InstanceRegistry, StatusOverridesDeltaAndHashcode) {
  ManualClock clock;
  InstanceRegistry reg({}, clock);
  reg.Register(Inst("A", "a1"), false);
  reg.Register(Inst("A", "a2"), false);
  auto v = reg.Version();
  EXPECT_TRUE(reg.StatusUpdate("A", "a1", "OUT_OF_SERVICE"));
  EXPECT_EQ(InstanceRegistry::Effective(*reg.Get("A", "a1")), "OUT_OF_SERVICE");
  EXPECT_EQ(reg.AppsHashCode(), "OUT_OF_SERVICE_1_UP_1_");
  EXPECT_GT(reg.Version(), v);
  auto re = Inst("A", "a1");
  re.last_dirty_timestamp = std::chrono::duration_cast<std::chrono::milliseconds>(clock.WallNow().time_since_epoch()).count() + 1;
  reg.Register(re, false);
  EXPECT_EQ(InstanceRegistry::Effective(*reg.Get("A", "a1")), "OUT_OF_SERVICE") << "the override survives a re-register";
  EXPECT_TRUE(reg.DeleteStatusOverride("A", "a1", "UP"));
  EXPECT_EQ(InstanceRegistry::Effective(*reg.Get("A", "a1")), "UP");
  reg.Cancel("A", "a2", false);
  auto delta = reg.Delta();
  ASSERT_FALSE(delta.empty());
  EXPECT_EQ(delta.back().action_type, "DELETED");
  clock.Advance(4min);
  EXPECT_TRUE(reg.Delta().empty()) << "deltas are kept for three minutes";
}

TEST(EurekaCodec, JsonAndXmlShapes) {
  auto i = Inst("ORDER-SERVICE", "host:order-service:8081", 8081);
  i.metadata["version"] = "1.0";
  auto j = InstanceJson(i);
  EXPECT_EQ(j["port"]["$"], 8081);
  EXPECT_EQ(j["port"]["@enabled"], "true");
  EXPECT_EQ(j["dataCenterInfo"]["@class"], "com.netflix.appinfo.InstanceInfo$DefaultDataCenterInfo");
  EXPECT_EQ(j["metadata"]["version"], "1.0");
  auto apps = ApplicationsJson({i}, 3, "UP_1_");
  EXPECT_EQ(apps["applications"]["application"][0]["name"], "ORDER-SERVICE");
  EXPECT_EQ(apps["applications"]["apps__hashcode"], "UP_1_");
  std::string xml = ApplicationsXml({i}, 3, "UP_1_");
  for (const char* part : {"<applications><versions__delta>3</versions__delta>", "<name>ORDER-SERVICE</name>",
                           "<hostName>127.0.0.1</hostName>", "<port enabled=\"true\">8081</port>",
                           "<metadata><version>1.0</version></metadata>", "<instanceId>host:order-service:8081</instanceId>"})
    EXPECT_NE(xml.find(part), std::string::npos) << part;
  EXPECT_EQ(XmlEscape("<a&b>"), "&lt;a&amp;b&gt;");
  // A key that is no XML name (only a peer's copy could hold one) is left out, not written as markup.
  auto odd = i;
  odd.metadata["x><evil/><y"] = "1";
  odd.metadata["note"] = "</metadata><injected/>";
  std::string safe = InstanceXml(odd);
  EXPECT_EQ(safe.find("<evil/>"), std::string::npos) << safe;
  EXPECT_EQ(safe.find("<injected/>"), std::string::npos) << safe;
  EXPECT_NE(safe.find("<note>&lt;/metadata&gt;&lt;injected/&gt;</note>"), std::string::npos) << safe;

  auto back = ParseInstanceJson({{"instance", j}}, "order-service");
  EXPECT_EQ(back.port, 8081);
  EXPECT_EQ(back.instance_id, "host:order-service:8081");
  EXPECT_EQ(back.metadata.at("version"), "1.0");
}

TEST(EurekaCodec, RejectsBadRegistrationsNamingTheField) {
  auto fails = [](const nlohmann::json& body, const std::string& field) {
    try {
      ParseInstanceJson(body, "app");
      ADD_FAILURE() << body;
    } catch (const std::invalid_argument& e) {
      EXPECT_EQ(std::string(e.what()).rfind(field, 0), 0u) << e.what();
    }
  };
  fails(nlohmann::json::object(), "instance");
  fails({{"instance", {{"app", "APP"}}}}, "instance.hostName");
  fails({{"instance", {{"hostName", "h"}, {"app", "OTHER"}}}}, "instance.app");
  fails({{"instance", {{"hostName", "h"}, {"status", "HAPPY"}}}}, "instance.status");
  fails({{"instance", {{"hostName", "h"}, {"port", {{"$", 70000}}}}}}, "instance.port");
}

}  // namespace
}  // namespace op::registry
