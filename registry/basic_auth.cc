#include "registry/basic_auth.h"

#include "runtime/auth/basic.h"

namespace op::registry {

namespace {
// Equal without telling by its timing how much of a guess was right.
bool SameSecret(const std::string& a, const std::string& b) {
  unsigned char diff = a.size() == b.size() ? 0 : 1;
  for (size_t i = 0; i < a.size(); ++i) diff |= static_cast<unsigned char>(a[i] ^ (i < b.size() ? b[i] : 0));
  return diff == 0;
}

}  // namespace

void BasicAuth::DeclareSchema(config::Schema& s) {
  using config::Type;
  s.Add("registry.security.username", Type::kString, "eureka", "the clients' user name (HTTP Basic on /eureka/**)");
  s.Add("registry.security.password", Type::kString, std::nullopt, "the clients' password (required; the stack's is eureka-secret)");
  s.Add("registry.peer-security.username", Type::kString, "eureka-peer", "the peers' user name, for replication");
  s.Add("registry.peer-security.password", Type::kString, "", "the peers' password (required with registry.peers)");
}

BasicAuth BasicAuth::FromConfig(const config::Config& c) {
  Credential clients{c.GetString("registry.security.username"), c.GetString("registry.security.password")};
  if (clients.user.empty() || clients.password.size() < 8)
    throw config::ConfigError("key 'registry.security.password' must be at least 8 characters (and the user name set)");
  std::optional<Credential> peers;
  if (!c.GetString("registry.peer-security.password").empty()) {
    peers = Credential{c.GetString("registry.peer-security.username"), c.GetString("registry.peer-security.password")};
    if (peers->password.size() < 8 || peers->user == clients.user)
      throw config::ConfigError("key 'registry.peer-security.password' must be at least 8 characters, its user another than the clients'");
  } else if (!c.GetList("registry.peers").empty()) {
    throw config::ConfigError("key 'registry.peer-security.password' is required with registry.peers: peers replicate with a credential of their own");
  }
  return BasicAuth(std::move(clients), std::move(peers));
}

BasicAuth::Caller BasicAuth::Check(const http::Request& r) const {
  auto header = r.Header("authorization");
  if (!header) return Caller::kNobody;
  auto given = auth::ParseBasic(*header);
  if (!given) return Caller::kNobody;
  if (peers_ && given->user == peers_->user && SameSecret(given->password, peers_->password)) return Caller::kPeer;
  if (given->user == clients_.user && SameSecret(given->password, clients_.password)) return Caller::kClient;
  return Caller::kNobody;
}

BasicAuth::Caller BasicAuth::Require(const http::Request& r) const {
  auto who = Check(r);
  if (who != Caller::kNobody) return who;
  http::Problem p = http::MakeProblem(401, r.Header("authorization") ? "wrong registry credentials" : "registry credentials are required (HTTP Basic)");
  p.headers.Set("WWW-Authenticate", "Basic realm=\"eureka\", charset=\"UTF-8\"");
  throw http::HttpError(std::move(p));
}

std::string BasicAuth::PeerAuthorization() const {
  return peers_ ? auth::BasicAuthorization(peers_->user, peers_->password) : "";
}

}  // namespace op::registry
