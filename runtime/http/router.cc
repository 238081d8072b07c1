#include "runtime/http/router.h"

#include <algorithm>
#include <future>

#include "runtime/core/unavailable.h"
#include "runtime/logging/log.h"

namespace op::http {

Response ErrorResponse(const std::exception& e, const Request& req) {
  if (auto* he = dynamic_cast<const HttpError*>(&e)) return he->problem().ToResponse(req.path);
  if (auto* u = dynamic_cast<const Unavailable*>(&e)) {  // the detail names the dependency, not its error
    log::Warn("dependency unavailable", {{"route", req.route}, {"error", e.what()}});
    Problem p = MakeProblem(503, std::string(u->dependency()) + " is unavailable; try again shortly");
    p.headers.Set("Retry-After", std::to_string(u->retry_after_seconds()));
    return p.ToResponse(req.path);
  }
  log::Error("unhandled exception in handler", {{"route", req.route}, {"error", e.what()}});
  auto id = req.Header("x-request-id").value_or("none");
  return MakeProblem(500, "internal error (request id " + id + ")").ToResponse(req.path);
}

Response ErrorResponse(std::exception_ptr error, const Request& req) {
  try {
    std::rethrow_exception(error);
  } catch (const std::exception& e) {
    return ErrorResponse(e, req);
  } catch (...) {
    return ErrorResponse(std::runtime_error("an exception that is not a std::exception"), req);
  }
}

std::vector<std::string> SplitPath(std::string_view path) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < path.size()) {
    while (i < path.size() && path[i] == '/') ++i;
    size_t j = path.find('/', i);
    if (j == std::string_view::npos) j = path.size();
    if (j > i) out.emplace_back(path.substr(i, j - i));
    i = j;
  }
  return out;
}

Router& Router::Add(std::string method, std::string path_template, Access access, Handler h) {
  auto segs = SplitPath(path_template);
  Insert(Route{std::move(method), std::move(path_template), std::move(segs), std::move(access), std::move(h), {}});
  return *this;
}

Router& Router::AddAsync(std::string method, std::string path_template, Access access, AsyncHandler h) {
  auto segs = SplitPath(path_template);
  Insert(Route{std::move(method), std::move(path_template), std::move(segs), std::move(access), {}, std::move(h)});
  return *this;
}

bool Router::HasAsync() const {
  return std::any_of(routes_.begin(), routes_.end(), [](const Route& r) { return bool(r.async); });
}

void Router::Insert(Route route) {
  routes_.push_back(std::move(route));
  // More literal routes first: at each position a literal beats {param} beats **.
  std::stable_sort(routes_.begin(), routes_.end(), [](const Route& a, const Route& b) {
    size_t n = std::min(a.segments.size(), b.segments.size());
    auto rank = [](const std::string& s) { return s == "**" ? 2 : (s.front() == '{' ? 1 : 0); };
    for (size_t i = 0; i < n; ++i) {
      int ra = rank(a.segments[i]), rb = rank(b.segments[i]);
      if (ra != rb) return ra < rb;
    }
    return false;
  });
}

namespace {
bool MatchSegments(const std::vector<std::string>& tmpl, const std::vector<std::string>& path,
                   std::map<std::string, std::string>& params) {
  size_t i = 0;
  for (; i < tmpl.size(); ++i) {
    const std::string& t = tmpl[i];
    if (t == "**") {
      std::string rest;
      for (size_t j = i; j < path.size(); ++j) rest += (j > i ? "/" : "") + path[j];
      params["**"] = rest;
      return true;
    }
    if (i >= path.size()) return false;
    if (t.size() > 2 && t.front() == '{' && t.back() == '}') {
      params[t.substr(1, t.size() - 2)] = PercentDecode(path[i]);
    } else if (t != path[i]) {
      return false;
    }
  }
  return i == path.size();
}
}  // namespace

Router::Match Router::Find(Request& req) const {
  auto segs = SplitPath(req.path);
  Match m;
  // The first route (in the order added) of the request's method whose
  // template matches; HEAD is served by GET's.
  for (const auto& r : routes_) {
    if (r.method != req.method && !(req.method == "HEAD" && r.method == "GET")) continue;
    std::map<std::string, std::string> params;
    if (!MatchSegments(r.segments, segs, params)) continue;
    if (r.async) m.async = &r.async;
    else m.handler = &r.handler;
    m.access = &r.access;
    m.route = r.path_template;
    req.path_params = std::move(params);
    req.route = r.path_template;
    return m;
  }
  // None: the methods whose routes match the path, for a 405's Allow
  // (looked for only now, not on every request that finds its route).
  for (const auto& r : routes_) {
    std::map<std::string, std::string> params;
    if (MatchSegments(r.segments, segs, params) && std::find(m.allowed.begin(), m.allowed.end(), r.method) == m.allowed.end())
      m.allowed.push_back(r.method);
  }
  return m;
}

Response Router::Handle(Request& req) const {
  Match m = Find(req);
  if (m.access) {
    try {
      Authorize(req, *m.access);
    } catch (const HttpError& e) {
      return e.problem().ToResponse(req.path);
    }
  }
  if (m.handler) return (*m.handler)(req);
  if (m.async) {
    std::promise<Response> done;
    (*m.async)(req, [&done](Response r) { done.set_value(std::move(r)); });
    return done.get_future().get();
  }
  if (!m.allowed.empty()) {
    Problem p = MakeProblem(405, "method " + req.method + " is not allowed on " + req.path);
    std::string allow;
    for (auto& a : m.allowed) allow += (allow.empty() ? "" : ", ") + a;
    p.headers.Set("Allow", allow);
    return p.ToResponse(req.path);
  }
  return MakeProblem(404, "no route for " + req.method + " " + req.path).ToResponse(req.path);
}

}  // namespace op::http
