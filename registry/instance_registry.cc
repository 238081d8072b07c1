#include "registry/instance_registry.h"

#include "registry/validation.h"

#include <algorithm>
#include <cmath>

namespace op::registry {

namespace {
constexpr int64_t kDeltaRetentionMs = 3 * 60 * 1000;  // Eureka's retentionTimeInMSInDeltaQueue
constexpr size_t kMaxEvents = 200;
std::string Upper(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), ::toupper);
  return s;
}
}  // namespace

InstanceRegistry::InstanceRegistry(RegistryOptions options, const Clock& clock) : options_(options), clock_(clock) {}

int64_t InstanceRegistry::NowMs() const {
  return std::chrono::duration_cast<std::chrono::milliseconds>(clock_.WallNow().time_since_epoch()).count();
}

std::string InstanceRegistry::Effective(const InstanceInfo& i) {
  return i.overridden_status != "UNKNOWN" && !i.overridden_status.empty() ? i.overridden_status : i.status;
}

void InstanceRegistry::RecordChangeLocked(InstanceInfo i, const std::string& action) {
  int64_t now = NowMs();
  i.action_type = action;
  i.last_updated_timestamp = now;
  recent_changes_.emplace_back(now, std::move(i));
  while (!recent_changes_.empty() && (recent_changes_.front().first < now - kDeltaRetentionMs ||
                                      recent_changes_.size() > options_.max_delta_changes))
    recent_changes_.pop_front();
  ++version_;
}

void InstanceRegistry::EventLocked(const std::string& kind, const InstanceInfo& i) {
  events_.push_back({NowMs(), kind, i.app, i.instance_id, Effective(i)});
  while (events_.size() > kMaxEvents) events_.pop_front();
}

void InstanceRegistry::UpdateExpectedLocked(int delta) { expected_clients_ = std::max(0, expected_clients_ + delta); }

InstanceRegistry::Result InstanceRegistry::Register(InstanceInfo info, bool /*is_replication*/) {
  std::lock_guard lock(mu_);
  int64_t now = NowMs();
  info.app = Upper(info.app);
  auto found = apps_.find(info.app);
  bool exists = found != apps_.end() && found->second.count(info.instance_id);
  if (!exists && size_ >= options_.max_instances) return Result::kFull;
  auto& app = apps_[info.app];
  auto it = app.find(info.instance_id);
  if (it != app.end()) {
    // Keep the stored instance when it is newer (a stale replica of a register).
    if (it->second.last_dirty_timestamp > info.last_dirty_timestamp) info = it->second;
    info.registration_timestamp = it->second.registration_timestamp;
    info.service_up_timestamp = it->second.service_up_timestamp;
    if (it->second.overridden_status != "UNKNOWN" && info.overridden_status == "UNKNOWN")
      info.overridden_status = it->second.overridden_status;
  } else {
    UpdateExpectedLocked(+1);
    info.registration_timestamp = now;
    ++size_;
  }
  if (info.last_dirty_timestamp == 0) info.last_dirty_timestamp = now;
  info.last_renewal_timestamp = now;
  info.eviction_timestamp = 0;
  if (info.status == "UP" && info.service_up_timestamp == 0) info.service_up_timestamp = now;
  info.last_updated_timestamp = now;
  bool is_new = it == app.end();
  app[info.instance_id] = info;
  RecordChangeLocked(info, is_new ? "ADDED" : "MODIFIED");
  EventLocked("REGISTERED", info);
  return Result::kOk;
}

size_t InstanceRegistry::Size() const {
  std::lock_guard lock(mu_);
  return size_;
}

