#pragma once
// What the dashboard's handlers share (owned by the runtime; its threads stop
// once the HTTP server has drained), and its routes.
#include <memory>

#include "dashboard/collector.h"
#include "dashboard/dead_letters.h"
#include "dashboard/sessions.h"
#include "runtime/kafka/admin.h"
#include "runtime/service/service.h"

namespace op::dashboard {

struct Dashboard : ServiceState {
  Dashboard(Service& s, Sessions::Limits limits) : svc(s), sessions(limits) {}
  ~Dashboard() override {
    if (collector) collector->Stop();
    if (dead_letters) dead_letters->Stop();
  }
  Service& svc;
  Sessions sessions;
  std::unique_ptr<kafka::ClusterAdmin> admin;
  std::unique_ptr<DeadLetters> dead_letters;
  std::unique_ptr<Collector> collector;
};

// The page and its assets (public: they hold no data), sign-in and sign-out,
// the reads (a session), the actions (admin, same-origin JSON).
void AddRoutes(http::Router& router, Dashboard* d);

}  // namespace op::dashboard
