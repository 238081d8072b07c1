#include "registry/validation.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cctype>
#include <stdexcept>

namespace op::registry {

namespace {
[[noreturn]] void Bad(const std::string& field, const std::string& why) { throw std::invalid_argument(field + ": " + why); }

bool Plain(const std::string& s, size_t max, const std::string& also) {
  if (s.empty() || s.size() > max) return false;
  return std::all_of(s.begin(), s.end(), [&](unsigned char c) { return std::isalnum(c) || also.find(char(c)) != std::string::npos; });
}

std::string Lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), ::tolower);
  return s;
}

// The host of an http(s) URL ("" when it is not one); IPv6 without brackets.
std::string UrlHost(const std::string& url) {
  std::string rest;
  if (url.rfind("http://", 0) == 0) rest = url.substr(7);
  else if (url.rfind("https://", 0) == 0) rest = url.substr(8);
  else return "";
  const std::string authority = rest.substr(0, rest.find_first_of("/?#"));
  if (authority.find('@') != std::string::npos) return "";  // no userinfo
  if (!authority.empty() && authority[0] == '[') {
    auto end = authority.find(']');
    return end == std::string::npos ? "" : authority.substr(1, end - 1);
  }
  return authority.substr(0, authority.find(':'));
}

void CheckUrl(const std::string& field, const std::string& url, const InstanceInfo& i) {
  if (url.empty()) return;
  if (url.size() > 1024) Bad(field, "is longer than 1024 characters");
  for (unsigned char c : url)
    if (c <= 0x20 || c >= 0x7f) Bad(field, "has spaces or control characters");
  const std::string host = Lower(UrlHost(url));
  if (host.empty()) Bad(field, "must be an http or https URL");
  if (host != Lower(i.host_name) && host != Lower(i.ip_addr)) Bad(field, "must be on the instance's own hostName or ipAddr");
}
}  // namespace

bool IsIpAddress(const std::string& s) {
  unsigned char buf[16];
  return inet_pton(AF_INET, s.c_str(), buf) == 1 || inet_pton(AF_INET6, s.c_str(), buf) == 1;
}

bool IsHostName(const std::string& s) {
  if (s.empty() || s.size() > 253) return false;
  size_t start = 0;
  while (start <= s.size()) {
    size_t end = s.find('.', start);
    if (end == std::string::npos) end = s.size();
    const std::string label = s.substr(start, end - start);
    if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-') return false;
    if (!std::all_of(label.begin(), label.end(), [](unsigned char c) { return std::isalnum(c) || c == '-'; })) return false;
    start = end + 1;
  }
  return true;
}

void ValidateMetadata(const std::map<std::string, std::string>& metadata) {
  if (metadata.size() > kMaxMetadataEntries) Bad("instance.metadata", "has more than 32 entries");
  size_t bytes = 0;
  for (const auto& [k, v] : metadata) {
    // keys become XML element names in Eureka's XML: a letter or '_' first
    if (!Plain(k, 64, "._-") || !(std::isalpha(static_cast<unsigned char>(k[0])) || k[0] == '_'))
      Bad("instance.metadata", "keys are 1..64 letters, digits, '.', '_' or '-', starting with a letter or '_'");
    if (v.size() > 256) Bad("instance.metadata." + k, "is longer than 256 bytes");
    for (unsigned char c : v)
      if (c < 0x20 || c == 0x7f) Bad("instance.metadata." + k, "has control characters");
    bytes += k.size() + v.size();
  }
  if (bytes > kMaxMetadataBytes) Bad("instance.metadata", "is larger than 4 KiB");
}

void ValidateDirtyTimestamp(int64_t last_dirty_ms, int64_t now_ms) {
  if (last_dirty_ms > now_ms + 60'000) Bad("instance.lastDirtyTimestamp", "is in the future");
  if (last_dirty_ms < 0) Bad("instance.lastDirtyTimestamp", "is negative");
}

void ValidateInstance(const InstanceInfo& i, int64_t now_ms) {
  if (!IsHostName(i.host_name) && !IsIpAddress(i.host_name)) Bad("instance.hostName", "must be a host name or an IP address");
  if (!IsIpAddress(i.ip_addr) && !IsHostName(i.ip_addr)) Bad("instance.ipAddr", "must be an IP address");
  if (!Plain(i.instance_id, 128, "._:@-")) Bad("instance.instanceId", "must be 1..128 letters, digits, '.', '_', ':', '@' or '-'");
  if (!Plain(i.app, 64, "._-")) Bad("instance.app", "must be 1..64 letters, digits, '.', '_' or '-'");
  if (!Plain(i.vip_address, 255, "._-,:")) Bad("instance.vipAddress", "must be 1..255 plain characters");
  CheckUrl("instance.homePageUrl", i.home_page_url, i);
  CheckUrl("instance.statusPageUrl", i.status_page_url, i);
  CheckUrl("instance.healthCheckUrl", i.health_check_url, i);
  ValidateMetadata(i.metadata);
  if (i.renewal_interval_secs < 1 || i.renewal_interval_secs > 300)
    Bad("instance.leaseInfo.renewalIntervalInSecs", "must be 1..300");
  if (i.duration_secs < i.renewal_interval_secs || i.duration_secs > 3600)
    Bad("instance.leaseInfo.durationInSecs", "must be from the renewal interval to 3600");
  ValidateDirtyTimestamp(i.last_dirty_timestamp, now_ms);
}

}  // namespace op::registry
