// The order saga end to end: the four service binaries, a real MariaDB, the
// dev Kafka broker and a real SMTP server, driven only through their REST APIs
// (and Kafka, to inject duplicates and poison). Every test checks the
// invariants: each order ends CONFIRMED or CANCELLED; money and stock are
// conserved; no effect is applied twice.
#include <gtest/gtest.h>
#include <signal.h>

#include <atomic>
#include <map>
#include <mutex>
#include <thread>

#include "runtime/core/uuid.h"
#include "runtime/http/client.h"
#include "runtime/http/server.h"
#include "runtime/kafka/consumer.h"
#include "runtime/kafka/producer.h"
#include "testing/fixtures/platform.h"

namespace op {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;
using testing::WaitUntil;

class SagaTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    // An SMS gateway stand-in: a real HTTP server recording what it receives.
    auto router = std::make_shared<http::Router>();
    router->Post("/sms", op::http::Access::Public(), [](http::Request& r) {
      std::lock_guard lock(sms_mu_);
      sms_.push_back(json::parse(r.body));
      return http::Response::Json(202, {{"queued", true}});
    });
    http::ServerOptions so;
    so.host = "127.0.0.1";
    so.threads = 1;
    so.access_log = false;
    sms_server_ = new http::HttpServer(so, router);
    sms_server_->Start();
    testing::Platform::Options o;
    o.saga_timeout = 6s;
    o.sms_webhook_url = "http://127.0.0.1:" + std::to_string(sms_server_->Port()) + "/sms";
    platform_ = new testing::Platform(o);
    platform_->Start();
  }
  static void TearDownTestSuite() {
    delete platform_;
    delete sms_server_;
  }

  std::string U(const std::string& s) { return platform_->Url(s); }
  void PutProduct(const std::string& sku, int64_t price, int64_t available) {
    auto r = http_.PutJson(U("inventory-service") + "/api/products/" + sku, {{"name", sku}, {"priceCents", price}, {"available", available}});
    ASSERT_TRUE(r.status == 201 || r.status == 200) << r.body;
  }
  void PutAccount(const std::string& customer, int64_t balance) {
    auto r = http_.PutJson(U("payment-service") + "/api/accounts/" + customer, {{"balanceCents", balance}});
    ASSERT_TRUE(r.status == 201 || r.status == 200) << r.body;
  }
  json Product(const std::string& sku) { return http_.Get(U("inventory-service") + "/api/products/" + sku).Json(); }
  int64_t Balance(const std::string& customer) {
    return http_.Get(U("payment-service") + "/api/accounts/" + customer).Json()["balanceCents"];
  }
  http::ClientResponse Place(const json& body, const std::string& key = "") {
    http::ClientRequest r{"POST", U("order-service") + "/api/orders", {}, body.dump(), {}};
    r.headers.Set("Content-Type", "application/json");
    if (!key.empty()) r.headers.Set("Idempotency-Key", key);
    return http_.Send(r);
  }
  json Order(const std::string& id) { return http_.Get(U("order-service") + "/api/orders/" + id).Json(); }
  json Terminal(const std::string& id, std::chrono::milliseconds timeout = 30s) {
    json o;
    EXPECT_TRUE(WaitUntil([&] {
      o = Order(id);
      return o["status"] != "PENDING";
    }, timeout, 50ms)) << "order " << id << " still PENDING: " << o.dump();
    return o;
  }
  std::string PlaceAndGetId(const std::string& customer, const std::string& sku, int q, json contact = nullptr) {
    json body = {{"customerId", customer}, {"items", {{{"sku", sku}, {"quantity", q}}}}};
    if (!contact.is_null()) body["contact"] = contact;
    auto r = Place(body);
    EXPECT_EQ(r.status, 202) << r.body;
    return r.Json().value("orderId", "");
  }
  // Stock is conserved and nothing stays reserved once every order is decided.
  void ExpectStock(const std::string& sku, int64_t initial, int64_t sold) {
    auto p = Product(sku);
    EXPECT_EQ(p["available"].get<int64_t>() + p["reserved"].get<int64_t>() + p["sold"].get<int64_t>(), initial) << p.dump();
    EXPECT_EQ(p["reserved"], 0) << p.dump();
    EXPECT_EQ(p["sold"], sold) << p.dump();
  }
  // Participants' compensations arrive after the order is decided.
  void WaitForStock(const std::string& sku, int64_t available) {
    EXPECT_TRUE(WaitUntil([&] { return Product(sku)["available"] == available; }, 30s)) << Product(sku).dump();
  }
  void WaitForBalance(const std::string& customer, int64_t balance) {
    EXPECT_TRUE(WaitUntil([&] { return Balance(customer) == balance; }, 30s)) << Balance(customer);
  }
  static std::string Unique(const std::string& prefix) { return prefix + "-" + NewUuid().substr(0, 8); }
  // What lands on `<topic>.DLT` for `key`: the consumer group that
  // dead-lettered it, and its exception message (Spring's DLT headers).
  class DeadLetters {
   public:
    DeadLetters(const std::string& topic, const std::string& key)
        : consumer_(Options(topic), [this, key](const kafka::InRecord& r) {
            if (r.key != key) return;
            std::lock_guard lock(mu_);
            seen_[r.Header(kafka::kDltOriginalGroup).value_or("")] =
                r.Header(kafka::kDltExceptionMessage).value_or("");
          }, nullptr) {
      consumer_.Start();
    }
    std::map<std::string, std::string> Seen() {
      std::lock_guard lock(mu_);
      return seen_;
    }

   private:
    static kafka::ConsumerOptions Options(const std::string& topic) {
      kafka::ConsumerOptions o;
      o.bootstrap_servers = platform_->kafka().Bootstrap();
      o.group_id = Unique("dlt");
      o.topics = {topic + ".DLT"};
      return o;
    }
    std::mutex mu_;
    std::map<std::string, std::string> seen_;  // group -> exception message
    kafka::Consumer consumer_;                 // last: stopped before the rest goes
  };

  static testing::Platform* platform_;
  static http::HttpServer* sms_server_;
  static std::mutex sms_mu_;
  static std::vector<json> sms_;
  testing::ApiClient http_{platform_->Token("admin")};
};
testing::Platform* SagaTest::platform_ = nullptr;
http::HttpServer* SagaTest::sms_server_ = nullptr;
std::mutex SagaTest::sms_mu_;
std::vector<json> SagaTest::sms_;

