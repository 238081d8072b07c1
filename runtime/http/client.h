#pragma once
// The blocking HTTP client every service uses. One connection pool serves
// blocking and asynchronous calls alike: http:// goes through an AsyncClient
// (async_client.h: keep-alive connections pooled per host:port, Beast's
// parser) on an event loop of this client's own, the caller waiting for its
// answer; https:// through libcurl (a pool of easy handles, each keeping its
// connections), where TLS is needed. Every call has a total timeout and a
// connect timeout.
//
// Threads: thread-safe. The first http:// call starts the client's loop
// thread ("http-client"); the destructor stops and joins it. Never call Send
// from that loop (a callback of an AsyncClient running on it): it would wait
// for itself.
#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "runtime/http/types.h"

namespace op::http {

struct ClientRequest {
  std::string method = "GET";
  std::string url;
  Headers headers;
  std::string body;
  std::chrono::milliseconds timeout{0};  // 0: the client's default
};

// Whether a second copy of `r` does no harm (RFC 9110 §9.2.2): an idempotent
// method, or a request its sender made safe to repeat with an Idempotency-Key.
// What the client resends on a dropped connection and callers retry.
bool IsIdempotent(const ClientRequest& r);

struct ClientResponse {
  enum class Error { kNone, kConnect, kTimeout, kOther };
  int status = 0;
  Headers headers;
  std::string body;
  Error error = Error::kNone;
  std::string error_message;  // with the URL, for logs
  std::chrono::nanoseconds elapsed{0};
  bool reused_connection = false;  // keep-alive: no new TCP connection was made

  bool ok() const { return error == Error::kNone; }  // got an HTTP response, any status
  nlohmann::json Json() const { return nlohmann::json::parse(body); }
};

struct ClientOptions {
  std::chrono::milliseconds timeout{5000};
  std::chrono::milliseconds connect_timeout{1000};
  size_t max_idle_handles = 64;
  std::string user_agent = "orderplatform";
  std::string ca_file;  // https://: trust this PEM CA bundle instead of the system's
  // https://: skip verifying the peer. Only for a process probing itself
  // over loopback (--health-check), where the name in its certificate is
  // not 127.0.0.1 and the answer's status is all that is read.
  bool loopback_self_probe = false;
};

class AsyncClient;

class HttpClient {
 public:
  explicit HttpClient(ClientOptions options = {});
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  ClientResponse Send(const ClientRequest& request);
  ClientResponse Get(const std::string& url) { return Send({"GET", url, {}, {}, {}}); }
  ClientResponse PostJson(const std::string& url, const nlohmann::json& body);
  ClientResponse PutJson(const std::string& url, const nlohmann::json& body);

 private:
  void* Take();
  void Give(void* handle);
  ClientResponse SendCurl(const ClientRequest& request);
  AsyncClient& Plain();  // http://: the loop and its client, made on first use
  const ClientOptions options_;
  std::mutex mu_;
  std::vector<void*> idle_;
  struct PlainLoop;
  std::once_flag plain_once_;
  std::unique_ptr<PlainLoop> plain_;
};

}  // namespace op::http
