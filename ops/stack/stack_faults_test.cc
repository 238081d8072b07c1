// The stack keeps its data layer alive as it keeps the services: MariaDB and
// the dev broker killed while orders stream in are restarted, the platform
// recovers by itself, and every accepted order is decided with money and
// stock conserved. With --kafka apache, a local 3-node Apache Kafka cluster
// runs the saga and the dashboard's broker buttons stop and start its nodes.
#include <atomic>
#include <mutex>
#include <thread>

#include <nlohmann/json.hpp>

#include "ops/stack/stack_fixture.h"
#include "testing/fixtures/api_client.h"

namespace op {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;
using testing::WaitUntil;

const std::string kGateway = "http://127.0.0.1:8080";
const std::string kDashboard = "http://127.0.0.1:8090";

std::string SignIn(http::HttpClient& http, const std::string& user) {
  http::ClientRequest r{"POST", kGateway + "/oauth2/token", {}, "grant_type=password&username=" + user + "&password=" + user + "-secret", {}};
  r.headers.Set("Content-Type", "application/x-www-form-urlencoded");
  auto res = http.Send(r);
  return res.status == 200 ? res.Json()["access_token"].get<std::string>() : "";
}

// Alice's orders of one book, placed every 100 ms through the gateway.
class AliceStream {
 public:
  explicit AliceStream(std::string token) : client_(std::move(token)) {
    thread_ = std::thread([this] {
      const json order = {{"customerId", "alice"}, {"items", {{{"sku", "SKU-BOOK"}, {"quantity", 1}}}}};
      while (!stop_) {
        auto r = client_.PostJson(kGateway + "/api/orders", order);
        {
          std::lock_guard lock(mu_);
          if (r.status == 202) ids_.push_back(r.Json()["orderId"]);
          else ++refused_[r.status];
        }
        std::this_thread::sleep_for(100ms);  // the stream's rate, not synchronisation
      }
    });
  }
  ~AliceStream() { Stop(); }
  void Stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }
  size_t Accepted() {
    std::lock_guard lock(mu_);
    return ids_.size();
  }
  bool WaitForMore(size_t n, std::chrono::seconds timeout) {
    size_t target = Accepted() + n;
    return WaitUntil([&] { return Accepted() >= target; }, timeout);
  }
  std::vector<std::string> Ids() {
    std::lock_guard lock(mu_);
    return ids_;
  }

