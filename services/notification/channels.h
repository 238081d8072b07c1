#pragma once
// Delivery channels of notification-service. Each Send either delivers (true)
// or reports why not; the dispatcher retries later.
#include <string>

#include "runtime/http/client.h"

namespace op::notification {

struct Message {
  int64_t id;
  std::string order_id, event_type, recipient, subject, body;
};

struct SendResult {
  bool delivered;
  std::string error;
};

// Email over SMTP with libcurl (smtp://host:port). Plain SMTP: a relay on the
// same network, as in the dev stack; smtps:// URLs use TLS.
class SmtpChannel {
 public:
  SmtpChannel(std::string url, std::string from, std::chrono::milliseconds timeout)
      : url_(std::move(url)), from_(std::move(from)), timeout_(timeout) {}
  SendResult Send(const Message& m) const;
  static std::string Format(const Message& m, const std::string& from);  // RFC 5322 message

 private:
  std::string url_, from_;
  std::chrono::milliseconds timeout_;
};

// SMS through an HTTP webhook: POST {"to","text","notificationId","orderId"}; 2xx = accepted.
class SmsWebhookChannel {
 public:
  SmsWebhookChannel(http::HttpClient& http, std::string url) : http_(http), url_(std::move(url)) {}
  SendResult Send(const Message& m) const;

 private:
  http::HttpClient& http_;
  std::string url_;
};

}  // namespace op::notification