TEST_F(SagaTest, LinesComeBackInTheOrderPlaced) {
  // Twelve lines, their skus not in sorted order: the stored order lists
  // them as placed (line 10 after line 9, not after line 1).
  std::string customer = Unique("lines");
  PutAccount(customer, 100000);
  json items = json::array();
  std::vector<std::string> skus;
  for (int i = 0; i < 12; ++i) {
    skus.push_back(Unique(std::string(1, char('Z' - (i * 7) % 26)) + "LINE"));
    PutProduct(skus.back(), 100 + i, 5);
    items.push_back({{"sku", skus.back()}, {"quantity", 1 + i % 3}});
  }
  auto r = Place({{"customerId", customer}, {"items", items}});
  ASSERT_EQ(r.status, 202) << r.body;
  auto o = Terminal(r.Json()["orderId"]);
  ASSERT_EQ(o["items"].size(), 12u) << o.dump();
  for (int i = 0; i < 12; ++i) {
    EXPECT_EQ(o["items"][i]["sku"], skus[i]) << "line " << i;
    EXPECT_EQ(o["items"][i]["quantity"], 1 + i % 3);
    EXPECT_EQ(o["items"][i]["unitPriceCents"], 100 + i);
  }
  EXPECT_EQ(o["items"], r.Json()["items"]);
}

