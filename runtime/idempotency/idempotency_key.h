#pragma once
// HTTP Idempotency-Key (IETF draft-ietf-httpapi-idempotency-key-header, as
// Stripe does it): the first request with a key runs and its response is
// stored (at least 24 h); a repeat with the same key and the same request
// replays that response (with "Idempotent-Replayed: true"); the same key with
// a different request → 422; while the first is still running → 409. A 5xx or
// an exception forgets the key so the client may retry.
//
// Keys are scoped by route and by caller (the verified token's subject), so one
// client can neither replay nor block another's key; at most 255 printable
// ASCII characters. Expired keys are deleted by PurgeExpired, which the
// runtime runs on a schedule (StartPurging).
// A key left IN_FLIGHT by a crash is taken over after `in_flight_timeout`;
// a service whose effect must not repeat then also records the key with the
// effect (e.g. a unique column) and returns the existing result.
#include <chrono>
#include <memory>
#include <string>

#include "runtime/core/periodic_task.h"

#include "runtime/db/db.h"
#include "runtime/http/router.h"

namespace op::idempotency {

class KeyStore {
 public:
  struct Options {
    std::chrono::seconds ttl{std::chrono::hours(24)};
    std::chrono::seconds in_flight_timeout{60};
  };
  explicit KeyStore(db::ConnectionPool& pool) : KeyStore(pool, Options{}) {}
  KeyStore(db::ConnectionPool& pool, Options options) : pool_(pool), options_(options) {}
  ~KeyStore();

  enum class Outcome { kProceed, kReplay, kInFlight, kMismatch };
  struct Begin {
    Outcome outcome;
    http::Response replay;  // for kReplay
  };
  Begin Start(const std::string& scope, const std::string& key, const std::string& request_hash);
  void Complete(const std::string& scope, const std::string& key, const http::Response& response);
  void Forget(const std::string& scope, const std::string& key);
  // Deletes expired keys, at most `limit` per statement, until none are left.
  size_t PurgeExpired(size_t limit = 10000);
  // Runs PurgeExpired every `interval` on a thread of its own until StopPurging.
  void StartPurging(std::chrono::milliseconds interval);
  void StopPurging();

  // Wraps a handler: no header → runs as is; otherwise the rules above.
  http::Handler Wrap(std::string scope, http::Handler handler);

  static std::string HashRequest(const http::Request& req);  // SHA-256 hex of method, path, body
  // "<route scope> <caller>": the caller is the token's subject ("-" when
  // anonymous), hashed when the two would not fit the 200-character column.
  static std::string CallerScope(const std::string& scope, const http::Request& req);

 private:
  db::ConnectionPool& pool_;
  const Options options_;
  std::unique_ptr<PeriodicTask> purge_;
};

}  // namespace op::idempotency
