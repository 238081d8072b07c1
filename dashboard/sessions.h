#pragma once
// Who is looking at the dashboard (DESIGN section 10): a person signs in on
// the page with a viewer or admin identity, the dashboard checks it with
// identity-service (the password grant) and keeps a session, named by a
// random 256-bit id in a cookie (HttpOnly, SameSite=Strict, Secure behind
// TLS). The page's reads need a session; the actions (broker faults,
// dead-letter replay) need admin, a JSON body and a same-origin Origin, so
// no other site can make a signed-in browser act.
//
// Threads: any (one mutex); the store is bounded (oldest dropped first) and
// sessions end after `lifetime`, or `idle` without a request.
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>

#include "runtime/core/clock.h"
#include "runtime/http/types.h"

namespace op::dashboard {

struct Session {
  std::string username;
  std::set<std::string> roles;
  Clock::TimePoint created, last_used;
  bool IsAdmin() const { return roles.count("admin") > 0; }
  // As the caller of a request (Request::principal).
  std::shared_ptr<const auth::Principal> AsPrincipal() const {
    return std::make_shared<auth::Principal>(auth::Principal{username, "", roles, "", {}});
  }
};

class Sessions {
 public:
  struct Limits {
    std::chrono::seconds lifetime{std::chrono::hours(8)};
    std::chrono::seconds idle{std::chrono::minutes(30)};
    size_t max_sessions = 10000;
  };
  explicit Sessions(Limits limits, const Clock& clock = SystemClock::Instance()) : limits_(limits), clock_(clock) {}

  std::string Create(std::string username, std::set<std::string> roles);  // the new session's id
  std::optional<Session> Find(const std::string& id);                      // and marks it used
  void Remove(const std::string& id);
  size_t Size() const;
  const Limits& limits() const { return limits_; }

 private:
  const Limits limits_;
  const Clock& clock_;
  mutable std::mutex mu_;
  std::map<std::string, Session> by_id_;
};

inline constexpr const char* kSessionCookie = "dashboard_session";

// The session id a request's Cookie header carries, if any.
std::optional<std::string> SessionIdOf(const http::Request& req);
// Set-Cookie values: a session's, and one that ends it.
std::string SessionCookie(const std::string& id, const Sessions::Limits& limits, bool secure);
std::string EndedSessionCookie(bool secure);
// Whether the request came over TLS (to the dashboard or a proxy before it).
bool OverTls(const http::Request& req);

// Guards, throwing http::HttpError:
// 401 without a live session;
Session RequireSession(Sessions& sessions, const http::Request& req);
// 415 unless the body is JSON, 403 unless Origin is this page's own;
void RequireSameOriginJson(const http::Request& req);
// both, and 403 unless the session is admin's.
Session RequireAdminAction(Sessions& sessions, const http::Request& req);

}  // namespace op::dashboard
