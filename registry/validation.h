#pragma once
// What a registration may say (DESIGN section 10): anyone holding the
// clients' credential can register, so what they register is checked before
// other programs act on it (the gateway and the services call these
// addresses, the dashboard probes these URLs, Prometheus scrapes them):
//   - hostName a host name (RFC 1123) or an IP address, ipAddr an IP address;
//   - instanceId, app and vipAddress short and plain;
//   - homePageUrl, statusPageUrl and healthCheckUrl empty or http(s) URLs on
//     the instance's own hostName or ipAddr;
//   - metadata at most 32 entries of plain keys, values of at most 256
//     bytes, 4 KiB in all;
//   - a lease of 1..300 s renewals and 1..3600 s duration, not shorter than
//     the renewal;
//   - lastDirtyTimestamp not in the future (60 s of skew): a forged one from
//     the future would win every conflict against the real instance.
// Each refusal is std::invalid_argument("field: why"), the registry's 400.
#include <cstdint>
#include <map>
#include <string>

#include "registry/instance_registry.h"

namespace op::registry {

inline constexpr size_t kMaxMetadataEntries = 32;
inline constexpr size_t kMaxMetadataBytes = 4096;

void ValidateInstance(const InstanceInfo& i, int64_t now_ms);
void ValidateMetadata(const std::map<std::string, std::string>& metadata);
// lastDirtyTimestamp (of a registration or a renewal) against the clock.
void ValidateDirtyTimestamp(int64_t last_dirty_ms, int64_t now_ms);
bool IsHostName(const std::string& s);
bool IsIpAddress(const std::string& s);

}  // namespace op::registry
