#include "runtime/http/types.h"

#include <algorithm>

#include "runtime/core/json.h"

namespace op::http {

namespace {
// ASCII only (header names are tokens): std::tolower consults the locale per
// character, and this runs for every header of every request.
char LowerChar(char c) { return c >= 'A' && c <= 'Z' ? char(c - 'A' + 'a') : c; }
std::string Lower(std::string s) {
  for (char& c : s) c = LowerChar(c);
  return s;
}
// `stored` is lower-case already; `name` may be any case. No allocation.
bool SameName(const std::string& stored, const std::string& name) {
  if (stored.size() != name.size()) return false;
  for (size_t i = 0; i < name.size(); ++i)
    if (stored[i] != LowerChar(name[i])) return false;
  return true;
}
}  // namespace

void Headers::Add(std::string name, std::string value) {
  if (items_.empty()) items_.reserve(16);
  items_.emplace_back(Lower(std::move(name)), std::move(value));
}

void Headers::Set(std::string name, std::string value) {
  Remove(name);
  Add(std::move(name), std::move(value));
}

void Headers::Remove(const std::string& name) {
  items_.erase(std::remove_if(items_.begin(), items_.end(), [&](auto& kv) { return SameName(kv.first, name); }),
               items_.end());
}

std::optional<std::string> Headers::Get(const std::string& name) const {
  for (const auto& [k, v] : items_)
    if (SameName(k, name)) return v;
  return std::nullopt;
}

const std::string& Request::PathParam(const std::string& name) const {
  auto it = path_params.find(name);
  if (it == path_params.end()) throw std::logic_error("route has no path parameter '" + name + "'");
  return it->second;
}

std::optional<std::string> Request::Query(const std::string& name) const {
  auto it = query.find(name);
  if (it == query.end()) return std::nullopt;
  return it->second;
}

nlohmann::json Request::JsonBody() const {
  auto ct = Header("content-type");
  // curl -d sends application/x-www-form-urlencoded by default: accept it as JSON
  if (ct && ct->find("json") == std::string::npos && ct->find("x-www-form-urlencoded") == std::string::npos)
    throw HttpError(MakeProblem(415, "Content-Type must be application/json, got '" + *ct + "'"));
  std::string error;
  auto parsed = ParseJson(body, &error);
  if (!parsed) {
    Problem p = MakeProblem(400, "request body is not valid JSON");
    p.Field("body", error);
    throw HttpError(p);
  }
  nlohmann::json j = std::move(*parsed);
  if (!j.is_object()) {
    Problem p = MakeProblem(400, "request body must be a JSON object");
    p.Field("body", std::string("expected an object, got ") + j.type_name());
    throw HttpError(p);
  }
  return j;
}

Response Response::Json(int status, const nlohmann::json& body) {
  Response r;
  r.status = status;
  r.headers.Set("Content-Type", "application/json");
  r.body = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return r;
}

Response Response::Text(int status, std::string body, std::string content_type) {
  Response r;
  r.status = status;
  r.headers.Set("Content-Type", std::move(content_type));
  r.body = std::move(body);
  return r;
}

Response Response::Empty(int status) {
  Response r;
  r.status = status;
  return r;
}

Response Problem::ToResponse(const std::string& instance) const {
  nlohmann::json j = {{"type", type}, {"title", title.empty() ? ReasonPhrase(status) : title},
                      {"status", status}, {"detail", detail}};
  if (!instance.empty()) j["instance"] = instance;
  if (!errors.empty()) {
    j["errors"] = nlohmann::json::array();
    for (const auto& [field, message] : errors) j["errors"].push_back({{"field", field}, {"message", message}});
  }
  Response r = Response::Json(status, j);
  r.headers.Set("Content-Type", "application/problem+json");
  for (const auto& [k, v] : headers.All()) r.headers.Set(k, v);
  return r;
}

const char* ReasonPhrase(int s) {
  switch (s) {
    case 200: return "OK";
    case 201: return "Created";
    case 202: return "Accepted";
    case 204: return "No Content";
    case 301: return "Moved Permanently";
    case 302: return "Found";
    case 304: return "Not Modified";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 406: return "Not Acceptable";
    case 408: return "Request Timeout";
    case 409: return "Conflict";
    case 413: return "Content Too Large";
    case 415: return "Unsupported Media Type";
    case 422: return "Unprocessable Content";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
  }
  return s < 400 ? "OK" : s < 500 ? "Client Error" : "Server Error";
}

Problem MakeProblem(int status, std::string detail) {
  Problem p;
  p.status = status;
  p.title = ReasonPhrase(status);
  p.detail = std::move(detail);
  return p;
}

void Validation::ThrowIfInvalid(int status, std::string detail) {
  if (Ok()) return;
  problem_.status = status;
  problem_.title = ReasonPhrase(status);
  problem_.detail = std::move(detail);
  throw HttpError(problem_);
}

std::string PercentDecode(std::string_view s, bool plus_as_space) {
  std::string out;
  out.reserve(s.size());
  auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size()) {
      int hi = hex(s[i + 1]), lo = hex(s[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out += char(hi * 16 + lo);
        i += 2;
        continue;
      }
    }
    out += (plus_as_space && s[i] == '+') ? ' ' : s[i];
  }
  return out;
}

std::string PercentEncode(std::string_view s) {
  static const char* d = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') out += char(c);
    else out += '%', out += d[c >> 4], out += d[c & 15];
  }
  return out;
}

std::map<std::string, std::string> ParseQuery(std::string_view qs) {
  std::map<std::string, std::string> out;
  if (!qs.empty() && qs.front() == '?') qs.remove_prefix(1);
  while (!qs.empty()) {
    auto amp = qs.find('&');
    auto part = qs.substr(0, amp);
    if (!part.empty()) {
      auto eq = part.find('=');
      std::string k = PercentDecode(part.substr(0, eq), true);
      std::string v = eq == std::string_view::npos ? "" : PercentDecode(part.substr(eq + 1), true);
      out.emplace(std::move(k), std::move(v));  // first occurrence wins
    }
    if (amp == std::string_view::npos) break;
    qs.remove_prefix(amp + 1);
  }
  return out;
}

}  // namespace op::http
