#include "runtime/http/wire_client.h"

#include "runtime/http/wire_format.h"

#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <cerrno>
#include <cstring>
#include <optional>

namespace op::http {

namespace {

namespace bhttp = boost::beast::http;
using Clock = std::chrono::steady_clock;

using wire::Url;

void SetTimeout(int fd, int opt, std::chrono::milliseconds d) {
  timeval tv{};
  auto ms = std::max<int64_t>(1, d.count());
  tv.tv_sec = ms / 1000;
  tv.tv_usec = (ms % 1000) * 1000;
  setsockopt(fd, SOL_SOCKET, opt, &tv, sizeof tv);
}

// Connects with a timeout; -1 and `err` when it cannot.
int Connect(const Url& u, std::chrono::milliseconds timeout, std::string& err, bool& timed_out) {
  addrinfo hints{}, *res = nullptr;
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  if (int rc = getaddrinfo(u.host.c_str(), u.port.c_str(), &hints, &res); rc != 0) {
    err = std::string("could not resolve ") + u.host + ": " + gai_strerror(rc);
    return -1;
  }
  int fd = -1;
  for (addrinfo* ai = res; ai; ai = ai->ai_next) {
    fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, ai->ai_protocol);
    if (fd < 0) continue;
    int rc = connect(fd, ai->ai_addr, ai->ai_addrlen);
    if (rc != 0 && errno == EINPROGRESS) {
      pollfd p{fd, POLLOUT, 0};
      int pr = poll(&p, 1, int(timeout.count()));
      if (pr == 1) {
        int so = 0;
        socklen_t len = sizeof so;
        getsockopt(fd, SOL_SOCKET, SO_ERROR, &so, &len);
        rc = so == 0 ? 0 : -1;
        errno = so;
      } else {
        errno = pr == 0 ? ETIMEDOUT : errno;
        rc = -1;
      }
    }
    if (rc == 0) break;
    err = "connect to " + u.host_port + ": " + std::strerror(errno);
    timed_out = errno == ETIMEDOUT;
    close(fd);
    fd = -1;
  }
  freeaddrinfo(res);
  if (fd < 0) return -1;
  int flags = fcntl(fd, F_GETFL);
  fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);  // blocking from here on, bounded by SO_*TIMEO
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return fd;
}

enum class IoError { kNone, kTimeout, kClosed, kOther };

