// What a sign-in costs (Argon2id), and whether a sign-in flood starves
// anything else, measured beside a baseline in the same run:
//   A  orders placed as fast as CLIENTS threads can (each POST /api/orders
//      with a customer's token, verified by order-service), and token checks
//      at identity-service (GET /api/users/me) in a loop;
//   B  the same while 16 threads post FLOOD wrong passwords a second between
//      them (an offered load, on a schedule) to /oauth2/token for random
//      users from random client addresses (X-Forwarded-For: a distributed
//      attacker, so the per-address throttle does not stop it; the hashing
//      pool's bounded queue does);
// rounds A B A B ...; the ratios are medians of the per-round B/A.
//   bazel run -c opt //testing/bench:signin_bench [-- SECONDS CLIENTS FLOOD_PER_SECOND ROUNDS]
// (The attacker runs on the same host here, so its own CPU counts against
// the platform too: a real one's does not.)
#include <algorithm>
#include <atomic>
#include <chrono>
#include <iostream>
#include <map>
#include <mutex>
#include <random>
#include <thread>
#include <vector>

#include "runtime/logging/log.h"
#include "testing/fixtures/platform.h"

using namespace std::chrono;
using nlohmann::json;

namespace {

double Percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, size_t(p * double(v.size())))];
}

double Median(std::vector<double> v) { return Percentile(std::move(v), 0.5); }

double Ms(steady_clock::duration d) { return duration<double, std::milli>(d).count(); }

struct Round {
  double orders_per_s = 0, order_p99_ms = 0, me_p99_ms = 0, flood_per_s = 0;
  std::map<int, int> flood_statuses;
};

op::http::ClientResponse SignIn(op::http::HttpClient& http, const std::string& identity, const std::string& user,
                                const std::string& password, const std::string& from = "") {
  op::http::ClientRequest r{"POST", identity + "/oauth2/token", {},
                            "grant_type=password&username=" + user + "&password=" + password, {}};
  r.headers.Set("Content-Type", "application/x-www-form-urlencoded");
  if (!from.empty()) r.headers.Set("X-Forwarded-For", from);
  return http.Send(r);
}