 private:
  testing::ApiClient client_;
  std::mutex mu_;
  std::vector<std::string> ids_;
  std::map<int, int> refused_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

class StackFaultsTest : public StackFixture {
 protected:
  // Balance and book stock now, to compare after a run.
  struct Ledger {
    int64_t balance = 0, available = 0, sold = 0;
  };
  Ledger Read(testing::ApiClient& admin) {
    auto a = admin.Get(kGateway + "/api/accounts/alice").Json();
    auto p = admin.Get(kGateway + "/api/products/SKU-BOOK").Json();
    return {a["balanceCents"].get<int64_t>(), p["available"].get<int64_t>(), p["sold"].get<int64_t>()};
  }
  // Every order decided (the saga timeout, 30 s, settles what a dead broker
  // lost), and exactly the confirmed ones paid for and sold.
  void ExpectConserved(testing::ApiClient& admin, const Ledger& before, const std::vector<std::string>& ids) {
    int64_t confirmed = 0, paid = 0;
    for (const auto& id : ids) {
      json o;
      ASSERT_TRUE(WaitUntil([&] {
        auto r = admin.Get(kGateway + "/api/orders/" + id);
        if (r.status == 200) o = r.Json();
        return r.status == 200 && o["status"] != "PENDING";
      }, 120s)) << id << " " << o.dump();
      if (o["status"] == "CONFIRMED") ++confirmed, paid += o["totalCents"].get<int64_t>();
    }
    EXPECT_GT(confirmed, 0);
    Ledger after;
    EXPECT_TRUE(WaitUntil([&] {
      after = Read(admin);
      return before.balance - after.balance == paid && after.sold - before.sold == confirmed &&
             before.available - after.available == confirmed;
    }, 90s)) << "balance " << before.balance << " -> " << after.balance << " (paid " << paid << "), sold " << before.sold
             << " -> " << after.sold << ", available " << before.available << " -> " << after.available << ", confirmed "
             << confirmed;
  }
};

TEST_F(StackFaultsTest, MariaDbAndTheDevBrokerAreRestartedAndThePlatformRecovers) {
  auto stack = Launch("stack.log");
  ASSERT_TRUE(Up(*stack)) << stack->Output();
  EXPECT_NE(stack->Output().find("in memory"), std::string::npos) << "the banner says the dev broker keeps nothing";
  testing::ApiClient admin(SignIn(http_, "admin"));
  const Ledger before = Read(admin);
  AliceStream stream(SignIn(http_, "alice"));
  ASSERT_TRUE(stream.WaitForMore(5, 60s));

  // MariaDB dies: inventory-service says 503 with Retry-After meanwhile, and
  // the stack starts MariaDB again.
  pid_t mariadbd = ChildWith(stack->Pid(), {"mariadbd", dir_});
  ASSERT_GT(mariadbd, 0);
  ASSERT_EQ(::kill(mariadbd, SIGKILL), 0);
  http::ClientResponse outage;
  EXPECT_TRUE(WaitUntil([&] {
    outage = admin.Get("http://127.0.0.1:8084/api/products/SKU-BOOK");
    return outage.status == 503;
  }, 20s, 20ms)) << outage.status << " " << outage.body;
  EXPECT_TRUE(outage.headers.Get("retry-after").has_value()) << outage.body;
  EXPECT_TRUE(WaitUntil([&] { return stack->Output().find("mariadb exited; restarting") != std::string::npos; }, 30s));
  ASSERT_TRUE(stream.WaitForMore(10, 120s)) << "orders are accepted again after MariaDB's restart";

  // The dev broker dies: restarted, empty and elsewhere; its clients follow.
  pid_t broker = ChildWith(stack->Pid(), {"devbroker", "--info-file"});
  ASSERT_GT(broker, 0);
  ASSERT_EQ(::kill(broker, SIGKILL), 0);
  EXPECT_TRUE(WaitUntil([&] { return stack->Output().find("dev broker restarted at") != std::string::npos; }, 60s));
  ASSERT_TRUE(stream.WaitForMore(10, 180s)) << "orders are accepted again after the broker's restart";
  stream.Stop();
  ExpectConserved(admin, before, stream.Ids());

  stack->Signal(SIGINT);
  auto code = stack->Wait(120s);
  ASSERT_TRUE(code.has_value()) << "the stack did not stop";
  EXPECT_EQ(*code, 0);
}

TEST_F(StackFaultsTest, ApacheKafkaRunsTheSagaAndTheDashboardStopsAndStartsItsBrokers) {
  auto stack = Launch("stack.log", {"--kafka", "apache"});
  ASSERT_TRUE(Up(*stack, 300s)) << stack->Output();
  EXPECT_NE(stack->Output().find("Apache Kafka, 3 nodes"), std::string::npos);
  testing::ApiClient admin(SignIn(http_, "admin"));
  const Ledger before = Read(admin);
  AliceStream stream(SignIn(http_, "alice"));
  ASSERT_TRUE(stream.WaitForMore(5, 60s));

  testing::ApiClient page;  // the dashboard, as its page calls it
  ASSERT_TRUE(WaitUntil([&] { return page.SignInToDashboard(kDashboard, "admin", "admin-secret"); }, 60s));
  auto broker_state = [&](int id) {
    auto snap = page.Get(kDashboard + "/api/snapshot");
    if (snap.status != 200) return std::string();
    const json j = snap.Json();
    for (auto& b : j["kafka"]["brokers"])
      if (b["id"] == id) return b.value("state", std::string("UP"));
    return std::string();
  };
  auto action = [&](int id, const std::string& what) {
    http::ClientRequest r{"POST", kDashboard + "/api/kafka/brokers/" + std::to_string(id) + "/" + what, {}, "{}", {}};
    r.headers.Set("Content-Type", "application/json");
    r.headers.Set("Origin", kDashboard);
    return page.Send(r);
  };
  ASSERT_TRUE(WaitUntil([&] { return broker_state(2) == "UP"; }, 60s));
  auto down = action(2, "down");
  ASSERT_EQ(down.status, 200) << down.body;
  EXPECT_EQ(ChildWith(stack->Pid(), {"kafka.Kafka", "node2.properties"}), 0) << "the node's process is gone";
  EXPECT_TRUE(WaitUntil([&] { return broker_state(2) == "DOWN"; }, 30s));
  ASSERT_TRUE(stream.WaitForMore(10, 90s)) << "orders go on with a broker down";
  ASSERT_EQ(action(2, "up").status, 200);
  EXPECT_TRUE(WaitUntil([&] { return ChildWith(stack->Pid(), {"kafka.Kafka", "node2.properties"}) > 0; }, 30s));
  EXPECT_TRUE(WaitUntil([&] { return broker_state(2) == "UP"; }, 60s));

  // A node that crashes is restarted by the stack, like any program.
  pid_t node3 = ChildWith(stack->Pid(), {"kafka.Kafka", "node3.properties"});
  ASSERT_GT(node3, 0);
  ASSERT_EQ(::kill(node3, SIGKILL), 0);
  EXPECT_TRUE(WaitUntil([&] { return stack->Output().find("kafka-3 exited; restarting") != std::string::npos; }, 30s));
  EXPECT_TRUE(WaitUntil([&] { return ChildWith(stack->Pid(), {"kafka.Kafka", "node3.properties"}) > 0; }, 30s));
  ASSERT_TRUE(stream.WaitForMore(10, 90s));
  stream.Stop();
  ExpectConserved(admin, before, stream.Ids());

  stack->Signal(SIGINT);
  auto code = stack->Wait(180s);
  ASSERT_TRUE(code.has_value()) << "the stack did not stop";
  EXPECT_EQ(*code, 0);
  EXPECT_EQ(ChildWith(stack->Pid(), {"kafka.Kafka"}), 0);
}

}  // namespace
}  // namespace op
