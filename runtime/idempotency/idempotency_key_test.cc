// The Idempotency-Key store against a real MariaDB.
#include "runtime/idempotency/idempotency_key.h"

#include <thread>

#include <gtest/gtest.h>

#include "runtime/idempotency/schema.h"
#include "testing/fixtures/database.h"

namespace op::idempotency {
namespace {

using namespace std::chrono_literals;

class IdempotencyKeyTest : public testing::DatabaseTest {
 protected:
  std::unique_ptr<db::ConnectionPool> Pool(const std::string& name) {
    return testing::FreshDatabase(*server_, name, Migrations());
  }
  void SetUp() override {
    pool_ = Pool("idem_" + std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()).substr(0, 40));
    store_ = std::make_unique<KeyStore>(*pool_);
    handler_ = store_->Wrap("POST /api/orders", [this](http::Request& r) {
      ++calls_;
      if (r.body == "\"fail\"") return http::Response::Json(503, {{"error", "upstream"}});
      auto resp = http::Response::Json(202, {{"orderId", "o-" + std::to_string(calls_)}});
      resp.headers.Set("Location", "/api/orders/o-" + std::to_string(calls_));
      return resp;
    });
  }
  http::Request Req(const std::string& key, const std::string& body, const std::string& caller = "") {
    http::Request r;
    if (!caller.empty()) {
      auto p = std::make_shared<auth::Principal>();
      p->subject = caller;
      r.principal = p;
    }
    r.method = "POST";
    r.path = "/api/orders";
    r.body = body;
    if (!key.empty()) r.headers.Set("Idempotency-Key", key);
    return r;
  }
  int Status(http::Request r) {
    try {
      return handler_(r).status;
    } catch (const http::HttpError& e) {
      return e.problem().status;
    }
  }
  std::unique_ptr<db::ConnectionPool> pool_;
  std::unique_ptr<KeyStore> store_;
  http::Handler handler_;
  int calls_ = 0;
};

TEST_F(IdempotencyKeyTest, SameKeySameBodyReplaysTheFirstResponse) {
  auto req = Req("key-1", "{\"a\":1}");
  auto first = handler_(req);
  auto again = Req("key-1", "{\"a\":1}");
  auto second = handler_(again);
  EXPECT_EQ(calls_, 1);
  EXPECT_EQ(second.status, 202);
  EXPECT_EQ(second.body, first.body);
  EXPECT_EQ(second.headers.Get("location"), "/api/orders/o-1");
  EXPECT_EQ(second.headers.Get("idempotent-replayed"), "true");
}

TEST_F(IdempotencyKeyTest, DifferentBodyIs422InFlightIs409) {
  handler_(*std::make_unique<http::Request>(Req("key-2", "{\"a\":1}")));
  EXPECT_EQ(Status(Req("key-2", "{\"a\":2}")), 422);
  auto running = Req("key-3", "{}");
  store_->Start(KeyStore::CallerScope("POST /api/orders", running), "key-3", KeyStore::HashRequest(running));
  EXPECT_EQ(Status(Req("key-3", "{}")), 409);
  EXPECT_EQ(calls_, 1);
}

TEST_F(IdempotencyKeyTest, ServerErrorsAreForgottenAndBadKeysRejected) {
  EXPECT_EQ(Status(Req("key-4", "\"fail\"")), 503);
  EXPECT_EQ(Status(Req("key-4", "\"fail\"")), 503);
  EXPECT_EQ(calls_, 2) << "a 5xx is not replayed: the client may retry";
  EXPECT_EQ(Status(Req(std::string(256, 'k'), "{}")), 400);
  EXPECT_EQ(Status(Req(std::string(255, 'k'), "{}")), 202);
  EXPECT_EQ(Status(Req("", "{}")), 202) << "no key: no idempotency";
  EXPECT_EQ(calls_, 4);
}

TEST_F(IdempotencyKeyTest, KeysAreKeptForTheTtlThenPurged) {
  handler_(*std::make_unique<http::Request>(Req("key-5", "{}")));
  EXPECT_EQ(Scalar(*pool_, "SELECT COUNT(*) AS n FROM idempotency_keys WHERE expires_at >= CURRENT_TIMESTAMP(3) + INTERVAL 23 HOUR"), 1);
  EXPECT_EQ(store_->PurgeExpired(), 0u);
  pool_->Exec("UPDATE idempotency_keys SET expires_at = CURRENT_TIMESTAMP(3) - INTERVAL 1 SECOND");
  EXPECT_EQ(store_->PurgeExpired(), 1u);
}

TEST_F(IdempotencyKeyTest, PurgeRunsInSlicesUntilNothingExpiredIsLeft) {
  for (int i = 0; i < 7; ++i) handler_(*std::make_unique<http::Request>(Req("slice-" + std::to_string(i), "{}")));
  pool_->Exec("UPDATE idempotency_keys SET expires_at = CURRENT_TIMESTAMP(3) - INTERVAL 1 SECOND");
  EXPECT_EQ(store_->PurgeExpired(3), 7u) << "3 + 3 + 1";
  EXPECT_EQ(Scalar(*pool_, "SELECT COUNT(*) AS n FROM idempotency_keys"), 0);
}

TEST_F(IdempotencyKeyTest, ThePurgeScheduleDeletesExpiredKeysWithoutACall) {
  handler_(*std::make_unique<http::Request>(Req("key-6", "{}")));
  handler_(*std::make_unique<http::Request>(Req("key-7", "{}")));
  pool_->Exec("UPDATE idempotency_keys SET expires_at = CURRENT_TIMESTAMP(3) - INTERVAL 1 SECOND WHERE idempotency_key = 'key-6'");
  store_->StartPurging(20ms);
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (Scalar(*pool_, "SELECT COUNT(*) AS n FROM idempotency_keys") != 1 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(10ms);  // polls a condition
  store_->StopPurging();
  EXPECT_EQ(Scalar(*pool_, "SELECT COUNT(*) AS n FROM idempotency_keys WHERE idempotency_key = 'key-7'"), 1);
  EXPECT_EQ(Scalar(*pool_, "SELECT COUNT(*) AS n FROM idempotency_keys"), 1);
}

TEST_F(IdempotencyKeyTest, KeysAreScopedByCallerSoOneClientCannotPoisonAnothers) {
  ASSERT_EQ(Status(Req("shared-key", "{\"a\":1}", "alice")), 202);
  EXPECT_EQ(Status(Req("shared-key", "{\"b\":2}", "mallory")), 202) << "another caller's key is not a mismatch";
  EXPECT_EQ(calls_, 2);
  auto again = Req("shared-key", "{\"a\":1}", "alice");
  auto replay = handler_(again);
  EXPECT_EQ(replay.headers.Get("idempotent-replayed"), "true");
  EXPECT_EQ(replay.body, "{\"orderId\":\"o-1\"}") << "alice gets her own response, not mallory's";
  EXPECT_EQ(Status(Req("shared-key", "{\"a\":1}")), 202) << "anonymous callers have a scope of their own";
  EXPECT_EQ(calls_, 3);
  auto long_caller = Req("k", "{}", std::string(500, 'x'));
  EXPECT_LE(KeyStore::CallerScope("POST /api/orders", long_caller).size(), 200u);
  EXPECT_EQ(Status(long_caller), 202);
}

}  // namespace
}  // namespace op::idempotency
