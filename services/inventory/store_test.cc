// inventory-service's SQL against a real MariaDB.
#include "services/inventory/store.h"

#include <gtest/gtest.h>

#include "services/inventory/schema.h"
#include "testing/fixtures/database.h"

namespace op::inventory {
namespace {

using namespace std::chrono_literals;

class InventoryStoreTest : public testing::DatabaseTest {
 protected:
  std::unique_ptr<db::ConnectionPool> Pool(const std::string& name) {
    return testing::FreshDatabase(*server_, name, Migrations());
  }
};

TEST_F(InventoryStoreTest, CatalogPutReadAndFilter) {
  auto db = Pool("i_catalog");
  SeedDemoCatalog(*db);
  auto [book, created] = db->Transact([](db::Session& s) { return PutProduct(s, "SKU-BOOK", {"Book", 100, 7}); });
  EXPECT_FALSE(created) << "seeded already";
  EXPECT_EQ(book["priceCents"], 100);
  auto [pen, pen_created] = db->Transact([](db::Session& s) { return PutProduct(s, "SKU-PEN", {"Pen", 150, 3}); });
  EXPECT_TRUE(pen_created);
  EXPECT_EQ(pen, (nlohmann::json{{"sku", "SKU-PEN"}, {"name", "Pen"}, {"priceCents", 150}, {"available", 3}, {"reserved", 0}, {"sold", 0}}));
  EXPECT_EQ(ListProducts(*db).size(), 6u);
  auto some = ProductsBySku(*db, {std::string("SKU-PEN"), std::string("SKU-NONE"), std::string("SKU-BOOK")});
  ASSERT_EQ(some.size(), 2u);
  EXPECT_EQ(some[0]["sku"], "SKU-BOOK");
  EXPECT_TRUE(ProductsBySku(*db, {}).empty());
  EXPECT_FALSE(FindProduct(*db, "SKU-NONE"));
}

TEST_F(InventoryStoreTest, ABatchReservesSettlesAndWritesBackInFewStatements) {
  auto db = Pool("i_batch");
  SeedDemoCatalog(*db);
  db->Transact([](db::Session& s) {
    StockRows st;
    LockProducts(s, st, {"SKU-MUG", "SKU-NONE"});
    EXPECT_FALSE(st.products.rows.at("SKU-NONE"));
    auto& mug = st.products.Change("SKU-MUG");
    mug.available -= 2;
    mug.reserved += 2;
    st.orders["o-1"] = Reservation{"RESERVED", {{"SKU-MUG", 2}}, false};
    WriteStock(s, st);
  });
  EXPECT_EQ((*FindProduct(*db, "SKU-MUG"))["reserved"], 2);

  db->Transact([](db::Session& s) {
    StockRows st;
    LockReservations(s, st, {"o-1", "o-none"});
    EXPECT_FALSE(st.orders.at("o-none"));
    auto& r = *st.orders.at("o-1");
    EXPECT_TRUE(r.stored);
    EXPECT_EQ(r.lines.at("SKU-MUG"), 2);
    ASSERT_TRUE(st.products.rows.at("SKU-MUG")) << "a reservation's products are locked with it";
    auto& mug = st.products.Change("SKU-MUG");
    mug.reserved -= 2;
    mug.sold += 2;
    r.status = "SOLD";
    r.settled = true;
    WriteStock(s, st);
  });
  auto mug = *FindProduct(*db, "SKU-MUG");
  EXPECT_EQ(mug["available"], 248);
  EXPECT_EQ(mug["reserved"], 0);
  EXPECT_EQ(mug["sold"], 2);
  auto r = db->Query("SELECT status FROM reservations WHERE order_id = 'o-1'");
  ASSERT_TRUE(r.Next());
  EXPECT_EQ(r.String("status"), "SOLD");
}

}  // namespace
}  // namespace op::inventory