TEST_F(SagaTest, HappyPathConfirmsChargesSellsAndNotifies) {
  std::string sku = Unique("BOOK"), customer = Unique("alice");
  PutProduct(sku, 1999, 10);
  PutAccount(customer, 10000);
  auto r = Place({{"customerId", customer}, {"items", {{{"sku", sku}, {"quantity", 2}}}},
                  {"contact", {{"email", customer + "@example.com"}, {"phone", "+4915112345678"}}}});
  ASSERT_EQ(r.status, 202) << r.body;
  auto placed = r.Json();
  EXPECT_EQ(placed["status"], "PENDING");
  EXPECT_EQ(placed["totalCents"], 3998);
  EXPECT_EQ(placed["items"][0]["unitPriceCents"], 1999);
  EXPECT_EQ(*r.headers.Get("location"), "/api/orders/" + placed["orderId"].get<std::string>());

  auto o = Terminal(placed["orderId"]);
  EXPECT_EQ(o["status"], "CONFIRMED");
  EXPECT_TRUE(o["reason"].is_null());
  // The 202's body is built from what was written, not read back: it must be
  // what the stored order says.
  for (auto key : {"orderId", "customerId", "totalCents", "currency", "createdAt", "items"})
    EXPECT_EQ(placed[key], o[key]) << key;
  EXPECT_EQ(placed["updatedAt"], placed["createdAt"]);
  ASSERT_EQ(placed["history"].size(), 1u);
  EXPECT_EQ(placed["history"][0], o["history"][0]);
  std::set<std::string> steps;
  for (auto& h : o["history"]) steps.insert(h["event"].get<std::string>() + "@" + h["source"].get<std::string>());
  for (auto s : {"OrderCreated@order-service", "PaymentCompleted@payment-service",
                 "InventoryReserved@inventory-service", "OrderConfirmed@order-service"})
    EXPECT_TRUE(steps.count(s)) << s << " missing from " << o["history"].dump();
  EXPECT_EQ(o["history"].front()["event"], "OrderCreated") << "steps in the order they happened";
  EXPECT_EQ(o["history"].back()["event"], "OrderConfirmed") << o["history"].dump();
  EXPECT_EQ(Balance(customer), 10000 - 3998);
  EXPECT_TRUE(WaitUntil([&] { return Product(sku)["sold"] == 2; }, 30s));
  ExpectStock(sku, 10, 2);

  // notifications: PaymentCompleted and OrderConfirmed, each by email and SMS
  std::string url = U("notification-service") + "/api/notifications?orderId=" + o["orderId"].get<std::string>();
  ASSERT_TRUE(WaitUntil([&] {
    auto items = http_.Get(url).Json()["items"];
    return items.size() == 4 && std::all_of(items.begin(), items.end(), [](auto& n) { return n["status"] == "SENT"; });
  }, 30s)) << http_.Get(url).body;
  std::set<std::string> kinds;
  const json sent = http_.Get(url).Json();
  for (auto& n : sent["items"]) kinds.insert(n["eventType"].get<std::string>() + "/" + n["channel"].get<std::string>());
  EXPECT_EQ(kinds, (std::set<std::string>{"OrderConfirmed/email", "OrderConfirmed/sms", "PaymentCompleted/email",
                                          "PaymentCompleted/sms"}));
  EXPECT_NE(platform_->MailText().find("Subject: Order " + o["orderId"].get<std::string>() + " confirmed"), std::string::npos);
  std::lock_guard lock(sms_mu_);
  EXPECT_TRUE(std::any_of(sms_.begin(), sms_.end(), [&](auto& m) { return m["orderId"] == o["orderId"]; }));
}

TEST_F(SagaTest, InsufficientFundsCancelsAndReleasesStock) {
  std::string sku = Unique("MUG"), customer = Unique("bob");
  PutProduct(sku, 5000, 5);
  PutAccount(customer, 4999);
  auto o = Terminal(PlaceAndGetId(customer, sku, 1));
  EXPECT_EQ(o["status"], "CANCELLED");
  EXPECT_EQ(o["reason"], "INSUFFICIENT_FUNDS");
  WaitForStock(sku, 5);
  ExpectStock(sku, 5, 0);
  EXPECT_EQ(Balance(customer), 4999);
}

TEST_F(SagaTest, OutOfStockCancelsAndRefunds) {
  std::string sku = Unique("LAPTOP"), customer = Unique("carol");
  PutProduct(sku, 1000, 1);
  PutAccount(customer, 100000);
  auto o = Terminal(PlaceAndGetId(customer, sku, 2));
  EXPECT_EQ(o["status"], "CANCELLED");
  EXPECT_EQ(o["reason"], "OUT_OF_STOCK");
  WaitForBalance(customer, 100000);  // charged, then refunded on OrderCancelled
  ExpectStock(sku, 1, 0);
  auto history = Order(o["orderId"])["history"].dump();
  EXPECT_TRUE(WaitUntil([&] { return Order(o["orderId"])["history"].dump().find("PaymentRefunded") != std::string::npos; }, 30s))
      << history;
}

