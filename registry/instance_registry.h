#pragma once
// The registry's state, with Eureka's semantics (AbstractInstanceRegistry,
// InstanceResource, PeerAwareInstanceRegistryImpl):
//   - register replaces an instance unless the stored one has a newer
//     lastDirtyTimestamp; renew of an unknown instance → NotFound (the client
//     re-registers); a renew carrying a newer lastDirtyTimestamp than ours →
//     NotFound too, an older one from a peer → Conflict;
//   - leases expire after their duration without renewal and are evicted by
//     a periodic sweep, at most (1 - threshold) of the registry per sweep;
//   - self-preservation: when renewals in the last minute fall below
//     expected-renewals-per-minute × threshold (0.85), nothing is evicted
//     (a network partition must not empty the registry);
//   - status overrides (OUT_OF_SERVICE, ...) win over what the instance says;
//   - a bounded queue of recent changes serves /apps/delta (3 minutes, and at
//     most max_delta_changes: a client that misses some finds the apps hash
//     differs and fetches everything, as Eureka clients do);
//   - at most max_instances instances: a new one past that is refused (kFull).
// Thread-safe; time from an injected Clock.
#include <nlohmann/json.hpp>

#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "runtime/core/clock.h"

namespace op::registry {

struct InstanceInfo {
  std::string app;          // upper-case, as Eureka shows it
  std::string instance_id;
  std::string host_name, ip_addr;
  std::string status = "UP";               // UP, DOWN, STARTING, OUT_OF_SERVICE, UNKNOWN
  std::string overridden_status = "UNKNOWN";
  int port = 0;
  bool port_enabled = true;
  int secure_port = 443;
  bool secure_port_enabled = false;
  std::string vip_address, secure_vip_address;
  std::string home_page_url, status_page_url, health_check_url;
  std::map<std::string, std::string> metadata;
  std::string data_center = "MyOwn";
  int country_id = 1;
  int64_t last_dirty_timestamp = 0;    // ms, set by the instance
  int64_t last_updated_timestamp = 0;  // ms, set by the registry
  std::string action_type = "ADDED";
  // lease
  int renewal_interval_secs = 30;
  int duration_secs = 90;
  int64_t registration_timestamp = 0, last_renewal_timestamp = 0, eviction_timestamp = 0,
          service_up_timestamp = 0;
};

struct RegistryOptions {
  double renewal_percent_threshold = 0.85;
  bool enable_self_preservation = true;
  int expected_client_renewal_interval_secs = 30;
  size_t max_instances = 10'000;
  size_t max_delta_changes = 10'000;
};

class InstanceRegistry {
 public:
  explicit InstanceRegistry(RegistryOptions options, const Clock& clock = SystemClock::Instance());

  enum class Result { kOk, kNotFound, kConflict, kFull };
  // kOk, or kFull when `info` is new and max_instances are registered.
  Result Register(InstanceInfo info, bool is_replication);
  size_t Size() const;
  // `status` and `last_dirty` come from the renew's query parameters (optional).
  Result Renew(const std::string& app, const std::string& id, std::optional<int64_t> last_dirty,
               bool is_replication, InstanceInfo* conflicting = nullptr);
  bool Cancel(const std::string& app, const std::string& id, bool is_replication);
  bool StatusUpdate(const std::string& app, const std::string& id, const std::string& status);
  bool DeleteStatusOverride(const std::string& app, const std::string& id, const std::string& new_status);
  // Throws std::invalid_argument when the merged metadata would pass the caps (validation.h).
  bool UpdateMetadata(const std::string& app, const std::string& id, const std::map<std::string, std::string>& kv);

  // Removes expired leases (respecting self-preservation). Returns the evicted.
  std::vector<InstanceInfo> Evict();

  std::vector<InstanceInfo> Instances() const;                       // every instance
  std::vector<InstanceInfo> App(const std::string& app) const;      // one app's
  std::optional<InstanceInfo> Get(const std::string& app, const std::string& id) const;
  std::optional<InstanceInfo> FindById(const std::string& id) const;
  std::vector<InstanceInfo> Delta() const;  // changed within the retention window
  int64_t Version() const;                  // versions__delta
  std::string AppsHashCode() const;         // "DOWN_1_UP_3_"

  bool SelfPreservationActive() const;
  int64_t RenewsLastMinute() const;
  int64_t RenewsThreshold() const;
  int64_t Evictions() const { return evictions_; }

  struct Event {
    int64_t at_ms;
    std::string kind;  // REGISTERED, CANCELLED, EVICTED, STATUS
    std::string app, id, status;
  };
  std::vector<Event> RecentEvents(size_t max) const;

  static std::string Effective(const InstanceInfo& i);  // status after the override

 private:
  int64_t NowMs() const;
  void RecordChangeLocked(InstanceInfo i, const std::string& action);
  void UpdateExpectedLocked(int delta_clients);
  void EventLocked(const std::string& kind, const InstanceInfo& i);
  int64_t RenewsLastMinuteLocked() const;
  int64_t ThresholdLocked() const;

  const RegistryOptions options_;
  const Clock& clock_;
  mutable std::mutex mu_;
  std::map<std::string, std::map<std::string, InstanceInfo>> apps_;
  size_t size_ = 0;  // instances in apps_
  std::deque<std::pair<int64_t, InstanceInfo>> recent_changes_;  // (ms, instance with action)
  std::deque<Event> events_;
  std::deque<std::pair<int64_t, int64_t>> renew_times_;  // (second, renewals in it) within the last minute
  int expected_clients_ = 0;
  int64_t version_ = 0;
  int64_t evictions_ = 0;
};

}  // namespace op::registry
