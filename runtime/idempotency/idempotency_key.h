#pragma once
// HTTP Idempotency-Key (IETF draft-ietf-httpapi-idempotency-key-header, as
// Stripe does it): the first request with a key runs and its response is
// stored (at least 24 h); a repeat with the same key and the same request
// replays that response (with "Idempotent-Replayed: true"); the same key with
// a different request → 422; while the first is still running → 409. A 5xx or
// an exception forgets the key so the client may retry.
//
// Keys are scoped (e.g. per route), at most 255 printable ASCII characters.
// A key left IN_FLIGHT by a crash is taken over after `in_flight_timeout`;
// a service whose effect must not repeat then also records the key with the
// effect (e.g. a unique column) and returns the existing result.
#include <chrono>
#include <string>

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

  enum class Outcome { kProceed, kReplay, kInFlight, kMismatch };
  struct Begin {
    Outcome outcome;
    http::Response replay;  // for kReplay
  };
  Begin Start(const std::string& scope, const std::string& key, const std::string& request_hash);
  void Complete(const std::string& scope, const std::string& key, const http::Response& response);
  void Forget(const std::string& scope, const std::string& key);
  size_t PurgeExpired();

  // Wraps a handler: no header → runs as is; otherwise the rules above.
  http::Handler Wrap(std::string scope, http::Handler handler);

  static std::string HashRequest(const http::Request& req);  // SHA-256 hex of method, path, body

 private:
  db::ConnectionPool& pool_;
  const Options options_;
};

}  // namespace op::idempotency
