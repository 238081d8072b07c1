#pragma once
// A MariaDB server for runtime/db's tests, one per test binary.
#include <gtest/gtest.h>

#include <chrono>
#include <string>

#include "runtime/db/db.h"
#include "testing/fixtures/mariadb.h"

namespace op::db {

class DbTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    server_ = new testing::MariaDbServer();
    server_->Start();
  }
  static void TearDownTestSuite() { delete server_; }

  DbOptions Options(const std::string& db, int pool = 4) {
    DbOptions o;
    o.port = server_->Port();
    o.user = server_->User();
    o.password = server_->Password();
    o.database = db;
    o.pool_size = pool;
    o.acquire_timeout = std::chrono::milliseconds(500);
    o.create_database = true;
    return o;
  }

  inline static testing::MariaDbServer* server_ = nullptr;
};

}  // namespace op::db