TEST_F(SagaTest, AShortLineRejectsTheWholeOrderAndTheOtherLinesStockStays) {
  // Lines are taken in sku order: the first is taken, the second falls short,
  // the first goes back. Then both are there and the order of both confirms.
  std::string first = "AA-" + Unique("cable"), second = "ZZ-" + Unique("lamp"), customer = Unique("erin");
  PutProduct(first, 100, 10);
  PutProduct(second, 500, 1);
  PutAccount(customer, 100000);
  json two_lines = {{"customerId", customer}, {"items", {{{"sku", first}, {"quantity", 3}}, {{"sku", second}, {"quantity", 2}}}}};
  auto r = Place(two_lines);
  ASSERT_EQ(r.status, 202) << r.body;
  auto rejected = Terminal(r.Json()["orderId"]);
  EXPECT_EQ(rejected["status"], "CANCELLED");
  EXPECT_EQ(rejected["reason"], "OUT_OF_STOCK");
  WaitForBalance(customer, 100000);
  ExpectStock(first, 10, 0);
  EXPECT_EQ(Product(first)["available"], 10) << "the line that fitted was put back";
  ExpectStock(second, 1, 0);

  two_lines["items"][1]["quantity"] = 1;
  r = Place(two_lines);
  ASSERT_EQ(r.status, 202) << r.body;
  auto confirmed = Terminal(r.Json()["orderId"]);
  EXPECT_EQ(confirmed["status"], "CONFIRMED") << confirmed.dump();
  EXPECT_TRUE(WaitUntil([&] { return Product(first)["sold"] == 3 && Product(second)["sold"] == 1; }, 30s))
      << Product(first).dump() << Product(second).dump();
  ExpectStock(first, 10, 3);
  ExpectStock(second, 1, 1);
  WaitForBalance(customer, 100000 - 3 * 100 - 500);
}

TEST_F(SagaTest, UnknownCustomerAndBothFailuresAtOnce) {
  std::string sku = Unique("KEY");
  PutProduct(sku, 100, 1);
  auto unknown = Terminal(PlaceAndGetId(Unique("nobody"), sku, 1));
  EXPECT_EQ(unknown["reason"], "UNKNOWN_CUSTOMER");
  WaitForStock(sku, 1);

  std::string poor = Unique("poor");
  PutAccount(poor, 0);
  auto both = Terminal(PlaceAndGetId(poor, sku, 5));  // no funds and no stock
  EXPECT_EQ(both["status"], "CANCELLED");
  EXPECT_TRUE(both["reason"] == "INSUFFICIENT_FUNDS" || both["reason"] == "OUT_OF_STOCK") << both.dump();
  ExpectStock(sku, 1, 0);
  EXPECT_EQ(Balance(poor), 0);
}

TEST_F(SagaTest, BadRequestsAreProblemsNamingTheField) {
  std::string sku = Unique("REAL");
  PutProduct(sku, 100, 1);
  auto unknown = Place({{"customerId", "x"}, {"items", {{{"sku", sku}, {"quantity", 1}}, {{"sku", "NO-SUCH-SKU"}, {"quantity", 1}}}}});
  EXPECT_EQ(unknown.status, 422);
  EXPECT_EQ(*unknown.headers.Get("content-type"), "application/problem+json");
  EXPECT_EQ(unknown.Json()["errors"][0]["field"], "items[1].sku");
  auto invalid = Place({{"customerId", ""}, {"items", {{{"sku", sku}, {"quantity", 0}}}}});
  EXPECT_EQ(invalid.status, 400);
  EXPECT_EQ(invalid.Json()["errors"].size(), 2u);
  auto malformed = http_.Send({"POST", U("order-service") + "/api/orders", {}, "{\"customerId\":", {}});
  EXPECT_EQ(malformed.status, 400);
  auto huge = http_.Send({"POST", U("order-service") + "/api/orders", {}, std::string(1 << 20 | 1, ' '), {}});
  EXPECT_EQ(huge.status, 413);
  EXPECT_EQ(http_.Get(U("order-service") + "/api/orders/not-a-uuid").status, 404);
  EXPECT_EQ(http_.Get(U("order-service") + "/api/orders/" + NewUuid()).status, 404);
  EXPECT_EQ(http_.Get(U("order-service") + "/api/orders?status=DONE").status, 400);
  EXPECT_EQ(http_.Get(U("inventory-service") + "/api/products/..%2Fetc").status, 404);
  EXPECT_EQ(http_.PutJson(U("payment-service") + "/api/accounts/x", {{"balanceCents", 1.5}}).status, 400);
}

