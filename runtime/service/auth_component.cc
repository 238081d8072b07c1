#include "runtime/core/backoff.h"
#include "runtime/core/json.h"
#include "runtime/logging/log.h"
#include "runtime/service/components.h"

namespace op {

namespace {
// The path of an http(s) URL, or `fallback` when it has none that can be sent.
std::string PathOf(const std::string& url, const std::string& fallback) {
  const auto scheme = url.find("://");
  if (scheme == std::string::npos || (url.compare(0, scheme, "http") != 0 && url.compare(0, scheme, "https") != 0)) return fallback;
  const auto slash = url.find('/', scheme + 3);
  if (slash == std::string::npos) return fallback;
  std::string path = url.substr(slash, url.find('#', slash) - slash);
  for (unsigned char c : path)
    if (c <= 0x20 || c >= 0x7f) return fallback;
  return path.size() <= 512 ? path : fallback;
}
}  // namespace

void AuthComponent::DeclareSchema(config::Schema& s) {
  using config::Type;
  s.Add("auth.issuer", Type::kString, "",
        "the access tokens' iss (empty: the identity service's, from its discovery document)");
  s.Add("auth.audience", Type::kString, "order-platform", "the access tokens' aud");
  s.Add("auth.identity-service", Type::kString, "identity-service", "the application that publishes the signing keys");
  s.Add(config::KeySpec{"auth.jwks-refetch-interval", Type::kDuration, "10s",
                        "fetch the keys again for an unknown kid at most this often", 1000, 3600000});
  s.Add(config::KeySpec{"auth.jwks-refresh-interval", Type::kDuration, "5m",
                        "fetch the keys again this often (less than identity.key-publish-ahead)", 1000, 86400000});
  s.Add("auth.client-id", Type::kString, "", "this program's OAuth client (client_credentials) for its calls to other services");
  s.Add("auth.client-secret", Type::kString, "", "its secret");
}

AuthComponent::AuthComponent(const config::Config& config, HttpComponent& http, DiscoveryComponent& discovery)
    : identity_app_(config.GetString("auth.identity-service")),
      discovery_(discovery),
      refresh_interval_(config.GetDuration("auth.jwks-refresh-interval")) {
  options_.issuer = config.GetString("auth.issuer");
  while (!options_.issuer.empty() && options_.issuer.back() == '/') options_.issuer.pop_back();
  options_.audience = config.GetString("auth.audience");
  options_.min_refetch_interval = config.GetDuration("auth.jwks-refetch-interval");
  verifier_ = std::make_unique<auth::TokenVerifier>(
      options_, auth::TokenVerifier::FetchKeys([this](std::string* e) { return FetchThroughDiscovery(e); }));
  http.router().SetAuthenticator([this](std::string_view token) -> http::Verdict {
    auto r = verifier_->Verify(token);
    return {std::move(r.principal), std::move(r.error), r.unavailable};
  });
  const std::string id = config.GetString("auth.client-id"), secret = config.GetString("auth.client-secret");
  if (id.empty() != secret.empty())
    throw config::ConfigError("keys 'auth.client-id' and 'auth.client-secret' go together: set both or neither");
  if (id.empty()) return;
  client_tokens_ = std::make_unique<auth::ClientTokens>(
      auth::ClientCredentials{id, secret},
      [this](const std::string& form, const std::string& basic, std::string* error) -> std::optional<auth::ClientTokens::Answer> {
        if (!IdentityKnown(error)) return std::nullopt;
        http::ClientRequest req{"POST", "/oauth2/token", {}, form, {}};
        req.headers.Set("Content-Type", "application/x-www-form-urlencoded");
        req.headers.Set("Authorization", basic);
        auto r = discovery_.services().Call(identity_app_, std::move(req));
        if (!r.response.ok()) {
          *error = r.error;
          return std::nullopt;
        }
        return auth::ClientTokens::Answer{r.response.status, std::move(r.response.body)};
      });
  discovery.services().SetTokenSource([this]() -> std::optional<std::string> {
    std::string error;
    auto token = client_tokens_->Get(&error);
    if (!token) log::Warn("no access token for this program's call", {{"error", error}});
    return token;
  });
}

void AuthComponent::Start() {
  // The first fetch at once; after a failure (the identity service not up
  // yet) again within seconds.
  auto backoff = std::make_shared<Backoff>(BackoffPolicy{std::chrono::milliseconds(500), std::chrono::seconds(15), 2.0, true});
  refresh_ = std::make_unique<PeriodicTask>("jwks-refresh", [this, backoff]() -> std::chrono::milliseconds {
    if (verifier_->Refresh()) {
      backoff->Reset();
      return refresh_interval_;
    }
    return backoff->Next();
  });
  refresh_->Start();
}

void AuthComponent::Stop() { refresh_->Stop(); }

void AuthComponent::UseKeySource(auth::TokenVerifier::FetchKeys fetch) {
  verifier_ = std::make_unique<auth::TokenVerifier>(options_, std::move(fetch));
}

// Until discovery knows an instance (a program starting before the identity
// service, or before its first registry fetch), nothing is called: a call
// would count against the identity service's breaker for no fault of its own.
bool AuthComponent::IdentityKnown(std::string* error) {
  if (!discovery_.discovery().Instances(identity_app_).empty()) return true;
  *error = "no instance of " + identity_app_ + " known yet";
  return false;
}

// The identity service's discovery document names the issuer and where its
// keys are (RFC 8414 §3); both are fetched from an instance found through
// discovery, whatever host the document's URLs name (the gateway's, as
// clients see it).
std::optional<auth::TokenVerifier::KeySource> AuthComponent::FetchThroughDiscovery(std::string* error) {
  if (!IdentityKnown(error)) return std::nullopt;
  discovery::ServiceClient::Options no_token;
  no_token.with_token = false;
  auto meta = discovery_.services().Call(identity_app_, {"GET", "/.well-known/openid-configuration", {}, {}, {}}, no_token);
  if (!meta.ok() || meta.response.status != 200) {
    *error = "no discovery document from " + identity_app_ + ": " + (meta.ok() ? "HTTP " + std::to_string(meta.response.status) : meta.error);
    return std::nullopt;
  }
  auto doc = ParseJsonOrDiscarded(meta.response.body);
  if (!doc.is_object() || !doc.contains("issuer") || !doc["issuer"].is_string() || !doc.contains("jwks_uri") ||
      !doc["jwks_uri"].is_string()) {
    *error = "the discovery document of " + identity_app_ + " has no issuer and jwks_uri";
    return std::nullopt;
  }
  const std::string path = PathOf(doc["jwks_uri"].get<std::string>(), "/.well-known/jwks.json");
  auto keys = discovery_.services().Call(identity_app_, {"GET", path, {}, {}, {}}, no_token);
  if (!keys.ok() || keys.response.status != 200) {
    *error = "no JWKS from " + identity_app_ + ": " + (keys.ok() ? "HTTP " + std::to_string(keys.response.status) : keys.error);
    return std::nullopt;
  }
  return auth::TokenVerifier::KeySource{std::move(keys.response.body), doc["issuer"].get<std::string>()};
}

}  // namespace op
