#pragma once
// Gathers what the dashboard shows into one JSON snapshot the page polls:
//   registry  – /registry/view of the registry, plus each instance's own
//               health, circuit breakers and bulkheads (actuator endpoints);
//   orders    – the newest orders from order-service (over discovery);
//   kafka     – brokers, topics, partition leaders, consumer-group lag (Kafka
//               protocol), dev-broker fault state, dead-letter records.
//
// Threads: Start() starts two periodic tasks, "dash-platform" (registry, instances,
// orders) and "dash-kafka" (cluster metadata, lag, dev broker), so a Kafka
// outage cannot stall the registry view. Each replaces its part of the
// snapshot under a mutex; Snapshot() is cheap and called from HTTP threads.
#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "dashboard/dead_letters.h"
#include "dashboard/views.h"
#include "runtime/core/periodic_task.h"
#include "runtime/discovery/service_client.h"
#include "runtime/http/client.h"
#include "runtime/kafka/admin.h"

namespace op::dashboard {

struct CollectorOptions {
  std::string registry_url;   // base URL of a registry (http://host:8761), "" for none
  std::string registry_authorization;  // its HTTP Basic value (from the service URL's credentials)
  std::string devbroker_url;  // admin URL of the dev broker, "" for none
  std::string stack_url;      // the local stack's admin URL (its programs, restarts), "" for none
  std::string bootstrap_servers;
  std::vector<std::string> consumer_groups;  // whose lag is shown
  std::chrono::milliseconds interval{1000};
  std::chrono::milliseconds probe_timeout{800};
  std::chrono::seconds forget_after{300};
  int recent_orders = 25;
};

class Collector {
 public:
  Collector(CollectorOptions options, http::HttpClient& http, discovery::ServiceClient& services,
            kafka::ClusterAdmin* admin, DeadLetters* dead_letters);
  ~Collector();
  void Start();
  void Stop();
  std::string Snapshot() const;  // serialized JSON
  const CollectorOptions& options() const { return options_; }

 private:
  nlohmann::json PollRegistry();
  InstanceProbe Probe(const std::string& base);
  std::map<std::string, InstanceProbe> ProbeInstances(const nlohmann::json& view);
  nlohmann::json PollOrders();
  nlohmann::json PollKafka();
  nlohmann::json PollDevBroker();
  nlohmann::json PollStack();
  std::chrono::milliseconds RefreshPlatform();  // the "dash-platform" task's step
  std::chrono::milliseconds RefreshKafka();     // the "dash-kafka" task's step

  CollectorOptions options_;
  http::HttpClient& http_;
  discovery::ServiceClient& services_;
  kafka::ClusterAdmin* admin_;
  DeadLetters* dead_letters_;
  InstanceTracker tracker_;  // used by the platform thread only

  mutable std::mutex mu_;
  nlohmann::json registry_, orders_, kafka_, devbroker_ = nlohmann::json::array(), programs_;
  std::string generated_at_;
  PeriodicTask platform_{"dash-platform", [this] { return RefreshPlatform(); }};  // last: they stop first
  PeriodicTask kafka_task_{"dash-kafka", [this] { return RefreshKafka(); }};
};

}  // namespace op::dashboard
