#pragma once
// What happens before a service's components exist: the command line, the
// runtime's configuration keys, --help, --health-check, and the one mapping
// from a start-up failure to the process's exit code.
#include <exception>
#include <string>
#include <vector>

#include "runtime/config/config.h"
#include "runtime/metrics/metrics.h"

namespace op {

struct ServiceSpec;

constexpr int kExitOk = 0;
constexpr int kExitStartFailure = 1;  // a dependency is unreachable, the port is taken, a migration fails
constexpr int kExitUsage = 2;         // a bad command line or configuration (the message names the key)

struct CommandLine {
  std::string config_file;  // --config FILE (or CONFIG_FILE in the environment)
  bool help = false;
  bool health_check = false;
};
// UsageError for an unknown argument.
CommandLine ParseCommandLine(const std::string& name, int argc, char** argv);

// Every key the runtime itself reads, for the parts `spec` uses.
void DeclareRuntimeSchema(config::Schema& s, const ServiceSpec& spec);
void PrintHelp(const ServiceSpec& spec, const config::Schema& schema);
// The configuration: YAML file (if any) + environment; validates the
// cross-key rules (ConfigError names the key).
// The file (or CONFIG_FILE) and the environment, Spring's variable names
// translated (config/spring_names.h); `warnings` gets what was ignored.
config::Config LoadConfig(const config::Schema& schema, std::string config_file,
                          std::vector<std::string>* warnings = nullptr);

// --health-check (images have no shell or curl): asks the instance that this
// configuration describes for its liveness. kExitOk when it answers 200.
int CheckHealth(const config::Config& config, const std::string& name);

// process_* metrics as the Prometheus client libraries export them.
void CollectProcessMetrics(metrics::Families& out);

std::string Hostname();

// Reports the exception `e` (thrown while starting) on stderr and in the log,
// and returns the exit code it means: kExitUsage for ConfigError and
// UsageError, kExitStartFailure for everything else.
int ExitCodeFor(const std::string& name, std::exception_ptr e);

}  // namespace op
