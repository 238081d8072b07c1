#include "runtime/core/json.h"

#include <gtest/gtest.h>

namespace op {
namespace {

TEST(ParseJsonTest, ReadsValuesAndRefusesDeepNestingWithoutRecursing) {
  auto ok = ParseJson(R"({"a":[1,{"b":"c"}]})");
  ASSERT_TRUE(ok);
  EXPECT_EQ((*ok)["a"][1]["b"], "c");
  std::string error;
  EXPECT_FALSE(ParseJson("{\"a\":", &error));
  EXPECT_FALSE(error.empty());
  // 200,000 levels: a stack overflow when the value is copied or destroyed,
  // had it been built.
  std::string deep = std::string(200'000, '[') + std::string(200'000, ']');
  EXPECT_FALSE(ParseJson(deep, &error));
  EXPECT_NE(error.find("deeper than 64"), std::string::npos);
  std::string at_limit = std::string(64, '[') + std::string(64, ']');
  EXPECT_TRUE(ParseJson(at_limit)) << "64 levels are allowed";
  EXPECT_FALSE(ParseJson(std::string(65, '[') + std::string(65, ']')));
}

}  // namespace
}  // namespace op
