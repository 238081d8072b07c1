#pragma once
// The stack's supervised units: a service process, the embedded MariaDB, the
// dev broker, one node of the local Apache Kafka cluster.
#include <memory>
#include <string>

#include "ops/stack/console.h"
#include "ops/stack/supervisor.h"
#include "testing/fixtures/devbroker.h"
#include "testing/fixtures/kafka_cluster.h"
#include "testing/fixtures/mariadb.h"
#include "testing/fixtures/process.h"

namespace op::stack {

// A program whose output goes to the terminal through a LogPump: a service,
// Prometheus.
class ProcessUnit : public Unit {
 public:
  // `ready_url` answers 200 once it serves.
  ProcessUnit(std::string label, std::vector<std::string> argv, std::string ready_url, const char* group = "programs")
      : label_(std::move(label)), argv_(std::move(argv)), ready_url_(std::move(ready_url)), group_(group) {}
  ~ProcessUnit() override { Stop(); }
  const std::string& name() const override { return label_; }
  void Launch() override;  // does not wait for readiness (see WaitReady)
  bool Running() override { return process_ && process_->Running(); }
  void Stop() override;
  const char* group() const override { return group_; }
  void Signal() override;
  std::string LastWords() const override { return pump_ ? pump_->LastLine() : ""; }
  // Waits until `ready_url` answers 200; false when it exits or `timeout` passes.
  bool WaitReady(std::chrono::seconds timeout);

 private:
  const std::string label_;
  const std::vector<std::string> argv_;
  const std::string ready_url_;
  const char* const group_;
  std::unique_ptr<op::testing::Process> process_;
  std::unique_ptr<LogPump> pump_;
};

class MariaDbUnit : public Unit {
 public:
  explicit MariaDbUnit(op::testing::MariaDbServer::Options o) : server_(std::move(o)) {}
  const std::string& name() const override { return name_; }
  void Launch() override { server_.Start(); }
  bool Running() override { return server_.Running(); }
  void Stop() override { server_.Stop(); }
  op::testing::MariaDbServer& server() { return server_; }

 private:
  const std::string name_ = "mariadb";
  op::testing::MariaDbServer server_;
};

// The dev broker keeps everything in memory and takes new ports when it
// starts again: the stack then restarts the Kafka clients with the new
// bootstrap (see main.cc), and the saga timeout settles what was in flight.
class DevBrokerUnit : public Unit {
 public:
  const std::string& name() const override { return name_; }
  void Launch() override { broker_.Start(); }
  bool Running() override { return broker_.Running(); }
  void Stop() override { broker_.Stop(); }
  op::testing::DevBroker& broker() { return broker_; }

 private:
  const std::string name_ = "kafka";
  op::testing::DevBroker broker_;
};

// Node i of the local cluster: same ports and data when it starts again.
class KafkaNodeUnit : public Unit {
 public:
  KafkaNodeUnit(op::testing::KafkaCluster& cluster, int i) : cluster_(cluster), i_(i), name_("kafka-" + std::to_string(i + 1)) {}
  const std::string& name() const override { return name_; }
  void Launch() override { cluster_.StartNode(i_); }
  bool Running() override { return cluster_.NodeRunning(i_); }
  void Stop() override { cluster_.StopNode(i_, SIGTERM); }
  const char* group() const override { return "kafka"; }
  void Signal() override { cluster_.SignalNode(i_, SIGTERM); }

 private:
  op::testing::KafkaCluster& cluster_;
  const int i_;
  const std::string name_;
};

}  // namespace op::stack
