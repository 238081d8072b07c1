#pragma once
// Internal to runtime/http: the client's URL split, request bytes and
// response conversion (AsyncClient, and through it the blocking HttpClient),
// and the Asio server engine's request parser and response head.
#include <boost/beast/core/string.hpp>
#include <boost/beast/http/basic_parser.hpp>

#include <optional>
#include <cstdint>
#include <string>

#include "runtime/http/client.h"
#include "runtime/http/types.h"

namespace op::http::wire {

struct Url {
  std::string host, port, host_port, target;
  uint16_t port_number = 80;
};

// Only what a request line and the pool key need: http://authority[/target].
// Hand-written: Debian 12 ships no Boost.URL, and curl_url() (libcurl is
// linked) allocates a handle and runs a full RFC 3986 parse per call, on the
// path of every upstream request; https:// never gets here (it stays on curl).
// Refuses (false) what cannot be put on the wire safely: a port that is not
// 1-65535, a host with anything but letters, digits, '.', '-', '_' (or an
// IPv6 literal in brackets), a target with spaces or control characters
// (CR/LF would split the request).
bool ParseUrl(const std::string& url, Url& out);

// The request as sent: our framing (Content-Length, no Connection or
// Transfer-Encoding from the caller), Host and User-Agent unless given.
// What Serialize would write wrongly: a method that is not a token, a header
// name that is not one, a header value with CR, LF or NUL (one header would
// become two, or a request two). Empty when the request is safe to send.
std::string UnsafeToSend(const ClientRequest& req);
std::string Serialize(const ClientRequest& req, const Url& u, const std::string& user_agent);

// Beast's parser with our own handlers (its documented extension point)
// writing a message straight into our types, where Beast's request_parser /
// response_parser would first build a message with a heap node per header
// field that we then copied. This part, shared by both directions, appends
// the body (plain or chunked) to the string Body() names; the derived parser
// takes the start line and the fields.
template <bool isRequest>
class ParserInto : public boost::beast::http::basic_parser<isRequest> {
 protected:
  using error_code = boost::beast::error_code;
  using string_view = boost::beast::string_view;
  virtual std::string& Body() = 0;

 private:
  void on_header_impl(error_code&) override {}
  void on_body_init_impl(const boost::optional<std::uint64_t>& length, error_code&) override {
    if (length) Body().reserve(size_t(*length));  // bounded by body_limit before this is called
  }
  size_t on_body_impl(string_view body, error_code&) override {
    Body().append(body.data(), body.size());
    return body.size();
  }
  void on_chunk_header_impl(std::uint64_t, string_view, error_code&) override {}
  size_t on_chunk_body_impl(std::uint64_t, string_view body, error_code& ec) override { return on_body_impl(body, ec); }
  void on_finish_impl(error_code&) override {}
};

// Reads a response straight into a ClientResponse.
class ResponseParser : public ParserInto<false> {
 public:
  int status() const { return response_.status; }
  // Moves the parsed status, headers and body into `out`.
  void Take(ClientResponse& out);

 private:
  std::string& Body() override { return response_.body; }
  void on_request_impl(boost::beast::http::verb, string_view, string_view, int, error_code&) override {}
  // Beast takes any three digits; a status outside 100-599 is a broken
  // upstream (passed on, it would make the gateway's own answer invalid).
  void on_response_impl(int code, string_view, int, error_code& ec) override {
    if (code < 100 || code > 599) ec = boost::beast::http::error::bad_status;
    response_.status = code;
  }
  void on_field_impl(boost::beast::http::field, string_view name, string_view value, error_code&) override {
    response_.headers.Add(std::string(name), std::string(value));
  }

  ClientResponse response_;
};
// Reads a request straight into our Request (wire::ParserInto).
class RequestParser : public ParserInto<true> {
 public:
  Request& request() { return request_; }
  unsigned version() const { return version_; }
  bool head() const { return head_; }
  bool expects_continue() const { return expect_continue_; }

 private:
  std::string& Body() override { return request_.body; }
  void on_request_impl(boost::beast::http::verb method, string_view method_str, string_view target, int version, error_code&) override {
    request_.method.assign(method_str.data(), method_str.size());
    head_ = method == boost::beast::http::verb::head;
    version_ = unsigned(version);
    std::string_view t(target.data(), target.size());
    auto q = t.find('?');
    request_.path = std::string(t.substr(0, q));
    if (q != std::string_view::npos) request_.query = ParseQuery(t.substr(q + 1));
  }
  void on_response_impl(int, string_view, int, error_code&) override {}
  void on_field_impl(boost::beast::http::field f, string_view name, string_view value, error_code&) override {
    if (f == boost::beast::http::field::expect && boost::beast::iequals(value, "100-continue")) expect_continue_ = true;
    request_.headers.Add(std::string(name), std::string(value));
  }

  Request request_;
  unsigned version_ = 11;
  bool head_ = false, expect_continue_ = false;
};

// A parser with our limits (64 KiB of header, 64 MiB of body); HEAD has no body.
void ResetParser(std::optional<ResponseParser>& p, const std::string& method);
// An interim answer (100 Continue and friends): the real one follows.
inline bool IsInterim(int status) { return status >= 100 && status < 200 && status != 101; }

// The status line and header of `resp` for a request of HTTP `version` (10 or
// 11), into `out` (cleared; its capacity is reused): our framing
// (Content-Length unless the status has no body, the same for HEAD as for GET;
// Connection as `close` and the version need), the handler's other headers
// with CR and LF replaced so no value can end the header early. The body goes
// out after it as is, unless the request was HEAD or the status is bodiless
// (1xx, 204, 304). Hand-written: one append per piece where Beast's
// serializer allocates a node per header.
void SerializeResponseHead(const Response& resp, unsigned version, bool close, std::string& out);
// A response header's name or value as it may go out: CR, LF and NUL become
// spaces, so no value can end its header (or the response) early. Every
// server engine writes headers through this.
void AppendHeaderText(std::string& out, std::string_view text);
std::string HeaderText(std::string_view text);
// Whether `status` never has a body.
inline bool Bodiless(int status) { return status < 200 || status == 204 || status == 304; }

}  // namespace op::http::wire
