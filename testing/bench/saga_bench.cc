// Orders per second end to end (POST accepted -> CONFIRMED) and the saga's
// latency (createdAt -> updatedAt of the confirmed order, measured by the
// order service), beside MariaDB's own commit rate in the same run: one
// connection doing autocommit single-row inserts on the same server.
//   bazel run -c opt //testing/bench:saga_bench [-- ORDERS CONCURRENCY SKUS open|closed|rate=N]
// SKUS: orders spread over that many products (1 = every order on one hot row).
// MODE open: the clients post as fast as order-service accepts (throughput;
// latency then includes the queue that builds up). MODE closed: each client
// waits until its order is decided before the next (latency at that load).
// MODE rate=N: the clients post N orders per second between them (the saga's
// latency at a sustained offered load; CONCURRENCY must be able to carry it).
// SAGA_BENCH_GENERAL_LOG=FILE writes MariaDB's general log of the run to FILE.
// SAGA_BENCH_WARMUP=SECONDS offers the same rate that long before measuring.
// SAGA_BENCH_TIMELINE=1 prints the latency by the second the orders were
// created in. Each step's time (from the order's history) is always printed.
#include <algorithm>
#include <atomic>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <sstream>
#include <thread>

#include <unistd.h>

#include "runtime/core/time_format.h"
#include "runtime/core/uuid.h"
#include "runtime/db/db.h"
#include "runtime/http/client.h"
#include "runtime/logging/log.h"
#include "testing/fixtures/platform.h"

using namespace std::chrono;
using nlohmann::json;

namespace {
// MariaDB's server-wide counters (SHOW GLOBAL STATUS) that say what a run cost it.
std::map<std::string, double> ServerStatus(op::db::ConnectionPool& pool) {
  std::map<std::string, double> out;
  auto rows = pool.Query(
      "SHOW GLOBAL STATUS WHERE Variable_name IN ('Questions', 'Com_commit', 'Com_stmt_execute', 'Com_select', "
      "'Com_insert', 'Com_update', 'Com_delete', 'Innodb_row_lock_waits', 'Innodb_row_lock_time', "
      "'Innodb_deadlocks', 'Prepared_stmt_count', 'Com_stmt_prepare')");
  while (rows.Next()) out[rows.String("Variable_name")] = std::stod(rows.String("Value"));
  return out;
}
// CPU seconds (user + system) a process has used so far: /proc/PID/stat
// fields 14 and 15, in clock ticks.
double CpuSeconds(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto close = stat.rfind(')');
  if (close == std::string::npos) return 0;
  std::istringstream fields(stat.substr(close + 2));
  std::string f;
  double ticks = 0;
  for (int i = 3; fields >> f && i <= 15; ++i)
    if (i >= 14) ticks += std::stod(f);
  return ticks / double(sysconf(_SC_CLK_TCK));
}
}  // namespace