InstanceRegistry::Result InstanceRegistry::Renew(const std::string& app_name, const std::string& id,
                                                 std::optional<int64_t> last_dirty, bool is_replication,
                                                 InstanceInfo* conflicting) {
  std::lock_guard lock(mu_);
  auto app = apps_.find(Upper(app_name));
  if (app == apps_.end()) return Result::kNotFound;
  auto it = app->second.find(id);
  if (it == app->second.end()) return Result::kNotFound;
  InstanceInfo& i = it->second;
  if (last_dirty) {  // InstanceResource.validateDirtyTimestamp
    if (*last_dirty > i.last_dirty_timestamp) return Result::kNotFound;  // caller has newer data: re-register
    if (*last_dirty < i.last_dirty_timestamp && is_replication) {
      if (conflicting) *conflicting = i;
      return Result::kConflict;  // the peer is behind: it takes ours
    }
  }
  int64_t now = NowMs();
  i.last_renewal_timestamp = now;
  // counted per second: a flood of renewals must not grow the registry
  if (renew_times_.empty() || renew_times_.back().first != now / 1000) renew_times_.emplace_back(now / 1000, 0);
  ++renew_times_.back().second;
  while (!renew_times_.empty() && renew_times_.front().first * 1000 < now - 60000) renew_times_.pop_front();
  return Result::kOk;
}

bool InstanceRegistry::Cancel(const std::string& app_name, const std::string& id, bool) {
  std::lock_guard lock(mu_);
  auto app = apps_.find(Upper(app_name));
  if (app == apps_.end()) return false;
  auto it = app->second.find(id);
  if (it == app->second.end()) return false;
  InstanceInfo gone = it->second;
  gone.eviction_timestamp = NowMs();
  app->second.erase(it);
  if (app->second.empty()) apps_.erase(app);
  --size_;
  UpdateExpectedLocked(-1);
  RecordChangeLocked(gone, "DELETED");
  EventLocked("CANCELLED", gone);
  return true;
}

bool InstanceRegistry::StatusUpdate(const std::string& app_name, const std::string& id, const std::string& status) {
  std::lock_guard lock(mu_);
  auto app = apps_.find(Upper(app_name));
  if (app == apps_.end() || !app->second.count(id)) return false;
  InstanceInfo& i = app->second[id];
  i.overridden_status = status;
  i.last_dirty_timestamp = NowMs();
  RecordChangeLocked(i, "MODIFIED");
  EventLocked("STATUS", i);
  return true;
}

bool InstanceRegistry::DeleteStatusOverride(const std::string& app_name, const std::string& id, const std::string& new_status) {
  std::lock_guard lock(mu_);
  auto app = apps_.find(Upper(app_name));
  if (app == apps_.end() || !app->second.count(id)) return false;
  InstanceInfo& i = app->second[id];
  i.overridden_status = "UNKNOWN";
  if (!new_status.empty()) i.status = new_status;
  i.last_dirty_timestamp = NowMs();
  RecordChangeLocked(i, "MODIFIED");
  EventLocked("STATUS", i);
  return true;
}

bool InstanceRegistry::UpdateMetadata(const std::string& app_name, const std::string& id,
                                      const std::map<std::string, std::string>& kv) {
  std::lock_guard lock(mu_);
  auto app = apps_.find(Upper(app_name));
  if (app == apps_.end() || !app->second.count(id)) return false;
  InstanceInfo& i = app->second[id];
  auto merged = i.metadata;
  for (const auto& [k, v] : kv) merged[k] = v;
  ValidateMetadata(merged);  // the caps hold after a merge too
  i.metadata = std::move(merged);
  RecordChangeLocked(i, "MODIFIED");
  return true;
}

int64_t InstanceRegistry::RenewsLastMinuteLocked() const {
  int64_t now = NowMs();
  int64_t n = 0;
  for (const auto& [second, count] : renew_times_)
    if (second * 1000 >= now - 60000) n += count;
  return n;
}

int64_t InstanceRegistry::ThresholdLocked() const {
  double per_client = 60.0 / options_.expected_client_renewal_interval_secs;
  return int64_t(std::floor(expected_clients_ * per_client * options_.renewal_percent_threshold));
}

bool InstanceRegistry::SelfPreservationActive() const {
  std::lock_guard lock(mu_);
  return options_.enable_self_preservation && expected_clients_ > 0 && RenewsLastMinuteLocked() < ThresholdLocked();
}

int64_t InstanceRegistry::RenewsLastMinute() const {
  std::lock_guard lock(mu_);
  return RenewsLastMinuteLocked();
}

int64_t InstanceRegistry::RenewsThreshold() const {
  std::lock_guard lock(mu_);
  return ThresholdLocked();
}