IoError SendAll(int fd, const std::string& data, std::string& err) {
  size_t off = 0;
  while (off < data.size()) {
    ssize_t n = send(fd, data.data() + off, data.size() - off, MSG_NOSIGNAL);
    if (n > 0) {
      off += size_t(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    err = std::strerror(errno);
    if (errno == EAGAIN || errno == EWOULDBLOCK) return IoError::kTimeout;
    return errno == EPIPE || errno == ECONNRESET ? IoError::kClosed : IoError::kOther;
  }
  return IoError::kNone;
}

}  // namespace

WireClient::~WireClient() {
  for (auto& [hp, conns] : idle_)
    for (auto& c : conns) close(c.fd);
}

WireClient::Conn WireClient::Take(const std::string& host_port, bool* reused) {
  std::lock_guard lock(mu_);
  auto it = idle_.find(host_port);
  if (it != idle_.end() && !it->second.empty()) {
    Conn c = std::move(it->second.back());
    it->second.pop_back();
    *reused = true;
    return c;
  }
  *reused = false;
  return {};
}

void WireClient::Give(const std::string& host_port, Conn c) {
  std::lock_guard lock(mu_);
  auto& v = idle_[host_port];
  if (v.size() < max_idle_per_host_) v.push_back(std::move(c));
  else close(c.fd);
}

ClientResponse WireClient::Send(const ClientRequest& req, std::chrono::milliseconds timeout,
                                std::chrono::milliseconds connect_timeout, const std::string& user_agent) {
  ClientResponse resp;
  const auto start = Clock::now();
  const auto deadline = start + timeout;
  auto fail = [&](ClientResponse::Error e, const std::string& why) {
    resp.error = e;
    resp.error_message = req.method + " " + req.url + ": " + why;
    resp.elapsed = Clock::now() - start;
    return resp;
  };
  Url u;
  if (!wire::ParseUrl(req.url, u)) return fail(ClientResponse::Error::kOther, "not an http:// URL");

  const std::string bytes = wire::Serialize(req, u, user_agent);

  // A pooled connection the server has closed in the meantime fails at once
  // (reset, or end of stream before any byte): then one fresh connection.
  for (int attempt = 0; attempt < 2; ++attempt) {
    bool reused = false;
    Conn c = attempt == 0 ? Take(u.host_port, &reused) : Conn{};
    if (c.fd < 0) {
      std::string err;
      bool timed_out = false;
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
      c.fd = Connect(u, std::min(connect_timeout, std::max(left, std::chrono::milliseconds(1))), err, timed_out);
      if (c.fd < 0) return fail(timed_out ? ClientResponse::Error::kTimeout : ClientResponse::Error::kConnect, err);
    }
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) {
      close(c.fd);
      return fail(ClientResponse::Error::kTimeout, "timed out");
    }
    if (c.timeout_ms != left.count()) {  // a pooled connection called with the same timeout keeps its setting
      SetTimeout(c.fd, SO_SNDTIMEO, left);
      SetTimeout(c.fd, SO_RCVTIMEO, left);
      c.timeout_ms = left.count();
    }
    std::string err;
    IoError io = SendAll(c.fd, bytes, err);
    if (io == IoError::kClosed && reused) {
      close(c.fd);
      continue;
    }
    if (io != IoError::kNone) {
      close(c.fd);
      return fail(io == IoError::kTimeout ? ClientResponse::Error::kTimeout : ClientResponse::Error::kOther, "send: " + err);
    }

    std::optional<wire::ResponseParser> p;
    wire::ResetParser(p, req.method);
    boost::beast::error_code ec;
    std::string buf = std::move(c.pending);
    bool got_bytes = !buf.empty();
    char chunk[16384];
    bool retry_fresh = false;
    for (;;) {
      // Feed what we have: the parser takes the header, then the body, in
      // separate calls; it stops (need_more) when it wants more bytes.
      while (!buf.empty() && !p->is_done()) {
        size_t used = p->put(boost::asio::buffer(buf), ec);
        buf.erase(0, used);
        if (ec == bhttp::error::need_more) {
          ec = {};
          break;
        }
        if (ec) {
          close(c.fd);
          return fail(ClientResponse::Error::kOther, "bad response: " + ec.message());
        }
        if (used == 0) break;
      }
      if (p->is_done()) {
        if (wire::IsInterim(p->status())) {  // the answer follows
          wire::ResetParser(p, req.method);
          continue;
        }
        break;
      }
      ssize_t n = recv(c.fd, chunk, sizeof chunk, 0);
      if (n > 0) {
        buf.append(chunk, size_t(n));
        got_bytes = true;
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        close(c.fd);
        return fail(ClientResponse::Error::kTimeout, "timed out after " + std::to_string(timeout.count()) + " ms");
      }
      if (n == 0 || errno == ECONNRESET) {
        if (!got_bytes && reused) {  // the server had closed the idle connection
          retry_fresh = true;
          break;
        }
        if (n == 0) {  // close-delimited body
          p->put_eof(ec);
          if (!ec && p->is_done()) break;
        }
        close(c.fd);
        return fail(ClientResponse::Error::kOther, "connection closed before a complete response");
      }
      std::string why = std::strerror(errno);
      close(c.fd);
      return fail(ClientResponse::Error::kOther, "recv: " + why);
    }
    if (retry_fresh) {
      close(c.fd);
      continue;
    }
    const bool keep_alive = p->keep_alive();
    p->Take(resp);
    resp.reused_connection = reused;
    resp.elapsed = Clock::now() - start;
    if (keep_alive && buf.empty()) {
      c.pending.clear();
      Give(u.host_port, std::move(c));
    } else {
      close(c.fd);
    }
    return resp;
  }
  return fail(ClientResponse::Error::kConnect, "the pooled connection was closed and a new one failed");
}

}  // namespace op::http
