// identity-service: the platform's authorization server (DESIGN section 10).
// Users and their Argon2id password hashes, OAuth 2.0 tokens (access tokens
// as ES256 JWTs, single-use refresh tokens in families), rotating signing
// keys published as a JWKS (identity.h, http_api.h); all in identity_db
// (store.h).
#include <algorithm>
#include <thread>

#include "runtime/service/service.h"
#include "services/identity/http_api.h"
#include "services/identity/identity.h"
#include "services/identity/rules.h"
#include "services/identity/store.h"

namespace op::identity {
namespace {

void DeclareConfig(config::Schema& s) {
  using config::Type;
  s.Add("identity.issuer", Type::kString, "http://127.0.0.1:8085", "the tokens' iss, and the base of the discovery document's URLs");
  s.Add("identity.access-token-ttl", Type::kDuration, "15m", "access token lifetime (at most 15m)");
  s.Add("identity.refresh-token-ttl", Type::kDuration, "720h", "refresh token lifetime");
  s.Add("identity.key-rotation", Type::kDuration, "24h", "a new signing key after this long");
  s.Add("identity.key-publish-ahead", Type::kDuration, "10m",
        "a new key is in the JWKS this long before it signs (more than the verifiers' auth.jwks-refresh-interval)");
  s.Add("identity.clients", Type::kYaml, std::nullopt, "clients of the client_credentials grant: [{id, secret, roles: [...]}]");
  s.Add("identity.demo-users", Type::kBool, "false",
        "create the demo identities at start (alice, bob, carol, dave, admin, viewer; existing users kept)");
  s.Add("identity.trusted-proxies", Type::kStringList, "127.0.0.1", "peers whose X-Forwarded-For names the client (the gateway)");
  s.Add(config::KeySpec{"identity.sign-in.max-failures-per-user", Type::kInt, "5", "failed sign-ins per user name in a window", 1, 1000});
  s.Add(config::KeySpec{"identity.sign-in.max-failures-per-address", Type::kInt, "20", "failed sign-ins per client address in a window", 1, 100000});
  s.Add("identity.sign-in.window", Type::kDuration, "5m", "the failed sign-in window");
  s.Add(config::KeySpec{"identity.password-hash.memory-kib", Type::kInt, "65536", "Argon2id memory cost", 8, 4 << 20});
  s.Add(config::KeySpec{"identity.password-hash.time-cost", Type::kInt, "3", "Argon2id passes", 1, 100});
  s.Add(config::KeySpec{"identity.password-hash.concurrency", Type::kInt, "0",
                        "Argon2id hashes at once, the rest wait briefly or get 503 (0: half the CPUs, at least 1)", 0, 256});
}

IdentityOptions OptionsOf(const config::Config& c) {
  IdentityOptions o;
  o.issuer = c.GetString("identity.issuer");
  while (!o.issuer.empty() && o.issuer.back() == '/') o.issuer.pop_back();
  if (o.issuer.rfind("http://", 0) != 0 && o.issuer.rfind("https://", 0) != 0)
    throw config::ConfigError("key 'identity.issuer' must be an http(s) URL");
  o.access_ttl = std::chrono::duration_cast<std::chrono::seconds>(c.GetDuration("identity.access-token-ttl"));
  if (o.access_ttl < std::chrono::seconds(30) || o.access_ttl > std::chrono::minutes(15))
    throw config::ConfigError("key 'identity.access-token-ttl' must be from 30s to 15m");
  o.refresh_ttl = std::chrono::duration_cast<std::chrono::seconds>(c.GetDuration("identity.refresh-token-ttl"));
  o.keys = {std::chrono::duration_cast<std::chrono::seconds>(c.GetDuration("identity.key-rotation")), o.access_ttl,
            std::chrono::duration_cast<std::chrono::seconds>(c.GetDuration("identity.key-publish-ahead"))};
  if (o.keys.rotate_after < std::chrono::seconds(10)) throw config::ConfigError("key 'identity.key-rotation' must be at least 10s");
  if (o.keys.publish_ahead >= o.keys.rotate_after)
    throw config::ConfigError("key 'identity.key-publish-ahead' must be less than identity.key-rotation");
  auto clients = c.GetYaml("identity.clients");
  if (clients.IsDefined() && !clients.IsNull()) {
    if (!clients.IsSequence()) throw config::ConfigError("key 'identity.clients' must be a list");
    for (const auto& n : clients) {
      if (!n["id"] || !n["secret"]) throw config::ConfigError("key 'identity.clients': every client needs an id and a secret");
      Client cl{n["secret"].as<std::string>(), {}};
      if (cl.secret.size() < 16) throw config::ConfigError("key 'identity.clients': secrets must be at least 16 characters");
      if (n["roles"])
        for (const auto& r : n["roles"]) {
          if (!kRoles.count(r.as<std::string>())) throw config::ConfigError("key 'identity.clients': unknown role " + r.as<std::string>());
          cl.roles.insert(r.as<std::string>());
        }
      o.clients.emplace(n["id"].as<std::string>(), std::move(cl));
    }
  }
  for (const auto& p : c.GetList("identity.trusted-proxies")) o.trusted_proxies.insert(p);
  o.throttle = {int(c.GetInt("identity.sign-in.max-failures-per-user")), int(c.GetInt("identity.sign-in.max-failures-per-address")),
                std::chrono::duration_cast<std::chrono::seconds>(c.GetDuration("identity.sign-in.window"))};
  o.passwords = {uint32_t(c.GetInt("identity.password-hash.time-cost")), uint32_t(c.GetInt("identity.password-hash.memory-kib")), 1};
  // A sign-in flood may take these CPUs, never all of them: token checks and
  // everything else on the host keep the rest.
  o.hashing_concurrency = int(c.GetInt("identity.password-hash.concurrency"));
  if (o.hashing_concurrency == 0) o.hashing_concurrency = std::max(1, int(std::thread::hardware_concurrency()) / 2);
  return o;
}

// DESIGN section 10's demo identities.
void SeedDemoUsers(Identity& id) {
  const std::tuple<const char*, const char*, const char*> users[] = {
      {"alice", "alice-secret", "customer"}, {"bob", "bob-secret", "customer"},   {"carol", "carol-secret", "customer"},
      {"dave", "dave-secret", "customer"},   {"admin", "admin-secret", "admin"}, {"viewer", "viewer-secret", "viewer"}};
  for (const auto& [name, password, role] : users)
    if (!FindUser(id.svc.db(), name)) EnsureUser(id.svc.db(), {name, HashPassword(password, id.options.passwords), {role}});
}

std::unique_ptr<ServiceState> Wire(Service& svc) {
  auto id = std::make_unique<Identity>(svc, OptionsOf(svc.config()));
  if (svc.config().GetBool("identity.demo-users")) SeedDemoUsers(*id);
  AddRoutes(*id);
  return id;
}

}  // namespace
}  // namespace op::identity

int main(int argc, char** argv) {
  op::ServiceSpec spec;
  spec.name = "identity-service";
  spec.default_port = 8085;
  spec.uses_database = true;
  spec.migrations = op::identity::Migrations();
  spec.declare_config = op::identity::DeclareConfig;
  return op::Service::Run(spec, argc, argv, op::identity::Wire);
}
