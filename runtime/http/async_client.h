#pragma once
// Asynchronous plain-HTTP client on an Asio io_context: the gateway's upstream
// calls. The calling thread never waits for the upstream: Send() starts the
// exchange and returns; the io_context's threads carry it and run `done`.
// The one connection pool of runtime/http: HttpClient's blocking http://
// calls go through it too, on a loop of their own. Keep-alive connections
// pooled per host:port (wire_format.h: the request's bytes, Beast's parser), one write per request, Beast's response
// parser, a pooled connection the server closed replaced once transparently,
// one deadline for the whole exchange (connect included). https:// goes
// through the blocking HttpClient (libcurl) on two threads of the client's
// own, off the event loop: correct, not the fast path.
//
// Threads: Send() and After() may be called from any thread. Each connection
// lives on its own strand, so its socket, parser and deadline timer are only
// touched by one thread at a time; `done` runs on that strand (post to your
// own strand before touching your state). With `one_thread_per_loop` (each
// loop is run by one thread, as HttpServer::OneThreadPerLoop() says) a
// connection uses its loop's executor instead: no strand needed, none paid for. The io_contexts must outlive the
// client and be run by someone (HttpServer runs them for its handlers).
// Given several loops (a server's loop per thread), each has its own pool of
// connections, and an exchange started on a thread running one of them
// (CurrentLoop()) stays on that loop: a gateway request and its upstream call
// share one thread. From elsewhere the loops take turns.
#include <boost/asio/io_context.hpp>
#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "runtime/http/client.h"

namespace boost::asio {
class thread_pool;
}

namespace op::http {

class AsyncClient {
 public:
  using Done = std::function<void(ClientResponse)>;
  explicit AsyncClient(boost::asio::io_context& io, ClientOptions options = {}, bool one_thread_per_loop = false);
  explicit AsyncClient(const std::vector<boost::asio::io_context*>& loops, ClientOptions options = {},
                       bool one_thread_per_loop = false);
  ~AsyncClient();
  AsyncClient(const AsyncClient&) = delete;
  AsyncClient& operator=(const AsyncClient&) = delete;

  // `req.url`: http:// or https://; anything else fails at once (kOther).
  // `done` runs exactly once.
  void Send(ClientRequest req, Done done);
  // Runs `fn` after `delay` (a retry's backoff), on the caller's loop as Send.
  void After(std::chrono::nanoseconds delay, std::function<void()> fn);

  struct ConnBase;
  template <class Executor>
  struct Exchange;

 private:
  template <class Executor>
  friend struct Exchange;
  // One event loop and its idle keep-alive connections (bound to it).
  struct Loop {
    boost::asio::io_context* io;
    std::mutex mu;
    std::map<std::string, std::vector<std::unique_ptr<ConnBase>>> idle;
    std::unique_ptr<ConnBase> Take(const std::string& host_port);
    void Give(const std::string& host_port, std::unique_ptr<ConnBase> c, size_t max_idle);
  };
  Loop& Pick();  // the calling thread's loop, else the next in turn

  const ClientOptions options_;
  const bool one_thread_per_loop_;
  std::vector<std::unique_ptr<Loop>> loops_;
  std::atomic<size_t> turn_{0};
  std::mutex mu_;
  std::unique_ptr<HttpClient> tls_client_;            // https://, created on first use
  std::unique_ptr<boost::asio::thread_pool> tls_pool_;  // where its blocking calls wait
};

}  // namespace op::http
