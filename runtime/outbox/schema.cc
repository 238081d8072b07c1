#include "runtime/outbox/schema.h"

namespace op::outbox {

std::vector<db::Migration> Migrations() {
  return {
      {10001, "runtime: outbox",
       "CREATE TABLE IF NOT EXISTS outbox ("
       " id BIGINT AUTO_INCREMENT PRIMARY KEY,"
       " topic VARCHAR(249) NOT NULL,"
       " record_key VARCHAR(255) NOT NULL,"
       " payload LONGBLOB NOT NULL,"
       " headers TEXT NOT NULL,"  // JSON array of [name, value]
       " event_id VARCHAR(64) NOT NULL,"
       " event_type VARCHAR(100) NOT NULL,"
       " created_at TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),"
       " published_at TIMESTAMP(3) NULL,"
       " INDEX outbox_unpublished (published_at, id)"
       ") ENGINE=InnoDB"},
  };
}

}  // namespace op::outbox
