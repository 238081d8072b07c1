// The dev Kafka broker: librdkafka's mock cluster (real Kafka wire protocol on
// loopback TCP) with the platform's topics, plus an admin HTTP API for fault
// injection. All use of the experimental mock API stays in this program.
//
//   devbroker [--brokers 3] [--partitions 6] [--replication 3]
//             [--admin-port 0] [--info-file PATH] [--topic NAME]...
//
// Prints one JSON line {"bootstrap": "...", "admin": "http://..."} when ready
// (and writes it to --info-file), then serves until SIGTERM/SIGINT.
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <signal.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "events/topics.h"
#include "runtime/http/server.h"
#include "runtime/logging/log.h"

namespace {

struct Args {
  int brokers = 3, partitions = 6, replication = 3;
  int admin_port = 0;
  std::string info_file;
  std::vector<std::string> topics;
};

[[noreturn]] void Usage(const std::string& why) {
  std::cerr << "devbroker: " << why
            << "\nusage: devbroker [--brokers N] [--partitions N] [--replication N] "
               "[--admin-port P] [--info-file PATH] [--topic NAME]...\n";
  std::exit(2);
}

int IntArg(const std::string& name, const char* v, int lo, int hi) {
  char* end = nullptr;
  long n = std::strtol(v, &end, 10);
  if (!*v || *end || n < lo || n > hi)
    Usage(name + " must be an integer in [" + std::to_string(lo) + ", " + std::to_string(hi) + "], got '" + v + "'");
  return int(n);
}

Args Parse(int argc, char** argv) {
  Args a;
  for (int i = 1; i < argc; ++i) {
    std::string k = argv[i];
    if (i + 1 >= argc) Usage("missing value for " + k);
    const char* v = argv[++i];
    if (k == "--brokers") a.brokers = IntArg(k, v, 1, 9);
    else if (k == "--partitions") a.partitions = IntArg(k, v, 1, 128);
    else if (k == "--replication") a.replication = IntArg(k, v, 1, 9);
    else if (k == "--admin-port") a.admin_port = IntArg(k, v, 0, 65535);
    else if (k == "--info-file") a.info_file = v;
    else if (k == "--topic") a.topics.push_back(v);
    else Usage("unknown option " + k);
  }
  if (a.replication > a.brokers) Usage("--replication cannot exceed --brokers");
  if (a.topics.empty()) {
    for (auto t : op::events::kAllTopics) {
      a.topics.emplace_back(t);
      a.topics.push_back(op::events::DeadLetterTopic(t));
    }
  }
  return a;
}

volatile sig_atomic_t g_stop = 0;
void OnSignal(int) { g_stop = 1; }

using op::http::HttpError;
using op::http::Request;
using op::http::Response;

int BrokerId(const Request& r, int brokers) {
  const std::string& s = r.PathParam("id");
  char* end = nullptr;
  long id = std::strtol(s.c_str(), &end, 10);
  if (s.empty() || *end || id < 1 || id > brokers)
    throw HttpError(404, "no broker '" + s + "' (brokers are 1.." + std::to_string(brokers) + ")");
  return int(id);
}

}  // namespace

