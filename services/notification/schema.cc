#include "services/notification/schema.h"

namespace op::notification {

std::vector<db::Migration> Migrations() {
  return {
      {1, "order contacts",
       "CREATE TABLE order_contacts ("
       " order_id VARCHAR(64) PRIMARY KEY, customer_id VARCHAR(64) NOT NULL,"
       " email VARCHAR(254) NULL, phone VARCHAR(32) NULL"
       ") ENGINE=InnoDB"},
      {2, "notifications",
       "CREATE TABLE notifications ("
       " id BIGINT AUTO_INCREMENT PRIMARY KEY, event_id VARCHAR(64) NOT NULL, order_id VARCHAR(64) NOT NULL,"
       " customer_id VARCHAR(64) NOT NULL, event_type VARCHAR(40) NOT NULL, channel VARCHAR(8) NOT NULL,"
       " recipient VARCHAR(254) NOT NULL, subject VARCHAR(300) NOT NULL, body TEXT NOT NULL,"
       " status VARCHAR(12) NOT NULL DEFAULT 'PENDING', attempts INT NOT NULL DEFAULT 0, last_error VARCHAR(500) NULL,"
       " next_attempt_at TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),"
       " created_at TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3), sent_at TIMESTAMP(3) NULL,"
       " UNIQUE KEY one_per_event_channel (event_id, channel),"
       " INDEX notifications_due (status, next_attempt_at), INDEX notifications_order (order_id),"
       " INDEX notifications_customer (customer_id)"
       ") ENGINE=InnoDB"},
      // Customer-facing events whose order's contact (from its OrderCreated,
      // on another topic) has not arrived yet: kept here, not retried on the
      // partition, and turned into notifications when the contact comes.
      {3, "events awaiting their order's contact",
       "CREATE TABLE awaiting_contact ("
       " event_id VARCHAR(64) PRIMARY KEY, order_id VARCHAR(64) NOT NULL, event_type VARCHAR(40) NOT NULL,"
       " subject VARCHAR(300) NOT NULL, body TEXT NOT NULL,"
       " created_at TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3), INDEX awaiting_order (order_id)"
       ") ENGINE=InnoDB"},
      // Which dispatcher (instance#run) holds a claim: a restarted instance
      // takes back its own dead run's claims at once instead of waiting out
      // their lease.
      {4, "who claimed a notification", "ALTER TABLE notifications ADD COLUMN claimed_by VARCHAR(200) NULL"},
  };
}

}  // namespace op::notification
