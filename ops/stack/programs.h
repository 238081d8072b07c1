#pragma once
// The platform's programs as the stack runs them: which binary, which port,
// which database, and the YAML config each is given (rewritten at every
// start, and again when the Kafka bootstrap changes).
#include <cstdint>
#include <string>
#include <vector>

#include "ops/stack/options.h"

namespace op::stack {

struct ProgramDef {
  std::string name;      // "payment-service"
  std::string binary;    // absolute (from the runfiles)
  uint16_t port = 0;
  std::string database;  // "" when it has none
  int instance = 1;      // 2, 3, ... for extra instances (--instances)
  std::string label;     // log prefix and key: the name, or "payment-service-2"
  bool UsesKafka() const;
  bool Front() const { return name == "service-registry" || name == "api-gateway" || name == "dashboard"; }
};

// Every program with its instances, in start order (the registry first, the
// gateway and the dashboard last). Throws UsageError when a binary is
// missing or two programs would share a port.
std::vector<ProgramDef> Programs(const StackOptions& options);
uint16_t PortOf(const std::vector<ProgramDef>& programs, const std::string& name);

// What the configs point at, besides the options.
struct Wiring {
  std::string registry_service_url;  // with the registry's credential, as Eureka clients carry it
  std::string kafka_bootstrap;
  std::string broker_admin_url;      // the dev broker's or the stack's own for Apache Kafka; "" for none
  std::string stack_admin_url;       // the stack's admin API (programs, restart counts)
  std::string dashboard_secret;      // the dashboard's client secret, new at every start
  uint16_t gateway_port = 0;
};
std::string ConfigYaml(const ProgramDef& program, const StackOptions& options, const Wiring& wiring);

}  // namespace op::stack
