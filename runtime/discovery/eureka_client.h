#pragma once
// Eureka discovery client (what Spring Cloud Netflix's client does, for our
// services): registers this instance, renews its lease every renewal
// interval (a 404 means the registry forgot us: register again), cancels on
// shutdown, and keeps a local copy of the registry, refreshed from
// /eureka/apps/delta with the apps hashcode checked (full fetch on mismatch).
// When no registry answers it keeps serving its last view and retries with
// backoff across the configured registry URLs.
//
// Threads: Start() spawns "eureka-client" (renewals and fetches); Stop()
// cancels the lease and joins it.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "runtime/config/config.h"
#include "runtime/discovery/discovery.h"
#include "runtime/core/backoff.h"
#include "runtime/core/periodic_task.h"
#include "runtime/http/client.h"

namespace op::discovery {

// A registry URL the way Eureka clients give credentials,
// http://user:pass@host:8761/eureka, as the URL without them and the HTTP
// Basic Authorization value ("" without credentials; userinfo is
// percent-decoded).
struct CredentialedUrl {
  std::string url;
  std::string authorization;
};
CredentialedUrl SplitCredentials(const std::string& url);

struct EurekaClientOptions {
  std::vector<std::string> service_urls;  // http://host:8761/eureka (credentials taken out)
  std::vector<std::string> authorizations;  // for service_urls[i]: Basic, or ""
  std::string app;                        // "order-service" (shown upper-case)
  std::string instance_id;
  std::string host_name = "127.0.0.1";
  uint16_t port = 0;
  std::map<std::string, std::string> metadata;
  std::chrono::milliseconds renewal_interval{30000};
  std::chrono::milliseconds lease_duration{90000};
  std::chrono::milliseconds fetch_interval{30000};
  bool register_with_eureka = true;
  bool fetch_registry = true;

  static void DeclareSchema(config::Schema& s);
  // app, instance id and port come from the service.
  static EurekaClientOptions FromConfig(const config::Config& c);
};

class EurekaClient : public Discovery {
 public:
  EurekaClient(EurekaClientOptions options, http::HttpClient& http);
  ~EurekaClient() override;

  void SetPort(uint16_t port) { options_.port = port; }  // before Start(): the bound port
  void Start();  // registers (or keeps trying in the background) and starts the thread
  void Stop();   // cancels the lease, stops
  std::vector<Instance> Instances(const std::string& app) override;
  // Changes our status at the registry (re-register with a new dirty timestamp).
  void SetStatus(const std::string& status);

  bool Registered() const { return registered_.load(); }
  std::optional<std::chrono::system_clock::time_point> LastContact() const;
  std::string LastError() const;
  int64_t Fetches() const { return fetches_.load(); }

 private:
  // The "eureka-client" task's step: renews or re-registers, fetches when
  // due; returns the wait until the next is due.
  std::chrono::milliseconds Step();
  bool Register();
  bool Renew();
  bool Fetch(bool full);
  // One request to the first registry that answers; nullopt when none does.
  std::optional<http::ClientResponse> Send(http::ClientRequest r);
  std::string InstanceBody();
  void Contact(bool ok, const std::string& error = "");

  EurekaClientOptions options_;  // port set once before Start(), then read-only
  http::HttpClient& http_;
  std::atomic<bool> registered_{false};
  std::atomic<int64_t> fetches_{0};
  mutable std::mutex state_mu_;  // status, dirty timestamp, cache, last contact
  std::string status_ = "UP";
  int64_t dirty_ms_ = 0;
  std::map<std::string, std::vector<Instance>> cache_;   // APP -> instances
  std::map<std::string, nlohmann::json> raw_;            // instanceId -> instance json (for deltas)
  std::optional<std::chrono::system_clock::time_point> last_contact_;
  std::string last_error_;
  std::atomic<size_t> preferred_url_{0};  // the registry that answered last
  // The task thread's own: when the next renewal and fetch are due.
  std::chrono::steady_clock::time_point next_renew_, next_fetch_;
  Backoff backoff_{{std::chrono::milliseconds(500), std::chrono::milliseconds(10'000), 2.0, false}};
  std::unique_ptr<PeriodicTask> task_;
};

}  // namespace op::discovery
