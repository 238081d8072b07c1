#pragma once
// Prometheus for the stack (when installed): ops/prometheus's config with
// the registry's address and credential filled in, data under the stack's
// data directory.
#include <string>
#include <vector>

#include "ops/stack/options.h"

namespace op::stack {

bool PrometheusInstalled();
// Writes its config files; returns its command line.
std::vector<std::string> PrometheusCommand(const StackOptions& options, const std::string& registry_host_port);

}  // namespace op::stack
