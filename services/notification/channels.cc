#include "services/notification/channels.h"

#include <curl/curl.h>

#include <cstring>

#include "runtime/core/time_format.h"

namespace op::notification {

std::string SmtpChannel::Format(const Message& m, const std::string& from) {
  std::string date = FormatRfc3339(std::chrono::system_clock::now());
  return "From: <" + from + ">\r\nTo: <" + m.recipient + ">\r\nSubject: " + m.subject +
         "\r\nMessage-ID: <notification-" + std::to_string(m.id) + "@orderplatform>\r\nX-Order-Id: " + m.order_id +
         "\r\nX-Event-Type: " + m.event_type + "\r\nDate: " + date +
         "\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n" + m.body + "\r\n";
}

namespace {
struct Upload {
  std::string data;
  size_t pos = 0;
};
size_t ReadPayload(char* buf, size_t size, size_t n, void* user) {
  auto* u = static_cast<Upload*>(user);
  size_t len = std::min(size * n, u->data.size() - u->pos);
  std::memcpy(buf, u->data.data() + u->pos, len);
  u->pos += len;
  return len;
}
}  // namespace

SendResult SmtpChannel::Send(const Message& m) const {
  CURL* c = curl_easy_init();
  if (!c) return {false, "curl_easy_init failed"};
  Upload up{Format(m, from_)};
  curl_slist* rcpt = curl_slist_append(nullptr, ("<" + m.recipient + ">").c_str());
  std::string mail_from = "<" + from_ + ">";
  curl_easy_setopt(c, CURLOPT_URL, url_.c_str());
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "smtp,smtps");  // the configured server only: no other protocol
  curl_easy_setopt(c, CURLOPT_MAIL_FROM, mail_from.c_str());
  curl_easy_setopt(c, CURLOPT_MAIL_RCPT, rcpt);
  curl_easy_setopt(c, CURLOPT_READFUNCTION, ReadPayload);
  curl_easy_setopt(c, CURLOPT_READDATA, &up);
  curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, long(timeout_.count()));
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, long(std::min<int64_t>(timeout_.count(), 2000)));
  CURLcode rc = curl_easy_perform(c);
  curl_slist_free_all(rcpt);
  curl_easy_cleanup(c);
  if (rc != CURLE_OK) return {false, std::string("smtp ") + url_ + ": " + curl_easy_strerror(rc)};
  return {true, ""};
}

SendResult SmsWebhookChannel::Send(const Message& m) const {
  auto r = http_.PostJson(url_, {{"to", m.recipient}, {"text", m.subject + ": " + m.body},
                                 {"notificationId", m.id}, {"orderId", m.order_id}});
  if (!r.ok()) return {false, r.error_message};
  if (r.status < 200 || r.status > 299) return {false, "sms webhook answered " + std::to_string(r.status)};
  return {true, ""};
}

}  // namespace op::notification
