// The dashboard in a real browser (Debian's chromium driven by Playwright)
// against the whole platform: registry, gateway, the four services, the
// dashboard, MariaDB and the dev broker. Screenshots land in the test's
// undeclared outputs (bazel-testlogs/testing/browser/dashboard_test/test.outputs).
#include <gtest/gtest.h>

#include <cstdlib>

#include "events/topics.h"
#include "runtime/kafka/producer.h"
#include "testing/fixtures/platform.h"

namespace op {
namespace {

using namespace std::chrono_literals;

class DashboardBrowserTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    testing::Platform::Options o;
    o.front_door = true;
    // the callers' breakers open after a few failures and stay open while the page is checked
    const char* breakers =
        "resilience:\n  circuitbreaker:\n    configs:\n      default: {minimum-number-of-calls: 4, "
        "sliding-window-size: 4, wait-duration-in-open-state: 60s}\n";
    o.gateway_yaml = breakers;
    o.extra_yaml = breakers;
    platform_ = new testing::Platform(o);
    platform_->Start();
  }
  static void TearDownTestSuite() { delete platform_; }

  // Runs one phase of dashboard.spec.mjs; its output explains a failure.
  void Phase(const std::string& phase) {
    const char* outputs = std::getenv("TEST_UNDECLARED_OUTPUTS_DIR");
    std::string shots = outputs ? outputs : testing::MakeTempDir("shots");
    std::string script = testing::Runfile("testing/browser/dashboard.spec.mjs");
    testing::Process node({{"/usr/bin/node", script},
                           {{"DASHBOARD_URL", platform_->Url("dashboard")},
                            {"GATEWAY_URL", platform_->Url("api-gateway")},
                            {"ORDER_URL", platform_->Url("order-service")},
                            {"PHASE", phase},
                            {"ADMIN_TOKEN", platform_->Token("admin")},
                            {"SHOTS", shots},
                            {"PLAYWRIGHT", testing::Runfile("testing/browser/node_modules/playwright-core/index.mjs")}},
                           shots + "/node-" + phase + ".log"});
    node.Start();
    auto code = node.Wait(180s);
    EXPECT_EQ(code, std::optional<int>(0)) << node.Output() << "\n--- dashboard log:\n" << platform_->Logs("dashboard");
  }
  static testing::Platform* platform_;
};
testing::Platform* DashboardBrowserTest::platform_ = nullptr;

// The phases depend on each other's state, so they run as one test in order.
TEST_F(DashboardBrowserTest, ShowsThePlatformLive) {
  Phase("viewer");  // signed in as viewer: reads, no actions; signed out: nothing
  if (HasFailure()) return;
  Phase("up");
  if (HasFailure()) return;
  Phase("order");
  if (HasFailure()) return;

  kafka::ProducerOptions po;
  po.bootstrap_servers = platform_->kafka().Bootstrap();
  kafka::Producer producer(po);
  auto rep = producer.SendSync({std::string(events::kOrderEvents), "not-an-order", "\x01\x02 not a protobuf envelope", {}});
  ASSERT_TRUE(rep.ok) << rep.error;
  Phase("dlt");
  if (HasFailure()) return;

  platform_->Kill("inventory-service");
  Phase("down");
}

}  // namespace
}  // namespace op