std::vector<InstanceInfo> InstanceRegistry::Evict() {
  std::lock_guard lock(mu_);
  bool preserving = options_.enable_self_preservation && expected_clients_ > 0 && RenewsLastMinuteLocked() < ThresholdLocked();
  std::vector<InstanceInfo> evicted;
  if (preserving) return evicted;
  int64_t now = NowMs();
  std::vector<std::pair<std::string, std::string>> expired;
  size_t total = 0;
  for (const auto& [app, instances] : apps_)
    for (const auto& [id, i] : instances) {
      ++total;
      if (now > i.last_renewal_timestamp + int64_t(i.duration_secs) * 1000) expired.emplace_back(app, id);
    }
  // Like Eureka: never evict more than (1 - threshold) of the registry in one
  // sweep, so a partial outage drains slowly instead of at once.
  size_t limit = total - size_t(std::floor(double(total) * options_.renewal_percent_threshold));
  if (!options_.enable_self_preservation) limit = expired.size();
  if (expired.size() > limit && limit > 0) {
    // random choice, as Eureka does, so no app is starved of evictions
    uint64_t seed = uint64_t(now);
    for (size_t k = expired.size() - 1; k > 0; --k) {
      seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
      std::swap(expired[k], expired[size_t(seed >> 33) % (k + 1)]);
    }
    expired.resize(limit);
  }
  for (const auto& [app, id] : expired) {
    auto& instances = apps_[app];
    InstanceInfo gone = instances[id];
    gone.eviction_timestamp = now;
    instances.erase(id);
    if (instances.empty()) apps_.erase(app);
    --size_;
    UpdateExpectedLocked(-1);
    RecordChangeLocked(gone, "DELETED");
    EventLocked("EVICTED", gone);
    ++evictions_;
    evicted.push_back(gone);
  }
  return evicted;
}

std::vector<InstanceInfo> InstanceRegistry::Instances() const {
  std::lock_guard lock(mu_);
  std::vector<InstanceInfo> out;
  for (const auto& [app, instances] : apps_)
    for (const auto& [id, i] : instances) out.push_back(i);
  return out;
}

std::vector<InstanceInfo> InstanceRegistry::App(const std::string& app) const {
  std::lock_guard lock(mu_);
  std::vector<InstanceInfo> out;
  auto it = apps_.find(Upper(app));
  if (it != apps_.end())
    for (const auto& [id, i] : it->second) out.push_back(i);
  return out;
}

std::optional<InstanceInfo> InstanceRegistry::Get(const std::string& app, const std::string& id) const {
  std::lock_guard lock(mu_);
  auto it = apps_.find(Upper(app));
  if (it == apps_.end() || !it->second.count(id)) return std::nullopt;
  return it->second.at(id);
}

std::optional<InstanceInfo> InstanceRegistry::FindById(const std::string& id) const {
  std::lock_guard lock(mu_);
  for (const auto& [app, instances] : apps_)
    if (instances.count(id)) return instances.at(id);
  return std::nullopt;
}

std::vector<InstanceInfo> InstanceRegistry::Delta() const {
  std::lock_guard lock(mu_);
  int64_t now = NowMs();
  std::vector<InstanceInfo> out;
  for (const auto& [at, i] : recent_changes_)
    if (at >= now - kDeltaRetentionMs) out.push_back(i);
  return out;
}

int64_t InstanceRegistry::Version() const {
  std::lock_guard lock(mu_);
  return version_;
}

std::string InstanceRegistry::AppsHashCode() const {
  std::lock_guard lock(mu_);
  std::map<std::string, int> counts;
  for (const auto& [app, instances] : apps_)
    for (const auto& [id, i] : instances) counts[Effective(i)]++;
  std::string out;
  for (const auto& [status, n] : counts) out += status + "_" + std::to_string(n) + "_";
  return out;
}

std::vector<InstanceRegistry::Event> InstanceRegistry::RecentEvents(size_t max) const {
  std::lock_guard lock(mu_);
  std::vector<Event> out(events_.rbegin(), events_.rend());
  if (out.size() > max) out.resize(max);
  return out;
}

}  // namespace op::registry
