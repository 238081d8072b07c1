#pragma once
// The stack's admin API, for the dashboard. GET /programs: every supervised
// program with its state and restart count. For the stack's local Apache
// Kafka cluster (`nodes` > 0) also the broker buttons, in the dev broker's
// admin API shape (GET /brokers, POST /faults/brokers/{id}/down|up): "down"
// stops that node's process (SIGTERM, a controlled shutdown) and keeps it
// down; "up" starts it again. Listens on loopback only, like the dev
// broker's; the dashboard checks the admin role.
//
// Threads: one server thread; its handlers block while a node stops or
// starts (the supervisor's lock, see supervisor.h).
#include <memory>
#include <string>

#include "ops/stack/supervisor.h"
#include "runtime/http/server.h"

namespace op::stack {

class BrokerAdmin {
 public:
  BrokerAdmin(Supervisor& supervisor, int nodes);
  ~BrokerAdmin();
  void Start();  // throws when it cannot listen
  std::string Url() const;

 private:
  Supervisor& supervisor_;
  const int nodes_;
  std::unique_ptr<http::HttpServer> server_;
};

}  // namespace op::stack
