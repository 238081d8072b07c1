#include "runtime/idempotency/schema.h"

namespace op::idempotency {

std::vector<db::Migration> Migrations() {
  return {
      {10002, "runtime: processed_events",
       "CREATE TABLE IF NOT EXISTS processed_events ("
       " consumer_group VARCHAR(200) NOT NULL,"
       " event_id VARCHAR(64) NOT NULL,"
       " topic VARCHAR(249) NULL, kafka_partition INT NULL, kafka_offset BIGINT NULL,"
       " processed_at TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),"
       " PRIMARY KEY (consumer_group, event_id)"
       ") ENGINE=InnoDB"},
      {10003, "runtime: idempotency_keys",
       "CREATE TABLE IF NOT EXISTS idempotency_keys ("
       " scope VARCHAR(200) NOT NULL,"
       " idempotency_key VARCHAR(255) NOT NULL,"
       " request_hash CHAR(64) NOT NULL,"
       " state VARCHAR(16) NOT NULL,"  // IN_FLIGHT, COMPLETED
       " status INT NULL, response_headers TEXT NULL, response_body MEDIUMBLOB NULL,"
       " created_at TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),"
       " expires_at TIMESTAMP(3) NOT NULL,"
       " PRIMARY KEY (scope, idempotency_key), INDEX idempotency_expiry (expires_at)"
       ") ENGINE=InnoDB"},
  };
}

}  // namespace op::idempotency
