// What a registration may say: each refusal names its field.
#include "registry/validation.h"

#include <gtest/gtest.h>

#include <stdexcept>

namespace op::registry {
namespace {

constexpr int64_t kNow = 1'800'000'000'000;

InstanceInfo Good() {
  InstanceInfo i;
  i.app = "ORDER-SERVICE";
  i.instance_id = "10.0.0.7:order-service:8081";
  i.host_name = "order-service-7.example.internal";
  i.ip_addr = "10.0.0.7";
  i.port = 8081;
  i.vip_address = "order-service";
  i.home_page_url = "http://order-service-7.example.internal:8081/";
  i.status_page_url = "http://10.0.0.7:8081/actuator/info";
  i.health_check_url = "https://10.0.0.7:8443/actuator/health";
  i.metadata = {{"version", "1.2.3"}};
  i.last_dirty_timestamp = kNow;
  return i;
}

std::string Refusal(const InstanceInfo& i) {
  try {
    ValidateInstance(i, kNow);
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "";
}

TEST(Validation, AGoodRegistrationPasses) {
  EXPECT_EQ(Refusal(Good()), "");
  auto v6 = Good();
  v6.ip_addr = "::1";
  v6.status_page_url = "http://[::1]:8081/actuator/info";
  v6.health_check_url = "https://[::1]:8443/actuator/health";
  EXPECT_EQ(Refusal(v6), "") << "an IPv6 literal in brackets";
}

TEST(Validation, HostsAreHostNamesOrAddresses) {
  for (const char* bad : {"", "a host", "evil.com/x", "-lead.example", "x..y", "[::1]:", "h\r\nX-Evil: 1", "ho$t"}) {
    auto i = Good();
    i.host_name = bad;
    EXPECT_EQ(Refusal(i).rfind("instance.hostName:", 0), 0u) << bad;
  }
  EXPECT_TRUE(IsHostName("service-registry"));
  EXPECT_TRUE(IsIpAddress("10.1.2.3"));
  EXPECT_TRUE(IsIpAddress("fe80::1"));
  EXPECT_FALSE(IsIpAddress("10.1.2.300"));
}

TEST(Validation, UrlsAreHttpOnTheInstancesOwnHost) {
  for (const char* bad : {"gopher://order-service-7.example.internal:70/", "file:///etc/passwd",
                          "http://169.254.169.254/latest/meta-data/", "http://evil.example/",
                          "http://user@order-service-7.example.internal/", "http://order-service-7.example.internal/a b"}) {
    auto i = Good();
    i.home_page_url = bad;
    EXPECT_EQ(Refusal(i).rfind("instance.homePageUrl:", 0), 0u) << bad;
  }
  auto upper = Good();
  upper.status_page_url = "http://ORDER-SERVICE-7.example.internal:8081/";
  EXPECT_EQ(Refusal(upper), "") << "host names compare case-insensitively";
}

TEST(Validation, MetadataIsBounded) {
  auto many = Good();
  for (int k = 0; k < 33; ++k) many.metadata["k" + std::to_string(k)] = "v";
  EXPECT_EQ(Refusal(many).rfind("instance.metadata:", 0), 0u);
  auto long_value = Good();
  long_value.metadata["big"] = std::string(257, 'x');
  EXPECT_EQ(Refusal(long_value).rfind("instance.metadata.big:", 0), 0u);
  auto total = Good();
  for (int k = 0; k < 20; ++k) total.metadata["k" + std::to_string(k)] = std::string(250, 'x');
  EXPECT_EQ(Refusal(total).rfind("instance.metadata:", 0), 0u) << "5 KB in all";
  for (const char* bad : {"a key", "1st", "-x", "<x>", "x/>"}) {
    auto key = Good();
    key.metadata[bad] = "v";
    EXPECT_EQ(Refusal(key).rfind("instance.metadata:", 0), 0u) << bad << ": it becomes an XML element name";
  }
  auto ok = Good();
  ok.metadata["management.port"] = "8081";
  ok.metadata["_private"] = "<&>";  // values are escaped in the XML
  EXPECT_EQ(Refusal(ok), "");
}

TEST(Validation, LeasesAndTimestampsAreSane) {
  auto zero = Good();
  zero.renewal_interval_secs = 0;
  EXPECT_EQ(Refusal(zero).rfind("instance.leaseInfo.renewalIntervalInSecs:", 0), 0u);
  auto forever = Good();
  forever.duration_secs = 86400 * 365;
  EXPECT_EQ(Refusal(forever).rfind("instance.leaseInfo.durationInSecs:", 0), 0u);
  auto shorter = Good();
  shorter.renewal_interval_secs = 30;
  shorter.duration_secs = 10;
  EXPECT_EQ(Refusal(shorter).rfind("instance.leaseInfo.durationInSecs:", 0), 0u);
  auto future = Good();
  future.last_dirty_timestamp = kNow + 61'000;
  EXPECT_EQ(Refusal(future), "instance.lastDirtyTimestamp: is in the future");
  future.last_dirty_timestamp = kNow + 59'000;
  EXPECT_EQ(Refusal(future), "") << "within the skew";
}

}  // namespace
}  // namespace op::registry