TEST_F(SagaTest, CustomerCancelAfterConfirmationRefundsAndReleases) {
  std::string sku = Unique("TSHIRT"), customer = Unique("dave");
  PutProduct(sku, 1500, 3);
  PutAccount(customer, 5000);
  auto id = PlaceAndGetId(customer, sku, 2, {{"email", "dave@example.com"}});
  ASSERT_EQ(Terminal(id)["status"], "CONFIRMED");
  ASSERT_TRUE(WaitUntil([&] { return Product(sku)["sold"] == 2; }, 30s));
  auto cancel = http_.Send({"POST", U("order-service") + "/api/orders/" + id + "/cancel", {}, "", {}});
  EXPECT_EQ(cancel.status, 202) << cancel.body;
  EXPECT_EQ(cancel.Json()["status"], "CANCELLED");
  EXPECT_EQ(cancel.Json()["reason"], "CUSTOMER_CANCELLED");
  WaitForBalance(customer, 5000);
  WaitForStock(sku, 3);
  ExpectStock(sku, 3, 0);
  auto again = http_.Send({"POST", U("order-service") + "/api/orders/" + id + "/cancel", {}, "", {}});
  EXPECT_EQ(again.status, 409);
  EXPECT_EQ(http_.Send({"POST", U("order-service") + "/api/orders/" + NewUuid() + "/cancel", {}, "", {}}).status, 404);
}

TEST_F(SagaTest, SagaTimeoutCancelsAndLateParticipantsCompensate) {
  std::string sku = Unique("SLOW"), customer = Unique("erin");
  PutProduct(sku, 700, 4);
  PutAccount(customer, 1000);
  platform_->Service("payment-service").Signal(SIGSTOP);  // payment never answers in time
  auto id = PlaceAndGetId(customer, sku, 1);
  auto o = Terminal(id, 30s);
  platform_->Service("payment-service").Signal(SIGCONT);
  EXPECT_EQ(o["status"], "CANCELLED");
  EXPECT_EQ(o["reason"], "TIMEOUT");
  WaitForStock(sku, 4);
  ExpectStock(sku, 4, 0);
  // payment-service wakes up: charges on OrderCreated, then refunds on OrderCancelled
  EXPECT_TRUE(WaitUntil([&] { return Order(id)["history"].dump().find("PaymentRefunded") != std::string::npos; }, 30s));
  EXPECT_EQ(Balance(customer), 1000);
}

TEST_F(SagaTest, IdempotencyKeyReplaysAndRejectsADifferentBody) {
  std::string sku = Unique("IDEM"), customer = Unique("fay");
  PutProduct(sku, 100, 10);
  PutAccount(customer, 10000);
  json body = {{"customerId", customer}, {"items", {{{"sku", sku}, {"quantity", 1}}}}};
  auto first = Place(body, "key-" + customer);
  auto second = Place(body, "key-" + customer);
  ASSERT_EQ(first.status, 202);
  EXPECT_EQ(second.status, 202);
  EXPECT_EQ(second.Json()["orderId"], first.Json()["orderId"]);
  body["items"][0]["quantity"] = 2;
  EXPECT_EQ(Place(body, "key-" + customer).status, 422);
  Terminal(first.Json()["orderId"]);
  auto list = http_.Get(U("order-service") + "/api/orders?customerId=" + customer).Json();
  EXPECT_EQ(list["items"].size(), 1u) << "one order for one key";
}

TEST_F(SagaTest, ListPaginatesWithACursor) {
  std::string sku = Unique("PAGE"), customer = Unique("gus");
  PutProduct(sku, 1, 100);
  PutAccount(customer, 1000);
  std::vector<std::string> ids;
  for (int i = 0; i < 5; ++i) ids.push_back(PlaceAndGetId(customer, sku, 1));
  std::vector<std::string> seen;
  std::string cursor;
  for (int page = 0; page < 5; ++page) {
    auto r = http_.Get(U("order-service") + "/api/orders?customerId=" + customer + "&limit=2" + (cursor.empty() ? "" : "&cursor=" + cursor)).Json();
    for (auto& o : r["items"]) seen.push_back(o["orderId"]);
    if (r["nextCursor"].is_null()) break;
    cursor = r["nextCursor"];
  }
  std::reverse(ids.begin(), ids.end());  // newest first
  EXPECT_EQ(seen, ids);
  for (auto& id : ids) Terminal(id);
}

