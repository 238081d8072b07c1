#include "gateway/api_docs.h"

#include <gtest/gtest.h>

#include <functional>

namespace op::gateway {
namespace {

TEST(YamlToJson, PlainScalarsAreTypedQuotedOnesAreText) {
  auto j = YamlToJson("a: 1\nb: '1'\nc: true\nd: \"true\"\ne: 1.5\nf: ~\ng: text\nh: [1, x]\ni: -7\nj: 1e3\nk: 0x10\n");
  EXPECT_EQ(j["a"], 1);
  EXPECT_EQ(j["b"], "1");
  EXPECT_EQ(j["c"], true);
  EXPECT_EQ(j["d"], "true");
  EXPECT_EQ(j["e"], 1.5);
  EXPECT_TRUE(j["f"].is_null());
  EXPECT_EQ(j["g"], "text");
  EXPECT_EQ(j["h"], nlohmann::json::array({1, "x"}));
  EXPECT_EQ(j["i"], -7);
  EXPECT_EQ(j["j"], 1000.0);
  EXPECT_EQ(j["k"], "0x10") << "YAML 1.2's core schema has no hex without a tag here: kept as text";
}

TEST(ApiDocs, DescribesEveryPublicOperationOfTheContract) {
  const auto& doc = ApiDocs();
  EXPECT_EQ(doc["openapi"], "3.1.0");
  const std::vector<std::pair<std::string, std::string>> operations = {
      {"/api/orders", "post"}, {"/api/orders", "get"}, {"/api/orders/{id}", "get"}, {"/api/orders/{id}/cancel", "post"},
      {"/api/products", "get"}, {"/api/products/{sku}", "get"}, {"/api/products/{sku}", "put"},
      {"/api/accounts/{customerId}", "get"}, {"/api/accounts/{customerId}", "put"},
      {"/api/accounts/{customerId}/deposit", "post"}, {"/api/notifications", "get"},
      {"/api/users", "post"}, {"/api/users/me", "get"}, {"/api/users/{username}", "get"}, {"/oauth2/token", "post"}, {"/oauth2/revoke", "post"},
      {"/.well-known/jwks.json", "get"}, {"/.well-known/openid-configuration", "get"}};
  for (const auto& [path, method] : operations) {
    ASSERT_TRUE(doc["paths"].contains(path)) << path;
    ASSERT_TRUE(doc["paths"][path].contains(method)) << method << " " << path;
    const auto& op = doc["paths"][path][method];
    EXPECT_TRUE(op.contains("operationId")) << method << " " << path;
    EXPECT_FALSE(op["responses"].empty()) << method << " " << path;
    EXPECT_TRUE(op.contains("security")) << method << " " << path << ": public or not, it says so";
  }
}

TEST(ApiDocs, EveryReferenceResolves) {
  const auto& doc = ApiDocs();
  std::vector<std::string> missing;
  size_t refs = 0;
  std::function<void(const nlohmann::json&)> walk = [&](const nlohmann::json& j) {
    if (j.is_object()) {
      if (j.contains("$ref") && j["$ref"].is_string()) {
        ++refs;
        std::string ref = j["$ref"];
        if (ref.rfind("#/", 0) != 0 || !doc.contains(nlohmann::json::json_pointer(ref.substr(1)))) missing.push_back(ref);
      }
      for (const auto& [k, v] : j.items()) walk(v);
    } else if (j.is_array()) {
      for (const auto& v : j) walk(v);
    }
  };
  walk(doc);
  EXPECT_GT(refs, 10u);
  EXPECT_TRUE(missing.empty()) << ::testing::PrintToString(missing);
}

}  // namespace
}  // namespace op::gateway
