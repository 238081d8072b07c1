#include "runtime/logging/log.h"

#include <gtest/gtest.h>

#include <sstream>
#include <thread>

namespace op::log {
namespace {

std::vector<nlohmann::json> Lines(const std::string& text) {
  std::vector<nlohmann::json> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(nlohmann::json::parse(line));
  return out;
}

TEST(Log, OneJsonObjectPerLineWithIdentityAndContext) {
  std::ostringstream out;
  Init("order-service", "host:8081", Level::kInfo, &out);
  {
    LogContext outer({{"correlationId", "c-1"}, {"traceId", "t-1"}});
    LogContext inner({{"orderId", "o-1"}});
    Info("order accepted", {{"totalCents", 4498}});
  }
  Info("after scope");
  Debug("hidden at info level");
  Error("with \"quotes\"\nand newline");
  auto lines = Lines(out.str());
  ASSERT_EQ(lines.size(), 3u) << out.str();
  EXPECT_EQ(lines[0]["service"], "order-service");
  EXPECT_EQ(lines[0]["instance"], "host:8081");
  EXPECT_EQ(lines[0]["level"], "info");
  EXPECT_EQ(lines[0]["msg"], "order accepted");
  EXPECT_EQ(lines[0]["orderId"], "o-1");
  EXPECT_EQ(lines[0]["correlationId"], "c-1");
  EXPECT_EQ(lines[0]["traceId"], "t-1");
  EXPECT_EQ(lines[0]["totalCents"], 4498);
  EXPECT_FALSE(lines[1].contains("orderId"));
  EXPECT_EQ(lines[2]["msg"], "with \"quotes\"\nand newline");
  EXPECT_EQ(lines[2]["level"], "error");
}

TEST(Log, InnerContextWinsAndLeavingRestoresTheOuterOne) {
  std::ostringstream out;
  Init("svc", "i", Level::kInfo, &out);
  struct Request : LogContext::Fields {
    void AddTo(nlohmann::json& line) const override {
      line["requestId"] = "r-1";
      line["orderId"] = "outer";
    }
  } request;
  {
    LogContext outer(request);
    {
      LogContext inner({{"orderId", "inner"}});
      LogContext not_an_object(nlohmann::json("ignored"));
      Info("inside");
      EXPECT_EQ(LogContext::Current()["orderId"], "inner");
    }
    Info("outer again");
  }
  Info("outside");
  EXPECT_TRUE(LogContext::Current().empty());
  auto lines = Lines(out.str());
  ASSERT_EQ(lines.size(), 3u) << out.str();
  EXPECT_EQ(lines[0]["orderId"], "inner");
  EXPECT_EQ(lines[0]["requestId"], "r-1");
  EXPECT_EQ(lines[1]["orderId"], "outer");
  EXPECT_EQ(lines[1]["requestId"], "r-1");
  EXPECT_FALSE(lines[2].contains("orderId"));
  EXPECT_FALSE(lines[2].contains("requestId"));
  Init("svc", "i", Level::kInfo, nullptr);
}

TEST(Log, ContextIsPerThreadAndInvalidUtf8StaysValidJson) {
  std::ostringstream out;
  Init("svc", "i", Level::kDebug, &out);
  LogContext ctx({{"orderId", "main-thread"}});
  std::thread([] { Debug("from worker", {{"bytes", std::string("\xff\xfe")}}); }).join();
  auto lines = Lines(out.str());
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_FALSE(lines[0].contains("orderId"));
  EXPECT_EQ(lines[0]["level"], "debug");
  EXPECT_EQ(ParseLevel("warn"), Level::kWarn);
  EXPECT_EQ(ParseLevel("loud"), std::nullopt);
  Init("svc", "i", Level::kInfo, nullptr);
}

}  // namespace
}  // namespace op::log
