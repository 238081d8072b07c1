#include "runtime/auth/token_verifier.h"

#include <jwt.h>

#include <array>
#include <climits>
#include <memory>
#include <unordered_map>

#include "runtime/core/json.h"

namespace op::auth {

namespace {

constexpr size_t kMaxTokenBytes = 8192;

struct JwtDeleter {
  void operator()(jwt_t* j) const { jwt_free(j); }
};

TokenVerifier::Result Refuse(std::string why) { return {nullptr, std::move(why)}; }

std::optional<nlohmann::json> JsonSegment(std::string_view segment) {
  auto bytes = Base64UrlDecode(std::string(segment));
  if (!bytes) return std::nullopt;
  auto j = ParseJsonOrDiscarded(*bytes);
  if (j.is_discarded() || !j.is_object()) return std::nullopt;
  return j;
}

bool AudienceMatches(const nlohmann::json& aud, const std::string& want) {
  if (aud.is_string()) return aud.get<std::string>() == want;
  if (!aud.is_array()) return false;
  for (const auto& a : aud)
    if (a.is_string() && a.get<std::string>() == want) return true;
  return false;
}

}  // namespace

// Verified tokens by their text. A full shard drops an arbitrary entry: the
// cost of a miss is one signature check.
class TokenVerifier::Cache {
 public:
  struct Entry {
    std::shared_ptr<const Principal> principal;
    int64_t exp = 0, nbf = 0;  // seconds since the epoch
  };
  std::optional<Entry> Get(std::string_view token) {
    auto& s = ShardOf(token);
    std::lock_guard lock(s.mu);
    auto it = s.map.find(token);
    if (it == s.map.end()) return std::nullopt;
    return it->second;
  }
  void Put(std::string_view token, Entry e) {
    auto& s = ShardOf(token);
    std::lock_guard lock(s.mu);
    if (s.map.size() >= kPerShard) s.map.erase(s.map.begin());
    s.map.emplace(std::string(token), std::move(e));
  }
  void Clear() {
    for (auto& s : shards_) {
      std::lock_guard lock(s.mu);
      s.map.clear();
    }
  }

