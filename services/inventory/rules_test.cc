#include "services/inventory/rules.h"

#include <gtest/gtest.h>

#include "events/identifiers.h"
#include "runtime/http/types.h"

namespace op::inventory {
namespace {

TEST(PlanReservation, AllOrNothing) {
  std::map<std::string, int64_t> stock = {{"A", 5}, {"B", 1}};
  EXPECT_TRUE(PlanReservation({{"A", 5}, {"B", 1}}, stock).ok);
  auto short_b = PlanReservation({{"A", 1}, {"B", 2}}, stock);
  EXPECT_FALSE(short_b.ok);
  EXPECT_EQ(short_b.reason, "OUT_OF_STOCK");
  EXPECT_EQ(short_b.skus, (std::vector<std::string>{"B"}));
}

TEST(PlanReservation, LinesOfOneSkuCountTogether) {
  auto p = PlanReservation({{"A", 3}, {"A", 3}}, {{"A", 5}});
  EXPECT_FALSE(p.ok);
  EXPECT_EQ(p.reason, "OUT_OF_STOCK");
}

TEST(PlanReservation, UnknownSkuWinsAndListsEveryOne) {
  auto p = PlanReservation({{"A", 99}, {"X", 1}, {"Y", 1}}, {{"A", 5}});
  EXPECT_EQ(p.reason, "UNKNOWN_SKU");
  EXPECT_EQ(p.skus, (std::vector<std::string>{"X", "Y"}));
}

TEST(ProductInput, ValidatesEveryField) {
  try {
    ParseProductInput({{"name", ""}, {"priceCents", 1.5}, {"available", -1}});
    FAIL();
  } catch (const http::HttpError& e) {
    ASSERT_EQ(e.problem().errors.size(), 3u);
    EXPECT_EQ(e.problem().errors[0].first, "name");
    EXPECT_EQ(e.problem().errors[1].first, "priceCents");
    EXPECT_EQ(e.problem().errors[2].first, "available");
  }
  auto ok = ParseProductInput({{"name", "Mug"}, {"priceCents", 899}, {"available", 3}});
  EXPECT_EQ(ok.price_cents, 899);
  EXPECT_EQ(ParseProductInput({{"name", std::string(200, 'x')}, {"priceCents", 899.0}, {"available", 3e0}}).available, 3);
  std::string long_name;
  for (int i = 0; i < 200; ++i) long_name += "\u00e9";  // 200 characters, 400 bytes
  EXPECT_EQ(ParseProductInput({{"name", long_name}, {"priceCents", 1}, {"available", 1}}).name, long_name);
  EXPECT_TRUE(events::ValidSku("SKU-1.a_b"));
  EXPECT_FALSE(events::ValidSku("sku with space"));
  EXPECT_FALSE(events::ValidSku(std::string(65, 'a')));
  EXPECT_FALSE(events::ValidSku("../etc"));
}

}  // namespace
}  // namespace op::inventory
