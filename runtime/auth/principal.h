#pragma once
// Who is calling: what a verified access token says (DESIGN section 10).
// Header-only so that runtime/http can carry it on a Request without
// depending on token verification.
#include <chrono>
#include <set>
#include <string>

namespace op::auth {

// The platform's roles.
inline constexpr const char* kCustomer = "customer";  // its own orders, account and notifications
inline constexpr const char* kAdmin = "admin";        // catalog and balance writes, every customer's data
inline constexpr const char* kViewer = "viewer";      // the dashboard, read-only
inline constexpr const char* kService = "service";    // another program (client_credentials): reads any customer's data

struct Principal {
  std::string subject;      // sub
  std::string customer_id;  // customer_id (empty for service and staff tokens)
  std::set<std::string> roles;
  std::string token_id;     // jti
  std::chrono::system_clock::time_point expires;
  bool HasRole(const std::string& role) const { return roles.count(role) > 0; }
  bool HasAnyRole(const std::set<std::string>& any) const {
    for (const auto& r : any)
      if (roles.count(r)) return true;
    return false;
  }
};

}  // namespace op::auth
