#include "runtime/http/wire_format.h"

#include <algorithm>
#include <cctype>
#include <charconv>

#include <strings.h>

namespace op::http::wire {

namespace {
bool HostChars(std::string_view h, bool v6) {
  return !h.empty() && h.size() <= 253 && std::all_of(h.begin(), h.end(), [v6](unsigned char c) {
    return v6 ? (std::isxdigit(c) || c == ':' || c == '.') : (std::isalnum(c) || c == '.' || c == '-' || c == '_');
  });
}
}  // namespace

bool ParseUrl(const std::string& url, Url& out) {
  const std::string scheme = "http://";
  if (url.compare(0, scheme.size(), scheme) != 0) return false;
  size_t start = scheme.size();
  size_t slash = url.find_first_of("/?", start);
  std::string authority = url.substr(start, slash == std::string::npos ? std::string::npos : slash - start);
  out.target = slash == std::string::npos ? "/" : url.substr(slash);
  if (!out.target.empty() && out.target[0] == '?') out.target = "/" + out.target;
  if (std::any_of(out.target.begin(), out.target.end(), [](unsigned char c) { return c <= 0x20 || c == 0x7f; })) return false;
  if (authority.empty() || authority.find('@') != std::string::npos) return false;
  bool v6 = authority[0] == '[';
  if (v6) {  // [v6]:port
    size_t close = authority.find(']');
    if (close == std::string::npos) return false;
    out.host = authority.substr(1, close - 1);
    if (close + 1 < authority.size() && authority[close + 1] != ':') return false;
    out.port = close + 1 < authority.size() ? authority.substr(close + 2) : "80";
  } else if (size_t colon = authority.rfind(':'); colon != std::string::npos) {
    out.host = authority.substr(0, colon);
    out.port = authority.substr(colon + 1);
  } else {
    out.host = authority;
    out.port = "80";
  }
  if (!HostChars(out.host, v6)) return false;
  unsigned port = 0;
  auto [end, ec] = std::from_chars(out.port.data(), out.port.data() + out.port.size(), port);
  if (ec != std::errc() || end != out.port.data() + out.port.size() || port == 0 || port > 65535) return false;
  out.port_number = uint16_t(port);
  out.host_port = authority;
  return true;
}

namespace {
// RFC 9110 §5.6.2 tchar
bool Token(std::string_view t) {
  return !t.empty() && std::all_of(t.begin(), t.end(), [](unsigned char c) {
    return std::isalnum(c) || std::string_view("!#$%&'*+-.^_`|~").find(char(c)) != std::string_view::npos;
  });
}
}  // namespace

std::string UnsafeToSend(const ClientRequest& req) {
  if (!Token(req.method)) return "the method is not an HTTP token";
  for (const auto& [k, v] : req.headers.All()) {
    if (!Token(k)) return "header name '" + k.substr(0, 40) + "' is not an HTTP token";
    if (v.find_first_of(std::string_view("\r\n\0", 3)) != std::string::npos) return "header " + k + " has CR, LF or NUL in its value";
  }
  return "";
}

std::string Serialize(const ClientRequest& req, const Url& u, const std::string& user_agent) {
  std::string wire;
  size_t size = 128 + req.method.size() + u.target.size() + u.host_port.size() + user_agent.size() + req.body.size();
  for (const auto& [k, v] : req.headers.All()) size += k.size() + v.size() + 4;
  wire.reserve(size);
  // appended piece by piece: no temporary string per header
  wire.append(req.method).append(" ").append(u.target).append(" HTTP/1.1\r\n");
  bool has_host = false, has_ua = false;
  for (const auto& [k, v] : req.headers.All()) {
    if (strcasecmp(k.c_str(), "content-length") == 0 || strcasecmp(k.c_str(), "connection") == 0 ||
        strcasecmp(k.c_str(), "transfer-encoding") == 0)
      continue;  // framing is ours
    has_host |= strcasecmp(k.c_str(), "host") == 0;
    has_ua |= strcasecmp(k.c_str(), "user-agent") == 0;
    wire.append(k).append(": ").append(v).append("\r\n");
  }
  if (!has_host) wire.append("Host: ").append(u.host_port).append("\r\n");
  if (!has_ua) wire.append("User-Agent: ").append(user_agent).append("\r\n");
  if (!req.body.empty() || req.method == "POST" || req.method == "PUT" || req.method == "PATCH")
    wire.append("Content-Length: ").append(std::to_string(req.body.size())).append("\r\n");
  wire += "\r\n";
  wire += req.body;
  return wire;
}

void ResetParser(std::optional<ResponseParser>& p, const std::string& method) {
  p.emplace();
  p->header_limit(64 * 1024);
  p->body_limit(64 * 1024 * 1024);
  if (method == "HEAD") p->skip(true);
}

void ResponseParser::Take(ClientResponse& out) {
  out.status = response_.status;
  out.headers = std::move(response_.headers);
  out.body = std::move(response_.body);
}

void AppendHeaderText(std::string& out, std::string_view text) {
  if (text.find_first_of(std::string_view("\r\n\0", 3)) == std::string_view::npos) {
    out.append(text);
    return;
  }
  for (char c : text) out.push_back(c == '\r' || c == '\n' || c == '\0' ? ' ' : c);
}

std::string HeaderText(std::string_view text) {
  std::string out;
  AppendHeaderText(out, text);
  return out;
}

void SerializeResponseHead(const Response& resp, unsigned version, bool close, std::string& out) {
  out.clear();
  out.append(version == 10 ? "HTTP/1.0 " : "HTTP/1.1 ").append(std::to_string(resp.status)).append(" ");
  out.append(ReasonPhrase(resp.status)).append("\r\n");
  for (const auto& [k, v] : resp.headers.All()) {
    if (k == "content-length" || k == "connection" || k == "transfer-encoding") continue;  // framing is ours
    AppendHeaderText(out, k);
    out.append(": ");
    AppendHeaderText(out, v);
    out.append("\r\n");
  }
  if (!Bodiless(resp.status)) out.append("Content-Length: ").append(std::to_string(resp.body.size())).append("\r\n");
  // HTTP/1.1 keeps the connection unless told; HTTP/1.0 closes it unless told.
  if (version == 10 && !close) out.append("Connection: keep-alive\r\n");
  if (version != 10 && close) out.append("Connection: close\r\n");
  out.append("\r\n");
}

}  // namespace op::http::wire
