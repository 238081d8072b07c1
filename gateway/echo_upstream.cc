// Test upstream for gateway_test: echoes the request as JSON; GET /fail-toggle
// switches it between answering and failing with 500.
#include <signal.h>

#include <atomic>
#include <iostream>

#include "runtime/http/server.h"

int main(int argc, char** argv) {
  if (argc != 3) {
    std::cerr << "usage: echo_upstream NAME PORT\n";
    return 2;
  }
  std::string name = argv[1];
  std::atomic<bool> failing{false};
  auto r = std::make_shared<op::http::Router>();
  auto echo = [&](op::http::Request& req) {
    if (failing) return op::http::Response::Json(500, {{"error", "boom"}});
    nlohmann::json headers = nlohmann::json::object();
    for (auto& [k, v] : req.headers.All()) headers[k] = v;
    return op::http::Response::Json(200, {{"instance", name}, {"path", req.path}, {"query", req.query},
                                          {"headers", headers}, {"body", req.body}});
  };
  for (const char* m : {"GET", "POST", "PUT", "DELETE"}) r->Add(m, "/api/orders/**", op::http::Access::Public(), echo);
  r->Post("/fail-toggle", op::http::Access::Public(), [&](op::http::Request&) {
    failing = !failing;
    return op::http::Response::Json(200, {{"failing", failing.load()}});
  });
  op::http::ServerOptions o;
  o.host = "127.0.0.1";
  o.port = static_cast<uint16_t>(std::stoi(argv[2]));
  o.threads = 2;
  o.access_log = false;
  op::http::HttpServer server(o, r);
  server.Start();
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  int sig;
  sigwait(&set, &sig);
  return 0;
}
