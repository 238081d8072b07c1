// The public API against its own contract: the gateway serves the OpenAPI
// document (/v3/api-docs), and Schemathesis, from PyPI, generates requests
// from it (examples, boundary values, random data, and stateful sequences
// along the document's links: create a product, order it, read the order)
// against the real platform behind the real gateway. Any 5xx, any response
// the document does not describe (status, content type, headers, body
// schema), valid data refused or invalid data accepted, or an operation that
// answers without the identity it declares, fails the test.
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>

#include "testing/fixtures/platform.h"

namespace op {
namespace {

using namespace std::chrono_literals;
using testing::ApiClient;
using testing::WaitUntil;

TEST(ApiContract, SchemathesisFindsNothingTheDocumentDoesNotSay) {
  testing::Platform::Options o;
  o.front_door = true;
  o.smtp = false;
  testing::Platform platform(o);
  platform.Start();
  const std::string gw = platform.Url("api-gateway");

  // Something to find: a product, and an account for the customer the examples use.
  ApiClient admin(platform.Token("admin"));
  http::ClientResponse r;
  ASSERT_TRUE(WaitUntil([&] {
    r = admin.PutJson(gw + "/api/products/SKU-1", {{"name", "Mug"}, {"priceCents", 899}, {"available", 1000000}});
    return r.status == 200 || r.status == 201;
  }, 30s)) << r.status << " " << r.body;
  ASSERT_EQ(admin.PutJson(gw + "/api/accounts/alice", {{"balanceCents", 1'000'000'000}}).status / 100, 2);
  // What the configuration turns off for the public paths, checked here: a
  // method they do not take is 405 for a caller with a token, 401 without.
  EXPECT_EQ(admin.Send({"DELETE", gw + "/api/products", {}, {}, {}}).status, 405);
  EXPECT_EQ(admin.Send({"PATCH", gw + "/api/users", {}, {}, {}}).status, 405);
  EXPECT_EQ(ApiClient().Send({"DELETE", gw + "/api/products", {}, {}, {}}).status, 401);
  auto docs = ApiClient().Get(gw + "/v3/api-docs");
  ASSERT_EQ(docs.status, 200) << "served without a token, as springdoc does";
  ASSERT_EQ(docs.Json()["openapi"], "3.1.0");

  const std::string dir = ::testing::TempDir();
  const char* outputs = std::getenv("TEST_UNDECLARED_OUTPUTS_DIR");
  const std::string reports = outputs ? outputs : dir;
  testing::Process st({{testing::Runfile("testing/schemathesis/.venv/bin/schemathesis"),
                        "--config-file", testing::Runfile("testing/schemathesis/schemathesis.toml"),
                        "run", gw + "/v3/api-docs",
                        "--url", gw,
                        "--checks", "all",
                        "--max-examples", "15",
                        "--seed", "20261207",
                        "--workers", "1",
                        "--request-timeout", "15",
                        "--max-failures", "30",
                        "--report", "junit", "--report-dir", reports,
                        "--suppress-health-check", "all",
                        "--no-color"},
                       {{"API_TOKEN", platform.Token("admin")}, {"HOME", dir}},
                       dir + "/schemathesis.log"});
  st.Start();
  auto code = st.Wait(20min);
  std::string out = st.Output();
  ASSERT_TRUE(code.has_value()) << "Schemathesis did not finish in 20 min:\n" << out;
  EXPECT_EQ(*code, 0) << out;
  EXPECT_NE(out.find("passed"), std::string::npos) << out;
  std::cout << out.substr(out.size() > 6000 ? out.size() - 6000 : 0) << std::endl;
}

}  // namespace
}  // namespace op
