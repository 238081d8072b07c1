#pragma once
// Spring's names for the runtime's settings. Users of the original system set
// SPRING_APPLICATION_NAME, EUREKA_CLIENT_SERVICEURL_DEFAULTZONE,
// SPRING_KAFKA_BOOTSTRAP_SERVERS, LOGGING_LEVEL_ROOT or SPRING_DATASOURCE_*;
// each is translated to the runtime's own variable (which wins when both are
// set). Any other SPRING_*, EUREKA_*, MANAGEMENT_* or RESILIENCE4J_* variable
// this program does not read is reported, so a service never runs silently
// unregistered or on defaults. (YAML's `resilience4j:` section is read as
// `resilience:` by Config::Load itself.)
#include <string>
#include <vector>

#include "runtime/config/config.h"

namespace op::config {

struct SpringEnv {
  Config::Env env;                    // the environment with the translations added
  std::vector<std::string> warnings;  // one line each, naming the variable
};

SpringEnv TranslateSpringEnv(const Config::Env& env, const Schema& schema);

}  // namespace op::config
