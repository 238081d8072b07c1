#include "runtime/http/client.h"

#include <curl/curl.h>

#include <pthread.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

#include <algorithm>
#include <future>
#include <thread>

#include "runtime/http/async_client.h"

namespace op::http {

namespace {

std::once_flag g_curl_init;

size_t WriteBody(char* data, size_t size, size_t n, void* user) {
  static_cast<std::string*>(user)->append(data, size * n);
  return size * n;
}

size_t WriteHeader(char* data, size_t size, size_t n, void* user) {
  auto* headers = static_cast<Headers*>(user);
  std::string_view line(data, size * n);
  if (line.rfind("HTTP/", 0) == 0) {
    *headers = Headers();  // a new response (after 100-continue or a redirect)
    return size * n;
  }
  auto colon = line.find(':');
  if (colon != std::string_view::npos) {
    auto trim = [](std::string_view s) {
      while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
      while (!s.empty() && (s.back() == '\r' || s.back() == '\n' || s.back() == ' ')) s.remove_suffix(1);
      return std::string(s);
    };
    headers->Add(trim(line.substr(0, colon)), trim(line.substr(colon + 1)));
  }
  return size * n;
}

}  // namespace

// The loop http:// calls run on: one thread of the client's own.
struct HttpClient::PlainLoop {
  boost::asio::io_context io;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work{io.get_executor()};
  std::unique_ptr<AsyncClient> client;
  std::thread thread;
  ~PlainLoop() {
    // No call is in flight (callers wait inside Send): stop the loop, then
    // close the idle connections from here, no thread running them.
    work.reset();
    io.stop();
    if (thread.joinable()) thread.join();
    client.reset();
  }
};

HttpClient::HttpClient(ClientOptions options) : options_(std::move(options)) {
  std::call_once(g_curl_init, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

HttpClient::~HttpClient() {
  plain_.reset();
  for (void* h : idle_) curl_easy_cleanup(static_cast<CURL*>(h));
}

AsyncClient& HttpClient::Plain() {
  std::call_once(plain_once_, [this] {
    auto loop = std::make_unique<PlainLoop>();
    // One thread runs the loop: its connections need no strands.
    loop->client = std::make_unique<AsyncClient>(loop->io, options_, /*one_thread_per_loop=*/true);
    loop->thread = std::thread([io = &loop->io] {
      pthread_setname_np(pthread_self(), "http-client");
      io->run();
    });
    plain_ = std::move(loop);
  });
  return *plain_->client;
}

void* HttpClient::Take() {
  {
    std::lock_guard lock(mu_);
    if (!idle_.empty()) {
      void* h = idle_.back();
      idle_.pop_back();
      return h;
    }
  }
  return curl_easy_init();
}

void HttpClient::Give(void* h) {
  std::lock_guard lock(mu_);
  if (idle_.size() < options_.max_idle_handles) idle_.push_back(h);
  else curl_easy_cleanup(static_cast<CURL*>(h));
}

ClientResponse HttpClient::Send(const ClientRequest& req) {
  if (req.url.rfind("http://", 0) != 0) return SendCurl(req);
  // The exchange has a deadline (the request's timeout, else the client's),
  // so `done` always runs and the wait ends.
  std::promise<ClientResponse> answer;
  auto got = answer.get_future();
  Plain().Send(req, [&answer](ClientResponse r) { answer.set_value(std::move(r)); });
  return got.get();
}

ClientResponse HttpClient::SendCurl(const ClientRequest& req) {
  ClientResponse resp;
  CURL* c = static_cast<CURL*>(Take());
  if (!c) {
    resp.error = ClientResponse::Error::kOther;
    resp.error_message = "curl_easy_init failed";
    return resp;
  }
  curl_easy_reset(c);  // keeps the handle's live connections
  auto timeout = req.timeout.count() > 0 ? req.timeout : options_.timeout;
  curl_easy_setopt(c, CURLOPT_URL, req.url.c_str());
  // Only https reaches libcurl (http:// has its own client): never file://,
  // gopher:// or any other protocol a URL from outside could name.
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "https");
  curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "https");
  curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, req.method.c_str());
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, long(timeout.count()));
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, long(std::min(timeout, options_.connect_timeout).count()));
  curl_easy_setopt(c, CURLOPT_USERAGENT, options_.user_agent.c_str());
  if (!options_.ca_file.empty()) curl_easy_setopt(c, CURLOPT_CAINFO, options_.ca_file.c_str());
  if (options_.loopback_self_probe) {
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 0L);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);
  }
  curl_easy_setopt(c, CURLOPT_TCP_NODELAY, 1L);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, WriteBody);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &resp.body);
  curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, WriteHeader);
  curl_easy_setopt(c, CURLOPT_HEADERDATA, &resp.headers);
  if (req.method == "HEAD") curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
  if (!req.body.empty() || req.method == "POST" || req.method == "PUT" || req.method == "PATCH") {
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, req.body.data());
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(req.body.size()));
  }
  curl_slist* list = nullptr;
  for (const auto& [k, v] : req.headers.All()) list = curl_slist_append(list, (k + ": " + v).c_str());
  list = curl_slist_append(list, "Expect:");  // no 100-continue round trip
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, list);

  auto start = std::chrono::steady_clock::now();
  CURLcode rc = curl_easy_perform(c);
  resp.elapsed = std::chrono::steady_clock::now() - start;
  curl_slist_free_all(list);

  if (rc == CURLE_OK) {
    long status = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    resp.status = int(status);
    long connects = 0;
    curl_easy_getinfo(c, CURLINFO_NUM_CONNECTS, &connects);
    resp.reused_connection = connects == 0;
  } else {
    resp.error = rc == CURLE_OPERATION_TIMEDOUT ? ClientResponse::Error::kTimeout
                 : (rc == CURLE_COULDNT_CONNECT || rc == CURLE_COULDNT_RESOLVE_HOST)
                     ? ClientResponse::Error::kConnect
                     : ClientResponse::Error::kOther;
    resp.error_message = req.method + " " + req.url + ": " + curl_easy_strerror(rc);
  }
  Give(c);
  return resp;
}

bool IsIdempotent(const ClientRequest& r) {
  return r.method == "GET" || r.method == "HEAD" || r.method == "PUT" || r.method == "DELETE" || r.method == "OPTIONS" ||
         r.headers.Get("idempotency-key").has_value();
}

ClientResponse HttpClient::PostJson(const std::string& url, const nlohmann::json& body) {
  ClientRequest r{"POST", url, {}, body.dump(), {}};
  r.headers.Set("Content-Type", "application/json");
  return Send(r);
}

ClientResponse HttpClient::PutJson(const std::string& url, const nlohmann::json& body) {
  ClientRequest r{"PUT", url, {}, body.dump(), {}};
  r.headers.Set("Content-Type", "application/json");
  return Send(r);
}

}  // namespace op::http
