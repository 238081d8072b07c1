#include "services/payment/schema.h"

namespace op::payment {

std::vector<db::Migration> Migrations() {
  return {
      {1, "accounts",
       "CREATE TABLE accounts ("
       " customer_id VARCHAR(64) PRIMARY KEY, balance_cents BIGINT NOT NULL,"
       " created_at TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),"
       " updated_at TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3) ON UPDATE CURRENT_TIMESTAMP(3),"
       " CONSTRAINT balance_not_negative CHECK (balance_cents >= 0)"
       ") ENGINE=InnoDB"},
      {2, "payments",
       "CREATE TABLE payments ("
       " order_id VARCHAR(64) PRIMARY KEY, payment_id VARCHAR(36) NOT NULL, customer_id VARCHAR(64) NOT NULL,"
       " amount_cents BIGINT NOT NULL, currency CHAR(3) NOT NULL, status VARCHAR(16) NOT NULL, reason VARCHAR(40) NULL,"
       " created_at TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3), refunded_at TIMESTAMP(3) NULL,"
       " INDEX payments_customer (customer_id)"
       ") ENGINE=InnoDB"},
      {3, "ledger",
       "CREATE TABLE ledger ("
       " id BIGINT AUTO_INCREMENT PRIMARY KEY, customer_id VARCHAR(64) NOT NULL, order_id VARCHAR(64) NULL,"
       " kind VARCHAR(16) NOT NULL, delta_cents BIGINT NOT NULL,"
       " at TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3), INDEX ledger_customer (customer_id)"
       ") ENGINE=InnoDB"},
  };
}

}  // namespace op::payment
