#pragma once
// identity-service's endpoints (DESIGN section 10): POST /api/users,
// GET /api/users/me, POST /oauth2/token (password, refresh_token,
// client_credentials; RFC 6749), POST /oauth2/revoke (RFC 7009),
// GET /.well-known/jwks.json (RFC 7517), GET /.well-known/openid-configuration.
#include "services/identity/identity.h"

namespace op::identity {

void AddRoutes(Identity& id);

}  // namespace op::identity
