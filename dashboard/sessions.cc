#include "dashboard/sessions.h"

#include "runtime/auth/jwk.h"

namespace op::dashboard {

std::string Sessions::Create(std::string username, std::set<std::string> roles) {
  std::string id = auth::RandomToken(32);
  const auto now = clock_.Now();
  std::lock_guard lock(mu_);
  // Bounded: past the cap, the oldest sessions go first.
  while (by_id_.size() >= limits_.max_sessions) {
    auto oldest = by_id_.begin();
    for (auto it = by_id_.begin(); it != by_id_.end(); ++it)
      if (it->second.created < oldest->second.created) oldest = it;
    by_id_.erase(oldest);
  }
  by_id_[id] = Session{std::move(username), std::move(roles), now, now};
  return id;
}

std::optional<Session> Sessions::Find(const std::string& id) {
  const auto now = clock_.Now();
  std::lock_guard lock(mu_);
  auto it = by_id_.find(id);
  if (it == by_id_.end()) return std::nullopt;
  if (now - it->second.created >= limits_.lifetime || now - it->second.last_used >= limits_.idle) {
    by_id_.erase(it);
    return std::nullopt;
  }
  it->second.last_used = now;
  return it->second;
}

void Sessions::Remove(const std::string& id) {
  std::lock_guard lock(mu_);
  by_id_.erase(id);
}

size_t Sessions::Size() const {
  std::lock_guard lock(mu_);
  return by_id_.size();
}

std::optional<std::string> SessionIdOf(const http::Request& req) {
  auto header = req.Header("cookie");
  if (!header) return std::nullopt;
  const std::string name = std::string(kSessionCookie) + "=";
  size_t pos = 0;
  while (pos < header->size()) {
    while (pos < header->size() && (*header)[pos] == ' ') ++pos;
    size_t end = header->find(';', pos);
    if (end == std::string::npos) end = header->size();
    if (header->compare(pos, name.size(), name) == 0) {
      std::string id = header->substr(pos + name.size(), end - pos - name.size());
      if (id.empty() || id.size() > 64) return std::nullopt;
      return id;
    }
    pos = end + 1;
  }
  return std::nullopt;
}

bool OverTls(const http::Request& req) { return req.Header("x-forwarded-proto").value_or("") == "https"; }

std::string SessionCookie(const std::string& id, const Sessions::Limits& limits, bool secure) {
  return std::string(kSessionCookie) + "=" + id + "; Path=/; HttpOnly; SameSite=Strict; Max-Age=" +
         std::to_string(limits.lifetime.count()) + (secure ? "; Secure" : "");
}

std::string EndedSessionCookie(bool secure) {
  return std::string(kSessionCookie) + "=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0" + (secure ? "; Secure" : "");
}

Session RequireSession(Sessions& sessions, const http::Request& req) {
  auto id = SessionIdOf(req);
  std::optional<Session> s;
  if (id) s = sessions.Find(*id);
  if (s) return *s;
  http::Problem p = http::MakeProblem(401, "sign in to the dashboard (a viewer or admin identity)");
  p.headers.Set("WWW-Authenticate", "Session realm=\"dashboard\"");
  throw http::HttpError(std::move(p));
}

void RequireSameOriginJson(const http::Request& req) {
  auto type = req.Header("content-type").value_or("");
  if (type.rfind("application/json", 0) != 0) throw http::HttpError(415, "actions take a JSON body (Content-Type: application/json)");
  auto origin = req.Header("origin");
  auto host = req.Header("host");
  const std::string own = std::string(OverTls(req) ? "https://" : "http://") + host.value_or("");
  if (!origin || !host || *origin != own)
    throw http::HttpError(403, "actions come from the dashboard's own page (Origin " + own + ")");
}

Session RequireAdminAction(Sessions& sessions, const http::Request& req) {
  auto s = RequireSession(sessions, req);
  RequireSameOriginJson(req);
  if (!s.IsAdmin()) throw http::HttpError(403, "only admin may do this (" + s.username + " is a viewer)");
  return s;
}

}  // namespace op::dashboard
