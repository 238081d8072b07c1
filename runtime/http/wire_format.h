#pragma once
// Internal to runtime/http: what the blocking WireClient and the asynchronous
// AsyncClient share — the URL split, the request bytes and the response
// conversion — so both put the same bytes on the wire and read them the same way.
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <string>

#include "runtime/http/client.h"

namespace op::http::wire {

struct Url {
  std::string host, port, host_port, target;
};

// Only what a request line and the pool key need: http://authority[/target].
// Hand-written: Debian 12 ships no Boost.URL, and curl_url() (libcurl is
// linked) allocates a handle and runs a full RFC 3986 parse per call, on the
// path of every upstream request; https:// never gets here (it stays on curl).
bool ParseUrl(const std::string& url, Url& out);

// The request as sent: our framing (Content-Length, no Connection or
// Transfer-Encoding from the caller), Host and User-Agent unless given.
std::string Serialize(const ClientRequest& req, const Url& u, const std::string& user_agent);

using ResponseParser = boost::beast::http::response_parser<boost::beast::http::string_body>;
// A parser with our limits (64 KiB of header, 64 MiB of body); HEAD has no body.
void ResetParser(std::optional<ResponseParser>& p, const std::string& method);
// An interim answer (100 Continue and friends): the real one follows.
inline bool IsInterim(int status) { return status >= 100 && status < 200 && status != 101; }
// Moves a complete response into `out` (status, headers, body).
void TakeResponse(ResponseParser& p, ClientResponse& out);

}  // namespace op::http::wire
