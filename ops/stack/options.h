#pragma once
// What `bazel run //ops:stack -- ...` was asked for: flags and environment,
// validated before anything starts (a wrong one is one clear line).
#include <cstdint>
#include <map>
#include <stdexcept>
#include <string>

namespace op::stack {

// A flag or variable the stack cannot use; what() is the line to print.
class UsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

enum class KafkaKind {
  kDev,       // the embedded dev broker (in memory)
  kApache,    // a local 3-node Apache Kafka cluster, data under the data directory
  kExternal,  // KAFKA_BOOTSTRAP_SERVERS
};

struct StackOptions {
  bool help = false;
  bool reset = false;
  bool verbose = false;                       // every program's every line on the terminal
  std::map<std::string, int> instances;       // --instances payment-service=2
  std::map<std::string, uint16_t> ports;      // --port api-gateway=9080
  KafkaKind kafka = KafkaKind::kDev;
  std::string kafka_bootstrap;                // kExternal
  bool external_db = false;                   // MYSQL_HOST given
  std::string mysql_host = "127.0.0.1", mysql_user = "app", mysql_password = "app-secret";
  uint16_t mysql_port = 3307;                 // the embedded one (STACK_MYSQL_PORT, --port mariadb=)
  uint16_t prometheus_port = 9090;
  std::string data_dir;                       // STACK_DATA_DIR, default ~/.local/share/orderplatform
  std::string registry_user = "eureka", registry_password = "eureka-secret";
};

// Throws UsageError.
StackOptions ParseOptions(int argc, char** argv);
const char* HelpText();

}  // namespace op::stack
