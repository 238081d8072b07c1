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

TEST(JsonInteger, TakesIntegralNumbersAsJsonSchemaDoes) {
  auto j = nlohmann::json::parse(R"([5, 5.0, 5e0, -3, 1.5, "5", null, 9007199254740992.0, 1e300, 18446744073709551615])");
  EXPECT_EQ(JsonInteger(j[0]), 5);
  EXPECT_EQ(JsonInteger(j[1]), 5) << "found by Schemathesis: 5.0 is an integer to JSON Schema";
  EXPECT_EQ(JsonInteger(j[2]), 5);
  EXPECT_EQ(JsonInteger(j[3]), -3);
  EXPECT_EQ(JsonInteger(j[4]), std::nullopt);
  EXPECT_EQ(JsonInteger(j[5]), std::nullopt);
  EXPECT_EQ(JsonInteger(j[6]), std::nullopt);
  EXPECT_EQ(JsonInteger(j[7]), int64_t(1) << 53);
  EXPECT_EQ(JsonInteger(j[8]), std::nullopt) << "beyond what a double holds exactly";
  EXPECT_EQ(JsonInteger(j[9]), std::nullopt) << "beyond int64";
}

TEST(Utf8Length, CountsCharactersNotBytes) {
  EXPECT_EQ(Utf8Length(""), 0u);
  EXPECT_EQ(Utf8Length("abc"), 3u);
  EXPECT_EQ(Utf8Length("\u00e9t\u00e9"), 3u);   // 5 bytes
  EXPECT_EQ(Utf8Length("\U0001F600x"), 2u);      // 5 bytes
}

}  // namespace
}  // namespace op
