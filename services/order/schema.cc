#include "services/order/schema.h"

namespace op::order {

std::vector<db::Migration> Migrations() {
  return {
    {1, "orders",
     "CREATE TABLE orders ("
     " id VARCHAR(36) PRIMARY KEY, seq BIGINT NOT NULL AUTO_INCREMENT UNIQUE,"
     " customer_id VARCHAR(64) NOT NULL, status VARCHAR(16) NOT NULL, reason VARCHAR(40) NULL,"
     " payment_status VARCHAR(16) NOT NULL DEFAULT 'NONE', inventory_status VARCHAR(16) NOT NULL DEFAULT 'NONE',"
     " total_cents BIGINT NOT NULL, currency CHAR(3) NOT NULL,"
     " contact_email VARCHAR(254) NULL, contact_phone VARCHAR(32) NULL, idempotency_key VARCHAR(255) NULL,"
     " deadline_at TIMESTAMP(3) NOT NULL,"
     " created_at TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),"
     " updated_at TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3) ON UPDATE CURRENT_TIMESTAMP(3),"
     " UNIQUE KEY orders_idempotency (customer_id, idempotency_key),"
     " INDEX orders_pending (status, deadline_at), INDEX orders_customer (customer_id, seq)"
     ") ENGINE=InnoDB"},
    {2, "order items",
     "CREATE TABLE order_items ("
     " order_id VARCHAR(36) NOT NULL, line_no INT NOT NULL, sku VARCHAR(64) NOT NULL,"
     " quantity INT NOT NULL, unit_price_cents BIGINT NOT NULL, PRIMARY KEY (order_id, line_no)"
     ") ENGINE=InnoDB"},
    {3, "order history",
     "CREATE TABLE order_history ("
     " id BIGINT AUTO_INCREMENT PRIMARY KEY, order_id VARCHAR(36) NOT NULL, event VARCHAR(40) NOT NULL,"
     " source VARCHAR(64) NOT NULL, at TIMESTAMP(3) NOT NULL, detail VARCHAR(200) NULL,"
     " INDEX history_order (order_id, id)"
     ") ENGINE=InnoDB"},
  };
}

}  // namespace op::order
