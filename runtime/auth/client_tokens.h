#pragma once
// A program's own access token (OAuth 2.0 client_credentials, RFC 6749
// §4.4) for its calls to other services: fetched on first use, renewed once
// 80% of its lifetime has passed (so a call never carries a token about to
// expire), and kept while the identity service is unreachable for as long as
// it is still valid. A failed fetch is not retried for a second.
//
// Threads: Get() may be called from any thread; one fetch runs at a time, on
// the calling thread (it blocks: not for event-loop threads).
#include <chrono>
#include <functional>
#include <mutex>
#include <optional>
#include <string>

#include "runtime/core/clock.h"

namespace op::auth {

struct ClientCredentials {
  std::string client_id;
  std::string client_secret;  // never logged
};

class ClientTokens {
 public:
  // Sends the token request: the form body and an HTTP Basic Authorization
  // value; returns the response's status and body, or nullopt and `*error`
  // when there was no response.
  struct Answer {
    int status = 0;
    std::string body;
  };
  using Send = std::function<std::optional<Answer>(const std::string& form, const std::string& basic, std::string* error)>;
  ClientTokens(ClientCredentials credentials, Send send, const Clock& clock = SystemClock::Instance());

  // The access token, or nullopt (and `*error`) when none can be had.
  std::optional<std::string> Get(std::string* error = nullptr);
  size_t Fetches() const;

 private:
  bool Fetch(std::string* error);  // under mu_

  const ClientCredentials credentials_;
  Send send_;
  const Clock& clock_;
  mutable std::mutex mu_;
  std::string token_;
  Clock::TimePoint renew_at_{}, expires_at_{};
  std::optional<Clock::TimePoint> failed_at_;
  std::string last_error_;
  size_t fetches_ = 0;
};

}  // namespace op::auth
