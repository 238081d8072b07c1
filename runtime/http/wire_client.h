#pragma once
// The plain-HTTP transport of HttpClient: keep-alive connections pooled per
// host:port, blocking sockets with kernel timeouts (SO_RCVTIMEO/SO_SNDTIMEO),
// so a call on a warm connection costs one send and usually one recv — no
// poll(), no per-call handle setup. Responses are parsed by Boost.Beast's
// HTTP/1.1 parser (chunked, content-length, close-delimited).
//
// Why not libcurl here: a profile of the gateway showed libcurl and its
// poll-per-call ahead of the HTTP server itself (docs/benchmarks.md); https://
// still goes through libcurl.
//
// Thread-safe: each call takes a connection out of the pool and returns it.
#include <chrono>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "runtime/http/client.h"

namespace op::http {

class WireClient {
 public:
  explicit WireClient(size_t max_idle_per_host = 64) : max_idle_per_host_(max_idle_per_host) {}
  ~WireClient();
  WireClient(const WireClient&) = delete;
  WireClient& operator=(const WireClient&) = delete;

  // `url` must start with http://.
  ClientResponse Send(const ClientRequest& req, std::chrono::milliseconds timeout,
                      std::chrono::milliseconds connect_timeout, const std::string& user_agent);

 private:
  struct Conn {
    int fd = -1;
    std::string pending;  // bytes read past the previous response (should stay empty)
    int64_t timeout_ms = -1;  // SO_SNDTIMEO/SO_RCVTIMEO as last set: skip the two syscalls when unchanged
  };
  Conn Take(const std::string& host_port, bool* reused);
  void Give(const std::string& host_port, Conn c);
  size_t max_idle_per_host_;
  std::mutex mu_;
  std::map<std::string, std::vector<Conn>> idle_;
};

}  // namespace op::http