int main(int argc, char** argv) {
  Args args = Parse(argc, argv);
  op::log::Init("devbroker", "devbroker");

  char err[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  rd_kafka_conf_set(conf, "log_level", "3", err, sizeof err);
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
  if (!rk) {
    std::cerr << "devbroker: cannot create the librdkafka handle: " << err << "\n";
    return 1;
  }
  rd_kafka_mock_cluster_t* mc = rd_kafka_mock_cluster_new(rk, args.brokers);
  if (!mc) {
    std::cerr << "devbroker: cannot create the mock cluster\n";
    return 1;
  }
  std::mutex mu;  // the mock API is called from HTTP threads
  std::set<std::string> topics;
  for (const auto& t : args.topics) {
    rd_kafka_resp_err_t e = rd_kafka_mock_topic_create(mc, t.c_str(), args.partitions, args.replication);
    if (e) {
      std::cerr << "devbroker: cannot create topic " << t << ": " << rd_kafka_err2str(e) << "\n";
      return 1;
    }
    topics.insert(t);
  }
  std::string bootstrap = rd_kafka_mock_cluster_bootstraps(mc);
  // What the faults API has done, for GET /brokers (the mock API has no getters).
  std::map<int, nlohmann::json> broker_state;
  for (int id = 1; id <= args.brokers; ++id) broker_state[id] = {{"id", id}, {"state", "UP"}, {"rttMs", 0}};

  auto router = std::make_shared<op::http::Router>();
  // The dev broker is a development tool: its admin API listens on loopback
  // only, and on a shared host only the dashboard's admins reach it
  // (through the dashboard, which checks the role).
  const auto kLoopbackOnly = op::http::Access::Public();
  auto check = [](rd_kafka_resp_err_t e, const std::string& what) {
    if (e) throw HttpError(400, what + ": " + rd_kafka_err2str(e));
  };
  router->Get("/health", kLoopbackOnly, [&](Request&) {
    return Response::Json(200, {{"status", "UP"}, {"bootstrap", bootstrap}});
  });
  router->Get("/topics", kLoopbackOnly, [&](Request&) {
    nlohmann::json list = nlohmann::json::array();
    for (const auto& t : topics)
      list.push_back({{"name", t}, {"partitions", args.partitions}, {"replicationFactor", args.replication}});
    return Response::Json(200, {{"bootstrap", bootstrap}, {"brokers", args.brokers}, {"topics", list}});
  });
  router->Get("/brokers", kLoopbackOnly, [&](Request&) {
    std::lock_guard lock(mu);
    nlohmann::json list = nlohmann::json::array();
    for (auto& [id, b] : broker_state) list.push_back(b);
    return Response::Json(200, {{"bootstrap", bootstrap}, {"brokers", list}});
  });
  router->Post("/topics", kLoopbackOnly, [&](Request& r) {
    auto body = r.JsonBody();
    op::http::Validation v;
    if (!body.contains("name") || !body["name"].is_string() || body["name"].get<std::string>().empty())
      v.Add("name", "must be a non-empty string");
    int parts = body.value("partitions", args.partitions);
    if (parts < 1 || parts > 128) v.Add("partitions", "must be in [1, 128]");
    v.ThrowIfInvalid();
    std::lock_guard lock(mu);
    std::string name = body["name"];
    check(rd_kafka_mock_topic_create(mc, name.c_str(), parts, args.replication), "create topic " + name);
    topics.insert(name);
    return Response::Json(201, {{"name", name}, {"partitions", parts}});
  });
  router->Post("/faults/brokers/{id}/down", kLoopbackOnly, [&](Request& r) {
    int id = BrokerId(r, args.brokers);
    std::lock_guard lock(mu);
    check(rd_kafka_mock_broker_set_down(mc, id), "broker down");
    broker_state[id]["state"] = "DOWN";
    op::log::Warn("fault: broker down", {{"broker", id}});
    return Response::Json(200, {{"broker", id}, {"state", "DOWN"}});
  });
  router->Post("/faults/brokers/{id}/up", kLoopbackOnly, [&](Request& r) {
    int id = BrokerId(r, args.brokers);
    std::lock_guard lock(mu);
    check(rd_kafka_mock_broker_set_up(mc, id), "broker up");
    broker_state[id]["state"] = "UP";
    op::log::Info("fault cleared: broker up", {{"broker", id}});
    return Response::Json(200, {{"broker", id}, {"state", "UP"}});
  });
  router->Post("/faults/brokers/{id}/rtt", kLoopbackOnly, [&](Request& r) {
    int id = BrokerId(r, args.brokers);
    auto body = r.JsonBody();
    if (!body.contains("ms") || !body["ms"].is_number_integer() || body["ms"].get<int>() < 0)
      throw HttpError(op::http::Problem(op::http::MakeProblem(400, "invalid rtt").Field("ms", "must be a non-negative integer")));
    std::lock_guard lock(mu);
    check(rd_kafka_mock_broker_set_rtt(mc, id, body["ms"].get<int>()), "set rtt");
    broker_state[id]["rttMs"] = body["ms"];
    return Response::Json(200, {{"broker", id}, {"rttMs", body["ms"]}});
  });
  router->Post("/faults/partitions/{topic}/{partition}/leader", kLoopbackOnly, [&](Request& r) {
    auto body = r.JsonBody();
    const std::string& topic = r.PathParam("topic");
    if (!topics.count(topic)) throw HttpError(404, "no topic '" + topic + "'");
    int partition = std::atoi(r.PathParam("partition").c_str());
    if (!body.contains("broker") || !body["broker"].is_number_integer())
      throw HttpError(op::http::Problem(op::http::MakeProblem(400, "invalid leader").Field("broker", "must be a broker id")));
    int broker = body["broker"];
    if (broker < 1 || broker > args.brokers) throw HttpError(422, "no broker " + std::to_string(broker));
    std::lock_guard lock(mu);
    check(rd_kafka_mock_partition_set_leader(mc, topic.c_str(), partition, broker), "set leader");
    return Response::Json(200, {{"topic", topic}, {"partition", partition}, {"leader", broker}});
  });
  // {"apiKey": 0, "errors": [6, 6]}: the next requests of that API fail with those codes.
  router->Post("/faults/request-errors", kLoopbackOnly, [&](Request& r) {
    auto body = r.JsonBody();
    op::http::Validation v;
    if (!body.contains("apiKey") || !body["apiKey"].is_number_integer()) v.Add("apiKey", "must be a Kafka API key");
    if (!body.contains("errors") || !body["errors"].is_array() || body["errors"].empty())
      v.Add("errors", "must be a non-empty array of Kafka error codes");
    v.ThrowIfInvalid();
    std::vector<rd_kafka_resp_err_t> errs;
    for (auto& e : body["errors"]) errs.push_back(static_cast<rd_kafka_resp_err_t>(e.get<int>()));
    std::lock_guard lock(mu);
    rd_kafka_mock_push_request_errors_array(mc, body["apiKey"].get<int>(), errs.size(), errs.data());
    return Response::Json(200, {{"apiKey", body["apiKey"]}, {"queued", errs.size()}});
  });

  op::http::ServerOptions opts;
  opts.host = "127.0.0.1";
  opts.port = static_cast<uint16_t>(args.admin_port);
  opts.threads = 1;
  opts.access_log = false;
  op::http::HttpServer admin(opts, router);
  try {
    admin.Start();
  } catch (const std::exception& e) {
    std::cerr << "devbroker: " << e.what() << "\n";
    return 1;
  }

  nlohmann::json info = {{"bootstrap", bootstrap},
                         {"admin", "http://127.0.0.1:" + std::to_string(admin.Port())},
                         {"brokers", args.brokers},
                         {"partitions", args.partitions}};
  if (!args.info_file.empty()) {
    std::string tmp = args.info_file + ".tmp";
    std::ofstream(tmp) << info.dump() << "\n";
    std::rename(tmp.c_str(), args.info_file.c_str());  // readers never see a partial file
  }
  std::cout << info.dump() << std::endl;

  struct sigaction sa {};
  sa.sa_handler = OnSignal;
  sigaction(SIGTERM, &sa, nullptr);
  sigaction(SIGINT, &sa, nullptr);
  while (!g_stop) pause();

  admin.Shutdown(std::chrono::seconds(2));
  rd_kafka_mock_cluster_destroy(mc);
  rd_kafka_destroy(rk);
  if (!args.info_file.empty()) std::remove(args.info_file.c_str());
  return 0;
}