// Re-publishes every record the saga produced so far: each is delivered a
// second time to every consumer, and nothing changes.
TEST_F(SagaTest, ZDuplicateDeliveryOfEveryEventChangesNothing) {
  // Three orders that between them produce all nine event types:
  //   a: confirmed, then cancelled by the customer (refund + release)
  //   b: charged, out of stock (refund)
  //   c: reserved, payment declined (release)
  std::string sku = Unique("DUP"), customer = Unique("hal"), poor = Unique("poor");
  PutProduct(sku, 250, 6);
  PutAccount(customer, 3000);
  PutAccount(poor, 0);
  auto a = PlaceAndGetId(customer, sku, 2, {{"email", "hal@example.com"}});
  ASSERT_EQ(Terminal(a)["status"], "CONFIRMED");
  ASSERT_TRUE(WaitUntil([&] { return Product(sku)["sold"] == 2; }, 30s));
  ASSERT_EQ(http_.Send({"POST", U("order-service") + "/api/orders/" + a + "/cancel", {}, "", {}}).status, 202);
  auto b = PlaceAndGetId(customer, sku, 10);
  ASSERT_EQ(Terminal(b)["reason"], "OUT_OF_STOCK");
  auto c = PlaceAndGetId(poor, sku, 1);
  ASSERT_EQ(Terminal(c)["reason"], "INSUFFICIENT_FUNDS");
  WaitForStock(sku, 6);
  WaitForBalance(customer, 3000);
  std::string notes = U("notification-service") + "/api/notifications?customerId=" + customer;
  ASSERT_TRUE(WaitUntil([&] {
    auto items = http_.Get(notes).Json()["items"];
    return items.size() == 7 && std::all_of(items.begin(), items.end(), [](auto& n) { return n["status"] == "SENT"; });
  }, 30s)) << http_.Get(notes).body;
  auto notes_before = http_.Get(notes).Json()["items"].size();
  size_t mails_before = platform_->MailCount();

  kafka::ProducerOptions po;
  po.bootstrap_servers = platform_->kafka().Bootstrap();
  kafka::Producer producer(po);
  std::mutex mu;
  std::vector<kafka::InRecord> all;
  std::set<std::string> types;
  kafka::ConsumerOptions co;
  co.bootstrap_servers = platform_->kafka().Bootstrap();
  co.group_id = Unique("replayer");
  co.topics = {"order.events", "payment.events", "inventory.events"};
  kafka::Consumer reader(co, [&](const kafka::InRecord& r) {
    std::lock_guard lock(mu);
    if (r.key == a || r.key == b || r.key == c) {
      all.push_back(r);
      types.insert(r.Header("event_type").value_or("?"));
    }
  }, nullptr);
  reader.Start();
  ASSERT_TRUE(WaitUntil([&] {
    std::lock_guard lock(mu);
    return types.size() == 9 && all.size() >= 16;
  }, 30s)) << all.size();
  reader.Stop();
  size_t replayed = 0;
  {
    std::lock_guard lock(mu);
    for (auto& r : all) {
      ASSERT_TRUE(producer.SendSync({r.topic, r.key, r.value, r.headers}).ok);
      ++replayed;
    }
  }
  // A marker order placed after the replay: once it is decided, sold and
  // notified, every consumer has passed the duplicates on its partitions.
  auto marker = PlaceAndGetId(customer, sku, 1, {{"email", "hal@example.com"}});
  ASSERT_EQ(Terminal(marker)["status"], "CONFIRMED");
  ASSERT_TRUE(WaitUntil([&] { return Product(sku)["sold"] == 1; }, 30s));
  ASSERT_TRUE(WaitUntil([&] { return http_.Get(notes).Json()["items"].size() >= notes_before + 2; }, 30s));
  std::this_thread::sleep_for(2s);  // bounded window for a late, wrong effect to show
  EXPECT_GE(replayed, 16u);
  EXPECT_EQ(Order(a)["status"], "CANCELLED");
  EXPECT_EQ(Order(b)["status"], "CANCELLED");
  EXPECT_EQ(Order(c)["status"], "CANCELLED");
  EXPECT_EQ(Balance(customer), 3000 - 250);
  EXPECT_EQ(Balance(poor), 0);
  ExpectStock(sku, 6, 1);
  EXPECT_EQ(http_.Get(notes).Json()["items"].size(), notes_before + 2) << "only the marker's notifications are new";
  EXPECT_TRUE(WaitUntil([&] { return platform_->MailCount() == mails_before + 2; }, 10s));
  EXPECT_EQ(platform_->MailCount(), mails_before + 2);
}