int main(int argc, char** argv) {
  int orders = argc > 1 ? std::atoi(argv[1]) : 1000;
  int concurrency = argc > 2 ? std::atoi(argv[2]) : 16;
  int skus = argc > 3 ? std::max(1, std::atoi(argv[3])) : 20;
  const std::string mode = argc > 4 ? argv[4] : "open";
  const bool closed = mode == "closed";
  // rate=N: order i is posted at start + i/N s (an offered load, not as fast as accepted)
  const double rate = mode.rfind("rate=", 0) == 0 ? std::max(1.0, std::stod(mode.substr(5))) : 0;
  op::log::Init("saga-bench", "bench", op::log::Level::kWarn);
  op::testing::Platform::Options po;
  po.smtp = false;
  po.saga_timeout = 120s;
  po.extra_yaml = std::string("server:\n  access-log: false\nlogging:\n  level: warn\n") + (getenv("SAGA_BENCH_YAML") ? getenv("SAGA_BENCH_YAML") : "");
  op::testing::Platform platform(po);
  platform.Start();
  op::testing::ApiClient http(platform.Token("admin"));
  auto U = [&](const std::string& s) { return platform.Url(s); };

  // MariaDB's own commit rate, same server, same run.
  op::db::DbOptions dbo;
  dbo.port = platform.db().Port();
  dbo.user = platform.db().User();
  dbo.password = platform.db().Password();
  dbo.database = "bench_baseline";
  dbo.create_database = true;
  op::db::ConnectionPool pool(dbo);
  pool.Exec("CREATE TABLE IF NOT EXISTS t (id BIGINT AUTO_INCREMENT PRIMARY KEY, v VARCHAR(36))");
  auto t0 = steady_clock::now();
  int commits = 0;
  while (steady_clock::now() - t0 < 3s) pool.Exec("INSERT INTO t (v) VALUES (?)", "x"), ++commits;
  double commit_rate = commits / duration<double>(steady_clock::now() - t0).count();
  // and with 8 connections at once (InnoDB group commit shares the fsyncs)
  std::atomic<int> group_commits{0};
  {
    std::vector<std::thread> ts;
    auto g0 = steady_clock::now();
    for (int i = 0; i < 8; ++i)
      ts.emplace_back([&] {
        while (steady_clock::now() - g0 < 3s) pool.Exec("INSERT INTO t (v) VALUES (?)", "x"), ++group_commits;
      });
    for (auto& t : ts) t.join();
  }
  double group_commit_rate = group_commits / 3.0;

  auto sku = [](int i) { return "BENCH-" + std::to_string(i); };
  for (int i = 0; i < skus; ++i)
    http.PutJson(U("inventory-service") + "/api/products/" + sku(i), {{"name", "bench"}, {"priceCents", 100}, {"available", 10000000}});
  std::vector<std::string> customers;
  for (int i = 0; i < 50; ++i) {
    customers.push_back("bench-" + std::to_string(i));
    http.PutJson(U("payment-service") + "/api/accounts/" + customers.back(), {{"balanceCents", 1'000'000'000}});
  }
  // warm-up (connections, caches, consumer assignments)
  for (int i = 0; i < 20; ++i)
    http.PostJson(U("order-service") + "/api/orders", {{"customerId", "bench-0"}, {"items", {{{"sku", sku(i % skus)}, {"quantity", 1}}}}});
  // `count` orders from `concurrency` clients: order i posted at
  // start + i/rate (an offered load; as fast as accepted without a rate).
  // `accepted` gets each 202's id, on the client's thread; returns the
  // POSTs that were not accepted.
  using Accepted = std::function<void(op::testing::ApiClient&, const std::string& id, steady_clock::time_point sent)>;
  auto offer = [&](int count, steady_clock::time_point start, const Accepted& accepted) {
    std::atomic<int> next{0}, failed{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < concurrency; ++t)
      threads.emplace_back([&] {
        op::testing::ApiClient client(platform.Token("admin"));
        for (int i; (i = next++) < count;) {
          if (rate > 0)  // the schedule of the offered load (not synchronisation)
            std::this_thread::sleep_until(start + duration_cast<steady_clock::duration>(duration<double>(i / rate)));
          auto sent = steady_clock::now();
          auto r = client.PostJson(U("order-service") + "/api/orders",
                                   {{"customerId", customers[i % customers.size()]}, {"items", {{{"sku", sku(i % skus)}, {"quantity", 1}}}}});
          if (r.status != 202) {
            ++failed;
            continue;
          }
          accepted(client, r.Json()["orderId"], sent);
        }
      });
    for (auto& t : threads) t.join();
    return failed.load();
  };
  // SAGA_BENCH_WARMUP=SECONDS: that long at the offered rate first, not
  // measured. A JVM broker just started spends its first minutes compiling
  // (JIT): without this a short run measures the compiler.
  if (const char* w = getenv("SAGA_BENCH_WARMUP"); w && rate > 0) {
    const int warm = int(std::atof(w) * rate);
    std::string last_id;
    std::mutex wmu;
    auto wstart = steady_clock::now();
    offer(warm, wstart, [&](op::testing::ApiClient&, const std::string& id, steady_clock::time_point) {
      std::lock_guard lock(wmu);
      last_id = id;
    });
    while (!last_id.empty() && http.Get(U("order-service") + "/api/orders/" + last_id).Json()["status"] == "PENDING")
      std::this_thread::sleep_for(50ms);  // polling interval, not synchronisation
    std::cout << "warm-up: " << warm << " orders in " << duration<double>(steady_clock::now() - wstart).count() << " s\n";
    // InnoDB purges the warm-up's undo history in the background; measuring
    // before it is done would charge that work to the measured orders.
    auto history = [&] {
      auto rows = pool.Query("SELECT `COUNT` AS n FROM information_schema.INNODB_METRICS WHERE NAME = 'trx_rseg_history_len'");
      return rows.Next() ? rows.Int("n") : 0;
    };
    auto purge_start = steady_clock::now();
    while (history() > 1000 && steady_clock::now() - purge_start < 120s) std::this_thread::sleep_for(200ms);  // polling interval
    std::cout << "purge: history length " << history() << " after "
              << duration<double>(steady_clock::now() - purge_start).count() << " s\n";
  }
  std::this_thread::sleep_for(3s);
  const auto status_before = ServerStatus(pool);
  // SAGA_BENCH_GENERAL_LOG=FILE: MariaDB's general log of the measured run
  // (every statement of every connection), to count statements by kind.
  const char* general_log = getenv("SAGA_BENCH_GENERAL_LOG");
  if (general_log) {
    pool.Exec("SET GLOBAL general_log_file = '" + std::string(general_log) + "'");
    pool.Exec("SET GLOBAL general_log = 1");
  }
  // Who spends the CPU while the orders run (the machine's two cores are shared by all).
  std::vector<std::pair<std::string, pid_t>> processes = {{"mariadbd", platform.db().Pid()}, {"saga_bench (clients)", getpid()}};
  for (const auto& p : platform.kafka().Processes()) processes.push_back(p);
  for (const auto& s : op::testing::Platform::Services()) processes.emplace_back(s, platform.Service(s).Pid());
  std::vector<double> cpu_before;
  for (const auto& [name, pid] : processes) cpu_before.push_back(CpuSeconds(pid));

  std::mutex mu;
  std::vector<std::string> ids;
  std::vector<double> client_ms;  // closed mode: POST sent -> decision observed
  auto start = steady_clock::now();
  const int failed = offer(orders, start, [&](op::testing::ApiClient& client, const std::string& id, steady_clock::time_point sent) {
    {
      std::lock_guard lock(mu);
      ids.push_back(id);
    }
    if (!closed) return;
    while (client.Get(U("order-service") + "/api/orders/" + id).Json()["status"] == "PENDING")
      std::this_thread::sleep_for(10ms);  // polling interval of the client, not synchronisation
    std::lock_guard lock(mu);
    client_ms.push_back(duration<double, std::milli>(steady_clock::now() - sent).count());
  });
  auto accepted_at = steady_clock::now();
  // where the backlog is when the last order was accepted
  for (const auto& s : op::testing::Platform::Services()) {
    auto m = http.Get(U(s) + "/actuator/prometheus").body;
    double lag = 0, processed = 0;
    std::istringstream in(m);
    for (std::string line; std::getline(in, line);) {
      if (line.rfind("kafka_consumergroup_lag{", 0) == 0) lag += std::stod(line.substr(line.rfind(' ') + 1));
      if (line.rfind("kafka_consumer_records_total{", 0) == 0 && line.find("processed") != std::string::npos)
        processed += std::stod(line.substr(line.rfind(' ') + 1));
    }
    double hs = 0, hc = 0, cs = 0, cc = 0, backlog = 0, oldest = 0;
    std::istringstream in2(m);
    for (std::string line; std::getline(in2, line);) {
      auto v = [&] { return std::stod(line.substr(line.rfind(' ') + 1)); };
      if (line.rfind("kafka_consumer_handler_seconds_sum", 0) == 0) hs += v();
      if (line.rfind("kafka_consumer_handler_seconds_count", 0) == 0) hc += v();
      if (line.rfind("kafka_consumer_commit_seconds_sum", 0) == 0) cs += v();
      if (line.rfind("kafka_consumer_commit_seconds_count", 0) == 0) cc += v();
      if (line.rfind("outbox_backlog", 0) == 0) backlog += v();
      if (line.rfind("outbox_oldest_unpublished_age_seconds", 0) == 0) oldest = std::max(oldest, v());
    }
    std::cout << "at last accept: " << s << " processed " << processed << ", lag " << lag << ", mean handler "
              << (hc ? hs / hc * 1000 : 0) << " ms, mean offset commit " << (cc ? cs / cc * 1000 : 0)
              << " ms, outbox backlog " << backlog << " (oldest " << oldest * 1000 << " ms)\n";
  }
  // wait until every order is decided
  std::vector<double> latency_ms;
  std::vector<std::pair<system_clock::time_point, double>> timeline;  // created, latency ms
  std::map<std::string, std::vector<double>> stages;  // ms per step of the saga
  size_t confirmed = 0;
  // the window in which the orders were created and decided, by order-service's own clock
  auto first_created = system_clock::time_point::max(), last_decided = system_clock::time_point::min();
  // In acceptance order, waiting at the first undecided one: orders are
  // decided roughly in that order, so this reads each order about once. (It
  // used to re-read every pending order every 100 ms: thousands of reads per
  // second competing with the saga for MariaDB while it drained.)
  size_t next_check = 0, rereads = 0;
  while (next_check < ids.size() && steady_clock::now() - accepted_at < 300s) {
    auto o = http.Get(U("order-service") + "/api/orders/" + ids[next_check]).Json();
    if (o["status"] == "PENDING") {
      ++rereads;
      std::this_thread::sleep_for(50ms);
      continue;
    }
    if (o["status"] == "CONFIRMED") {
      ++confirmed;
      auto c = op::ParseRfc3339(o["createdAt"].get<std::string>()), u = op::ParseRfc3339(o["updatedAt"].get<std::string>());
      if (c && u) {
        latency_ms.push_back(duration<double, std::milli>(*u - *c).count());
        timeline.emplace_back(*c, latency_ms.back());
        // Where the time went: each step's own time (its event's occurred_at).
        std::map<std::string, system_clock::time_point> at;
        for (const auto& h : o["history"])
          if (auto t = op::ParseRfc3339(h["at"].get<std::string>())) at[h["event"].get<std::string>()] = *t;
        if (at.count("PaymentCompleted") && at.count("InventoryReserved")) {
          auto ms = [](auto d) { return duration<double, std::milli>(d).count(); };
          auto both = std::max(at["PaymentCompleted"], at["InventoryReserved"]);
          stages["created -> PaymentCompleted"].push_back(ms(at["PaymentCompleted"] - *c));
          stages["created -> InventoryReserved"].push_back(ms(at["InventoryReserved"] - *c));
          stages["both -> confirmed"].push_back(ms(*u - both));
        }
        first_created = std::min(first_created, *c);
        last_decided = std::max(last_decided, *u);
      }
    }
    ++next_check;
  }
  const bool all_decided = next_check == ids.size();
  // the last decision time, from the orders themselves
  auto done = steady_clock::now();
  // What the run cost MariaDB, per accepted order (everything on the server:
  // the saga, the relays' polls, this program's status polls).
  const auto status_after = ServerStatus(pool);
  if (general_log) pool.Exec("SET GLOBAL general_log = 0");
  std::vector<double> cpu_used;
  for (size_t i = 0; i < processes.size(); ++i) cpu_used.push_back(CpuSeconds(processes[i].second) - cpu_before[i]);
  auto per_order = [&](const std::string& k) { return (status_after.at(k) - status_before.at(k)) / double(std::max<size_t>(1, ids.size())); };
  double wall = duration<double>(done - start).count();
  std::sort(latency_ms.begin(), latency_ms.end());
  auto pct = [&](double p) { return latency_ms.empty() ? 0 : latency_ms[size_t(p * (latency_ms.size() - 1))]; };
  double accept_rate = ids.size() / duration<double>(accepted_at - start).count();
  const double commits_per_order = per_order("Com_commit");
  std::sort(client_ms.begin(), client_ms.end());
  auto cpct = [&](double p) { return client_ms.empty() ? 0 : client_ms[size_t(p * (client_ms.size() - 1))]; };
  if (closed)
    std::cout << "\nclosed loop: decided/s " << ids.size() / duration<double>(accepted_at - start).count()
              << ", client-observed latency ms p50 / p99 / max: " << cpct(0.5) << " / " << cpct(0.99) << " / " << cpct(1.0)
              << "\n";
  std::cout << "\norders: " << orders << ", concurrency " << concurrency << ", skus " << skus
            << (closed ? ", closed loop" : rate > 0 ? ", open loop at " + std::to_string(int(rate)) + "/s offered" : ", open loop")
            << ", failed POSTs " << failed << "\n"
            << "accepted/s (POST 202):             " << accept_rate << "\n"
            << "confirmed: " << confirmed << " of " << ids.size() << " in " << wall << " s (upper bound, polled; "
            << rereads << " re-reads of an undecided order)\n"
            << "first created -> last confirmed:   " << duration<double>(last_decided - first_created).count()
            << " s = " << confirmed / duration<double>(last_decided - first_created).count() << " orders/s confirmed\n"
            << "saga latency ms p50 / p99 / max:   " << pct(0.5) << " / " << pct(0.99) << " / " << pct(1.0) << "\n"
            << "MariaDB commits/s (1 connection):  " << commit_rate << "\n"
            << "MariaDB commits/s (8 connections): " << group_commit_rate << "\n"
            << "per order on MariaDB: " << commits_per_order << " commits, " << per_order("Questions") << " statements ("
            << per_order("Com_stmt_execute") << " prepared executions, " << per_order("Com_select") << " selects, "
            << per_order("Com_insert") << " inserts, " << per_order("Com_update") << " updates, " << per_order("Com_delete")
            << " deletes)\n"
            << "per order, row lock waits: " << per_order("Innodb_row_lock_waits") << " (" << per_order("Innodb_row_lock_time")
            << " ms waited), deadlocks: " << per_order("Innodb_deadlocks") << "\n"
            << "prepared statements open on the server: " << status_before.at("Prepared_stmt_count") << " before, "
            << status_after.at("Prepared_stmt_count") << " after (" << per_order("Com_stmt_prepare") << " prepares per order)\n"
            << "physical bound (commits/s / commits per order): " << commit_rate / commits_per_order << " orders/s\n"
            << "confirmed/s as a fraction of the bound: "
            << confirmed / duration<double>(last_decided - first_created).count() / (commit_rate / commits_per_order) << "\n";
  std::cout << "saga steps ms p50 / p99 (each from its event's time):\n";
  for (auto& [name, v] : stages) {
    std::sort(v.begin(), v.end());
    std::cout << "  " << name << ": " << v[v.size() / 2] << " / " << v[size_t(0.99 * (v.size() - 1))] << "\n";
  }
  // SAGA_BENCH_TIMELINE=1: latency by the second the orders were created in
  // (a tail from a stall shows as one bad second, one from queueing as a rise).
  if (getenv("SAGA_BENCH_TIMELINE") && !timeline.empty()) {
    std::map<int64_t, std::vector<double>> by_second;
    for (const auto& [c, ms] : timeline) by_second[duration_cast<seconds>(c - first_created).count()].push_back(ms);
    std::cout << "latency by second of creation (orders, p50 / p99 / max ms):\n";
    for (auto& [sec, v] : by_second) {
      std::sort(v.begin(), v.end());
      std::cout << "  " << sec << " s: " << v.size() << ", " << v[v.size() / 2] << " / " << v[size_t(0.99 * (v.size() - 1))]
                << " / " << v.back() << "\n";
    }
  }
  double cpu_total = 0;
  for (double c : cpu_used) cpu_total += c;
  std::cout << "CPU per order (ms) while the orders ran, of " << cpu_total / wall << " cores busy on average:\n";
  for (size_t i = 0; i < processes.size(); ++i)
    std::cout << "  " << processes[i].first << ": " << 1000 * cpu_used[i] / double(std::max<size_t>(1, ids.size()))
              << " (" << 100 * cpu_used[i] / std::max(cpu_total, 1e-9) << " %)\n";
  for (const auto& s : op::testing::Platform::Services()) {
    auto m = http.Get(U(s) + "/actuator/prometheus").body;
    // process_resident_memory_bytes{application="..."} VALUE
    if (auto pos = m.find("\nprocess_resident_memory_bytes"); pos != std::string::npos) {
      auto end = m.find('\n', pos + 1);
      auto line = m.substr(pos + 1, end - pos - 1);
      std::cout << "RSS " << s << ": " << std::stod(line.substr(line.rfind(' ') + 1)) / (1 << 20) << " MiB\n";
    }
    // New orders' group commit (order-service): callers per committed group.
    auto sample = [&](const std::string& name) -> std::optional<double> {
      auto at = m.find("\n" + name + "{");
      if (at == std::string::npos) return std::nullopt;
      auto space = m.find(' ', m.find('}', at));
      return std::stod(m.substr(space + 1));
    };
    auto sum = sample("db_group_commit_size_sum"), count = sample("db_group_commit_size_count");
    if (sum && count && *count > 0)
      std::cout << s << " group commit: " << *count << " groups, " << *sum / *count << " orders per commit on average\n";
  }
  return all_decided ? 0 : 1;
}
