#include "runtime/idempotency/idempotency_key.h"

#include <optional>

#include <openssl/evp.h>

#include <nlohmann/json.hpp>

#include "runtime/logging/log.h"

namespace op::idempotency {

namespace {
constexpr size_t kScopeColumn = 200;  // idempotency_keys.scope VARCHAR(200)

std::string Sha256Hex(std::string_view a, std::string_view b = {}) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  EVP_DigestInit_ex(ctx, EVP_sha256(), nullptr);
  EVP_DigestUpdate(ctx, a.data(), a.size());
  EVP_DigestUpdate(ctx, b.data(), b.size());
  EVP_DigestFinal_ex(ctx, md, &len);
  EVP_MD_CTX_free(ctx);
  static const char* d = "0123456789abcdef";
  std::string hex;
  for (unsigned i = 0; i < len; ++i) hex += d[md[i] >> 4], hex += d[md[i] & 15];
  return hex;
}
}  // namespace

KeyStore::~KeyStore() { StopPurging(); }

std::string KeyStore::HashRequest(const http::Request& req) {
  return Sha256Hex(req.method + " " + req.path + "\n", req.body);
}

std::string KeyStore::CallerScope(const std::string& scope, const http::Request& req) {
  std::string caller = req.principal ? req.principal->subject : "-";
  if (scope.size() + 1 + caller.size() > kScopeColumn) caller = "sha256:" + Sha256Hex(caller);
  return (scope + " " + caller).substr(0, kScopeColumn);
}

KeyStore::Begin KeyStore::Start(const std::string& scope, const std::string& key,
                                                const std::string& hash) {
  for (int attempt = 0; attempt < 3; ++attempt) {
    try {
      pool_.Exec("INSERT INTO idempotency_keys (scope, idempotency_key, request_hash, state, expires_at) "
                 "VALUES (?, ?, ?, 'IN_FLIGHT', CURRENT_TIMESTAMP(3) + INTERVAL ? SECOND)",
                 scope, key, hash, int64_t(options_.ttl.count()));
      return {Outcome::kProceed, {}};
    } catch (const db::DuplicateKey&) {
    }
    // Read into a record first: the rows hold a connection, the DELETE below needs one.
    struct Stored {
      std::string hash, state;
      int64_t status = 0;
      std::optional<std::string> headers, body;
      bool expired = false, stale = false;
    };
    std::optional<Stored> stored;
    {
      auto rows = pool_.Query(
          "SELECT request_hash, state, status, response_headers, response_body, "
          " expires_at < CURRENT_TIMESTAMP(3) AS expired,"
          " created_at < CURRENT_TIMESTAMP(3) - INTERVAL ? SECOND AS stale "
          "FROM idempotency_keys WHERE scope = ? AND idempotency_key = ?",
          int64_t(options_.in_flight_timeout.count()), scope, key);
      if (rows.Next())
        stored = Stored{rows.String("request_hash"), rows.String("state"), rows.OptInt("status").value_or(0),
                        rows.OptString("response_headers"), rows.OptString("response_body"), rows.Int("expired") == 1,
                        rows.Int("stale") == 1};
    }
    if (!stored) continue;  // forgotten meanwhile: try to insert again
    bool abandoned = stored->state == "IN_FLIGHT" && stored->stale;
    if (stored->expired || abandoned) {
      pool_.Exec("DELETE FROM idempotency_keys WHERE scope = ? AND idempotency_key = ? AND request_hash = ? "
                 "AND state = ?", scope, key, stored->hash, stored->state);
      continue;
    }
    if (stored->hash != hash) return {Outcome::kMismatch, {}};
    if (stored->state == "IN_FLIGHT") return {Outcome::kInFlight, {}};
    http::Response r;
    r.status = int(stored->status);
    for (auto& h : nlohmann::json::parse(stored->headers.value_or("[]"))) r.headers.Add(h[0], h[1]);
    r.body = stored->body.value_or("");
    r.headers.Set("Idempotent-Replayed", "true");
    return {Outcome::kReplay, r};
  }
  throw db::DbError("idempotency key '" + key + "' kept changing while it was read");
}

void KeyStore::Complete(const std::string& scope, const std::string& key, const http::Response& r) {
  nlohmann::json headers = nlohmann::json::array();
  for (const auto& [k, v] : r.headers.All())
    if (k == "content-type" || k == "location") headers.push_back({k, v});
  pool_.Exec("UPDATE idempotency_keys SET state = 'COMPLETED', status = ?, response_headers = ?, response_body = ? "
             "WHERE scope = ? AND idempotency_key = ?",
             r.status, headers.dump(), r.body, scope, key);
}

void KeyStore::Forget(const std::string& scope, const std::string& key) {
  pool_.Exec("DELETE FROM idempotency_keys WHERE scope = ? AND idempotency_key = ?", scope, key);
}

size_t KeyStore::PurgeExpired(size_t limit) {
  size_t total = 0;
  while (true) {  // in slices: one huge DELETE would hold its locks for long
    size_t n = pool_.Exec("DELETE FROM idempotency_keys WHERE expires_at < CURRENT_TIMESTAMP(3) LIMIT ?", int64_t(limit));
    total += n;
    if (n < limit) return total;
  }
}

void KeyStore::StartPurging(std::chrono::milliseconds interval) {
  if (purge_) return;
  purge_ = std::make_unique<PeriodicTask>("idempotency-purge", [this, interval] {
    if (size_t n = PurgeExpired()) log::Info("expired idempotency keys deleted", {{"count", n}});
    return interval;
  }, std::chrono::seconds(30));
  purge_->Start();
}

void KeyStore::StopPurging() {
  if (purge_) purge_->Stop();
}

http::Handler KeyStore::Wrap(std::string scope, http::Handler handler) {
  return [this, route = std::move(scope), handler = std::move(handler)](http::Request& req) -> http::Response {
    auto key = req.Header("idempotency-key");
    if (!key) return handler(req);
    const std::string scope = CallerScope(route, req);
    bool printable = !key->empty() && key->size() <= 255;
    for (unsigned char c : *key) printable = printable && c >= 0x20 && c < 0x7f;
    if (!printable) {
      http::Problem p = http::MakeProblem(400, "invalid Idempotency-Key header");
      p.Field("Idempotency-Key", "must be 1 to 255 printable ASCII characters");
      throw http::HttpError(p);
    }
    auto begin = Start(scope, *key, HashRequest(req));
    switch (begin.outcome) {
      case Outcome::kReplay:
        return begin.replay;
      case Outcome::kMismatch: {
        http::Problem p = http::MakeProblem(422, "Idempotency-Key was already used with a different request");
        p.Field("Idempotency-Key", "reused with a different request body or path");
        throw http::HttpError(p);
      }
      case Outcome::kInFlight: {
        http::Problem p = http::MakeProblem(409, "a request with this Idempotency-Key is still being processed");
        p.headers.Set("Retry-After", "1");
        throw http::HttpError(p);
      }
      case Outcome::kProceed:
        break;
    }
    http::Response resp;
    try {
      resp = handler(req);
    } catch (const http::HttpError& e) {
      if (e.problem().status >= 500) Forget(scope, *key);
      else Complete(scope, *key, e.problem().ToResponse(req.path));
      throw;
    } catch (...) {
      Forget(scope, *key);
      throw;
    }
    if (resp.status >= 500) Forget(scope, *key);
    else Complete(scope, *key, resp);
    return resp;
  };
}

}  // namespace op::idempotency
