#pragma once
// The whole platform on one machine, supervised: the data layer (MariaDB,
// the dev broker or a 3-node Apache Kafka cluster), the services, the
// gateway, the dashboard and Prometheus, each restarted with backoff when it
// exits. See main.cc for the order of things.
//
// Threads: Run's thread supervises (polls the units every 200 ms, restarts,
// watches for the stop signal); one thread per child copies its output to
// the terminal; the broker admin server (Apache Kafka only) has its own.
#include <atomic>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "ops/stack/broker_admin.h"
#include "ops/stack/options.h"
#include "ops/stack/programs.h"
#include "ops/stack/supervisor.h"
#include "ops/stack/units.h"

namespace op::stack {

class Stack {
 public:
  // Throws UsageError when a port is taken or a dependency is missing.
  explicit Stack(StackOptions options);
  ~Stack();
  // Until `stop` is set; 0, or 1 when the start failed.
  int Run(const std::atomic<bool>& stop);

 private:
  void CheckPorts() const;
  void StartDataLayer();
  void StartKafka();
  void WriteConfigs();
  bool StartPrograms(const std::atomic<bool>& stop);
  void StartPrometheus();
  void PrintBanner() const;
  void OnDevBrokerRestarted();

  StackOptions options_;
  std::vector<ProgramDef> programs_;
  Wiring wiring_;
  // Declared in this order so that each outlives what refers to it.
  std::unique_ptr<op::testing::KafkaCluster> cluster_;  // its nodes are units
  Supervisor supervisor_;
  std::unique_ptr<BrokerAdmin> broker_admin_;  // holds the supervisor
  std::map<std::string, ProcessUnit*> units_;  // by label; owned by supervisor_
  MariaDbUnit* mariadb_ = nullptr;
  DevBrokerUnit* devbroker_ = nullptr;
  bool prometheus_ready_ = false;
};

}  // namespace op::stack
