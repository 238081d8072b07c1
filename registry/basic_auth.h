#pragma once
// HTTP Basic on the registry (DESIGN section 10), as secured Eureka servers
// do it: every /eureka/** call names a credential, the clients' or the
// peers'. Only a peer's request may carry the replication header (a client
// claiming it could keep its change from reaching the other nodes, or
// register with another node's authority).
#include <optional>
#include <string>

#include "runtime/config/config.h"
#include "runtime/http/types.h"

namespace op::registry {

struct Credential {
  std::string user, password;
};

class BasicAuth {
 public:
  static void DeclareSchema(config::Schema& s);
  // Throws ConfigError: no client password, or peers without a peer password.
  static BasicAuth FromConfig(const config::Config& c);
  BasicAuth(Credential clients, std::optional<Credential> peers) : clients_(std::move(clients)), peers_(std::move(peers)) {}

  enum class Caller { kNobody, kClient, kPeer };
  Caller Check(const http::Request& r) const;
  // The caller, or HttpError 401 with `WWW-Authenticate: Basic realm="eureka"`.
  Caller Require(const http::Request& r) const;
  // The Authorization value a peer sends ("" without a peer credential).
  std::string PeerAuthorization() const;

 private:
  Credential clients_;
  std::optional<Credential> peers_;
};

}  // namespace op::registry