Round RunRound(op::testing::Platform& platform, seconds length, int clients, int flood_rate, const std::string& token) {
  constexpr int kFloodThreads = 16;
  const std::string order_url = platform.Url("order-service") + "/api/orders";
  const std::string identity = platform.Url("identity-service");
  std::atomic<bool> stop{false};
  std::mutex mu;
  std::vector<double> order_ms, me_ms;
  Round out;
  int placed = 0, flooded = 0;
  std::vector<std::thread> threads;
  for (int c = 0; c < clients; ++c)
    threads.emplace_back([&] {
      op::testing::ApiClient api(token);
      while (!stop) {
        auto t0 = steady_clock::now();
        auto r = api.PostJson(order_url, {{"customerId", "alice"}, {"items", {{{"sku", "SKU-BOOK"}, {"quantity", 1}}}}});
        double ms = Ms(steady_clock::now() - t0);
        std::lock_guard lock(mu);
        if (r.status == 202) ++placed, order_ms.push_back(ms);
      }
    });
  threads.emplace_back([&] {
    op::testing::ApiClient api(token);
    while (!stop) {
      auto t0 = steady_clock::now();
      auto r = api.Get(identity + "/api/users/me");
      double ms = Ms(steady_clock::now() - t0);
      std::lock_guard lock(mu);
      if (r.status == 200) me_ms.push_back(ms);
    }
  });
  const auto start = steady_clock::now();
  for (int f = 0; flood_rate > 0 && f < kFloodThreads; ++f)
    threads.emplace_back([&, f] {
      op::http::HttpClient http;
      std::mt19937 rng(f);
      const double per_thread = double(flood_rate) / kFloodThreads;
      for (int n = 0; !stop; ++n) {
        // the schedule of the offered load (not synchronisation)
        std::this_thread::sleep_until(start + duration_cast<steady_clock::duration>(duration<double>(n / per_thread)));
        const std::string from = "10." + std::to_string(rng() % 250) + "." + std::to_string(rng() % 250) + "." +
                                 std::to_string(rng() % 250);
        auto r = SignIn(http, identity, "user" + std::to_string(rng() % 100000), "guess-" + std::to_string(rng()), from);
        std::lock_guard lock(mu);
        ++flooded;
        out.flood_statuses[r.status]++;
      }
    });
  std::this_thread::sleep_for(length);  // the round's length: the load runs meanwhile
  stop = true;
  for (auto& t : threads) t.join();
  const double secs = double(length.count());
  out.orders_per_s = placed / secs;
  out.order_p99_ms = Percentile(order_ms, 0.99);
  out.me_p99_ms = Percentile(me_ms, 0.99);
  out.flood_per_s = flooded / secs;
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  const seconds length(argc > 1 ? std::atoi(argv[1]) : 10);
  const int clients = argc > 2 ? std::atoi(argv[2]) : 8;
  const int flood = argc > 3 ? std::atoi(argv[3]) : 200;
  const int rounds = argc > 4 ? std::atoi(argv[4]) : 2;
  op::log::Init("signin-bench", "bench", op::log::Level::kWarn);
  op::testing::Platform::Options po;
  po.smtp = false;
  po.extra_yaml = "server:\n  access-log: false\nlogging:\n  level: error\n";
  op::testing::Platform platform(po);
  platform.Start();
  op::testing::ApiClient admin(platform.Token("admin"));
  admin.PutJson(platform.Url("inventory-service") + "/api/products/SKU-BOOK", {{"name", "b"}, {"priceCents", 1}, {"available", 100000000}});
  admin.PutJson(platform.Url("payment-service") + "/api/accounts/alice", {{"balanceCents", 1'000'000'000'000}});

  // One sign-in, alone: the Argon2id cost a person waits for.
  op::http::HttpClient http;
  std::vector<double> signin_ms;
  for (int i = 0; i < 7; ++i) {
    auto t0 = steady_clock::now();
    auto r = SignIn(http, platform.Url("identity-service"), "bob", "bob-secret", "10.9.9." + std::to_string(i));
    if (r.status == 200) signin_ms.push_back(Ms(steady_clock::now() - t0));
  }
  const std::string token = platform.Token("alice");

  std::vector<Round> base, flooded;
  for (int r = 0; r < rounds; ++r) {
    base.push_back(RunRound(platform, length, clients, 0, token));
    flooded.push_back(RunRound(platform, length, clients, flood, token));
  }
  auto col = [](const std::vector<Round>& v, double Round::*f) {
    std::vector<double> x;
    for (const auto& r : v) x.push_back(r.*f);
    return x;
  };
  std::vector<double> ratio;
  for (int r = 0; r < rounds; ++r) ratio.push_back(flooded[r].orders_per_s / base[r].orders_per_s);
  std::map<int, int> statuses;
  for (const auto& r : flooded)
    for (auto [s, n] : r.flood_statuses) statuses[s] += n;

  std::cout << "\nsign-in (Argon2id, 64 MiB, t=3), alone: median " << Median(signin_ms) << " ms over " << signin_ms.size() << "\n"
            << clients << " order clients, a flood of " << flood << " sign-ins/s offered, " << rounds << " rounds of " << length.count()
            << " s each\n"
            << "orders/s     without flood " << Median(col(base, &Round::orders_per_s)) << ", with flood "
            << Median(col(flooded, &Round::orders_per_s)) << ", ratio (median of rounds) " << Median(ratio) << "\n"
            << "order p99 ms without " << Median(col(base, &Round::order_p99_ms)) << ", with " << Median(col(flooded, &Round::order_p99_ms))
            << "\n"
            << "/api/users/me (token check at identity) p99 ms without " << Median(col(base, &Round::me_p99_ms)) << ", with "
            << Median(col(flooded, &Round::me_p99_ms)) << "\n"
            << "flood attempts/s " << Median(col(flooded, &Round::flood_per_s)) << ", answers:";
  for (auto [s, n] : statuses) std::cout << " " << s << "×" << n;
  std::cout << "\n";
  return 0;
}