TEST_F(SagaTest, ACancellationHoldingAProductRemovedByHandGoesToTheDeadLetterTopic) {
  std::string sku = Unique("GONE"), customer = Unique("gina");
  PutProduct(sku, 100, 5);
  PutAccount(customer, 1000);
  auto id = PlaceAndGetId(customer, sku, 1);
  ASSERT_EQ(Terminal(id)["status"], "CONFIRMED");
  ASSERT_TRUE(WaitUntil([&] { return Product(sku)["sold"] == 1; }, 30s));
  platform_->db().Sql("DELETE FROM inventory_db.products WHERE sku = '" + sku + "'");  // by hand, behind the API
  DeadLetters dlt("order.events", id);
  EXPECT_EQ(http_.Send({"POST", U("order-service") + "/api/orders/" + id + "/cancel", {}, "", {}}).status, 202);
  ASSERT_TRUE(WaitUntil([&] { return dlt.Seen().count("inventory-service") > 0; }, 30s))
      << "inventory cannot release stock of a product that is gone: its OrderCancelled is dead-lettered";
  auto errors = dlt.Seen();
  EXPECT_NE(errors["inventory-service"].find(sku), std::string::npos) << errors["inventory-service"];
  EXPECT_EQ(errors.count("payment-service"), 0u);
  WaitForBalance(customer, 1000);  // the rest of the saga went on: the charge refunded
}

TEST_F(SagaTest, ARefundToAnAccountRemovedByHandGoesToTheDeadLetterTopic) {
  std::string sku = Unique("KEPT"), customer = Unique("gone");
  PutProduct(sku, 100, 5);
  PutAccount(customer, 1000);
  auto id = PlaceAndGetId(customer, sku, 1);
  ASSERT_EQ(Terminal(id)["status"], "CONFIRMED");
  ASSERT_TRUE(WaitUntil([&] { return Product(sku)["sold"] == 1; }, 30s));
  platform_->db().Sql("DELETE FROM payments_db.accounts WHERE customer_id = '" + customer + "'");  // behind the API
  DeadLetters dlt("order.events", id);
  EXPECT_EQ(http_.Send({"POST", U("order-service") + "/api/orders/" + id + "/cancel", {}, "", {}}).status, 202);
  ASSERT_TRUE(WaitUntil([&] { return dlt.Seen().count("payment-service") > 0; }, 30s))
      << "a refund has no account to go to: its OrderCancelled is dead-lettered, not dropped";
  auto errors = dlt.Seen();
  EXPECT_NE(errors["payment-service"].find(customer), std::string::npos) << errors["payment-service"];
  EXPECT_EQ(errors.count("inventory-service"), 0u);
  ASSERT_TRUE(WaitUntil([&] { return Product(sku)["available"] == 5; }, 30s)) << "the rest of the saga went on: stock released";
  EXPECT_EQ(platform_->db().Sql("SELECT status FROM payments_db.payments WHERE order_id = '" + id + "'"), "CAPTURED\n")
      << "the refund rolled back with its event";
}

TEST_F(SagaTest, PoisonRecordGoesToItsDeadLetterTopicAndTheSagaGoesOn) {
  kafka::ProducerOptions po;
  po.bootstrap_servers = platform_->kafka().Bootstrap();
  kafka::Producer producer(po);
  std::string key = NewUuid();
  ASSERT_TRUE(producer.SendSync({"payment.events", key, "garbage that is not protobuf", {}}).ok);
  std::string sku = Unique("AFTER"), customer = Unique("ivy");
  PutProduct(sku, 10, 1);
  PutAccount(customer, 10);
  EXPECT_EQ(Terminal(PlaceAndGetId(customer, sku, 1))["status"], "CONFIRMED");
  DeadLetters dlt("payment.events", key);
  // both consumers of payment.events dead-letter it: order-service and notification-service
  ASSERT_TRUE(WaitUntil([&] { return dlt.Seen().size() == 2; }, 30s));
  auto seen = dlt.Seen();
  EXPECT_TRUE(seen.count("order-service") && seen.count("notification-service"));
}

}  // namespace
}  // namespace op
