#include "services/inventory/schema.h"

namespace op::inventory {

std::vector<db::Migration> Migrations() {
  return {
    {1, "products",
     "CREATE TABLE products ("
     " sku VARCHAR(64) PRIMARY KEY, name VARCHAR(200) NOT NULL, price_cents BIGINT NOT NULL,"
     " available BIGINT NOT NULL, reserved BIGINT NOT NULL DEFAULT 0, sold BIGINT NOT NULL DEFAULT 0,"
     " created_at TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),"
     " updated_at TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3) ON UPDATE CURRENT_TIMESTAMP(3),"
     " CONSTRAINT stock_not_negative CHECK (available >= 0 AND reserved >= 0 AND sold >= 0)"
     ") ENGINE=InnoDB"},
    {2, "reservations",
     "CREATE TABLE reservations ("
     " order_id VARCHAR(64) NOT NULL, sku VARCHAR(64) NOT NULL, quantity BIGINT NOT NULL,"
     " status VARCHAR(16) NOT NULL,"
     " created_at TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),"
     " updated_at TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3) ON UPDATE CURRENT_TIMESTAMP(3),"
     " PRIMARY KEY (order_id, sku)"
     ") ENGINE=InnoDB"},
  };
}

}  // namespace op::inventory