 private:
  static constexpr size_t kPerShard = 1024;
  struct Hash {
    using is_transparent = void;
    size_t operator()(std::string_view v) const { return std::hash<std::string_view>()(v); }
  };
  struct Shard {
    std::mutex mu;
    std::unordered_map<std::string, Entry, Hash, std::equal_to<>> map;
  };
  Shard& ShardOf(std::string_view token) { return shards_[std::hash<std::string_view>()(token) >> 7 & 15]; }
  std::array<Shard, 16> shards_;
};

TokenVerifier::TokenVerifier(VerifierOptions options, FetchJwks fetch, const Clock& clock)
    : TokenVerifier(std::move(options),
                    FetchKeys([fetch = std::move(fetch)](std::string* error) -> std::optional<KeySource> {
                      auto text = fetch(error);
                      if (!text) return std::nullopt;
                      return KeySource{std::move(*text), ""};
                    }),
                    clock) {}

TokenVerifier::TokenVerifier(VerifierOptions options, FetchKeys fetch, const Clock& clock)
    : options_(std::move(options)), fetch_(std::move(fetch)), clock_(clock), cache_(std::make_unique<Cache>()),
      issuer_(options_.issuer) {}

TokenVerifier::~TokenVerifier() = default;


size_t TokenVerifier::Fetches() const {
  std::lock_guard lock(mu_);
  return fetches_;
}

bool TokenVerifier::Refresh() {
  std::lock_guard fetching(fetch_mu_);
  last_fetch_.reset();
  return Refetch();
}

bool TokenVerifier::Refetch() {
  const auto now = clock_.Now();
  // After a failed fetch (the identity service not up yet) the next may come
  // sooner: a program that starts first must not refuse every token for the
  // whole interval.
  const auto interval = last_fetch_failed_ ? std::min<std::chrono::milliseconds>(options_.min_refetch_interval, std::chrono::seconds(1))
                                           : options_.min_refetch_interval;
  if (last_fetch_ && now - *last_fetch_ < interval) return false;
  last_fetch_ = now;
  last_fetch_failed_ = true;
  std::string error;
  auto got = fetch_(&error);
  {
    std::lock_guard lock(mu_);
    ++fetches_;
  }
  if (!got) return false;
  auto doc = ParseJsonOrDiscarded(got->jwks);
  if (doc.is_discarded()) return false;
  std::map<std::string, Jwk> keys;
  for (auto& k : ParseJwks(doc)) keys.emplace(k.kid, std::move(k));
  {
    std::lock_guard lock(mu_);
    keys_ = std::move(keys);  // a key gone from the JWKS is no longer trusted
    if (options_.issuer.empty() && !got->issuer.empty()) issuer_ = got->issuer;
  }
  cache_->Clear();  // nor is a token it signed
  last_fetch_failed_ = false;
  return true;
}

std::optional<Jwk> TokenVerifier::KeyFor(const std::string& kid) {
  {
    std::lock_guard lock(mu_);
    if (auto it = keys_.find(kid); it != keys_.end()) return it->second;
  }
  std::lock_guard fetching(fetch_mu_);
  {
    std::lock_guard lock(mu_);  // another caller may have fetched it meanwhile
    if (auto it = keys_.find(kid); it != keys_.end()) return it->second;
  }
  if (!Refetch()) return std::nullopt;
  std::lock_guard lock(mu_);
  if (auto it = keys_.find(kid); it != keys_.end()) return it->second;
  return std::nullopt;
}

TokenVerifier::Result TokenVerifier::Verify(std::string_view token) {
  if (token.size() > kMaxTokenBytes) return Refuse("the token is empty or too long");
  const int64_t now = std::chrono::duration_cast<std::chrono::seconds>(clock_.WallNow().time_since_epoch()).count();
  const int64_t skew = options_.max_skew.count();
  if (auto hit = cache_->Get(token)) {
    if (now > hit->exp + skew) return Refuse("the token has expired");
    if (now < hit->nbf - skew) return Refuse("the token is not valid yet");
    return {hit->principal, ""};
  }
  auto r = VerifyUncached(token);
  if (r.principal) {
    // exp and nbf are checked on every hit: a token is remembered past neither.
    int64_t exp = std::chrono::duration_cast<std::chrono::seconds>(r.principal->expires.time_since_epoch()).count();
    cache_->Put(token, {r.principal, exp, r.not_before});
  }
  return r;
}

TokenVerifier::Result TokenVerifier::VerifyUncached(std::string_view token) {
  if (token.empty() || token.size() > kMaxTokenBytes) return Refuse("the token is empty or too long");
  const size_t a = token.find('.'), b = a == std::string_view::npos ? a : token.find('.', a + 1);
  if (b == std::string_view::npos || token.find('.', b + 1) != std::string_view::npos) return Refuse("not a JWS compact token");
  auto header = JsonSegment(token.substr(0, a));
  if (!header) return Refuse("the token's header is not base64url JSON");
  // The algorithm is decided here, before any key is touched.
  const std::string alg = header->value("alg", "");
  if (!options_.algorithms.count(alg)) return Refuse("algorithm '" + alg.substr(0, 16) + "' is not accepted");
  if (!header->contains("kid") || !(*header)["kid"].is_string()) return Refuse("the token has no kid");
  const std::string kid = (*header)["kid"];
  auto key = KeyFor(kid);
  if (!key) {
    auto r = Refuse("unknown signing key");
    std::lock_guard fetching(fetch_mu_);
    std::lock_guard lock(mu_);
    r.unavailable = keys_.empty() || last_fetch_failed_;
    if (r.unavailable) r.error = "the identity service's keys cannot be had";
    return r;
  }
  if (key->alg != alg) return Refuse("the key does not sign with " + alg);

  jwt_t* raw = nullptr;
  const std::string text(token);
  if (jwt_decode(&raw, text.c_str(), reinterpret_cast<const unsigned char*>(key->public_pem.data()),
                 int(key->public_pem.size())) != 0 || !raw)
    return Refuse("bad signature");
  std::unique_ptr<jwt_t, JwtDeleter> jwt(raw);
  if (jwt_get_alg(jwt.get()) != jwt_str_alg(alg.c_str())) return Refuse("bad signature");

  auto claims = JsonSegment(token.substr(a + 1, b - a - 1));
  if (!claims) return Refuse("the token's claims are not base64url JSON");
  const auto& c = *claims;
  std::string issuer;
  {
    std::lock_guard lock(mu_);
    issuer = issuer_;
  }
  if (issuer.empty() || c.value("iss", "") != issuer) return Refuse("wrong issuer");
  if (!c.contains("aud") || !AudienceMatches(c["aud"], options_.audience)) return Refuse("wrong audience");
  const int64_t now = std::chrono::duration_cast<std::chrono::seconds>(clock_.WallNow().time_since_epoch()).count();
  const int64_t skew = options_.max_skew.count();
  if (!c.contains("exp") || !c["exp"].is_number_integer()) return Refuse("the token has no exp");
  if (now > c["exp"].get<int64_t>() + skew) return Refuse("the token has expired");
  if (c.contains("nbf") && (!c["nbf"].is_number_integer() || now < c["nbf"].get<int64_t>() - skew))
    return Refuse("the token is not valid yet");
  if (c.contains("iat") && (!c["iat"].is_number_integer() || now < c["iat"].get<int64_t>() - skew))
    return Refuse("the token was issued in the future");
  if (!c.contains("sub") || !c["sub"].is_string() || c["sub"].get<std::string>().empty()) return Refuse("the token has no sub");

  auto principal = std::make_shared<Principal>();
  auto& p = *principal;
  p.subject = c["sub"];
  if (c.contains("customer_id") && c["customer_id"].is_string()) p.customer_id = c["customer_id"];
  if (c.contains("roles") && c["roles"].is_array())
    for (const auto& r : c["roles"])
      if (r.is_string()) p.roles.insert(r.get<std::string>());
  if (c.contains("jti") && c["jti"].is_string()) p.token_id = c["jti"];
  p.expires = std::chrono::system_clock::time_point(std::chrono::seconds(c["exp"].get<int64_t>()));
  return {std::move(principal), "", c.contains("nbf") ? c["nbf"].get<int64_t>() : INT64_MIN / 2};
}

}  // namespace op::auth
