#pragma once
// The registry's status page at "/", in the shape of Eureka's own dashboard:
// System Status (time, uptime, lease expiration, renewals against the
// threshold), the self-preservation emergency line, DS Replicas (the peers),
// Instances currently registered (per application: status and instances),
// and General Info. Server-rendered HTML, every value escaped; it reads the
// same view as /registry/view.
#include <nlohmann/json.hpp>

#include <chrono>
#include <string>

namespace op::registry {

struct StatusPageInfo {
  std::string version;
  std::string instance_id;
  std::chrono::system_clock::time_point started_at;
};

std::string StatusPageHtml(const nlohmann::json& view, const StatusPageInfo& info,
                           std::chrono::system_clock::time_point now = std::chrono::system_clock::now());

}  // namespace op::registry
