// Bytes from an upstream (a service, or anything registered in its place) →
// the client's response parser with its limits, interim answers skipped as
// the client does → a ClientResponse. The first byte picks GET or HEAD (a
// HEAD answer has no body whatever its Content-Length says).
#include <boost/asio/buffer.hpp>

#include <cstdlib>
#include <optional>

#include "runtime/http/wire_format.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::string method = data[0] & 1 ? "HEAD" : "GET";
  boost::asio::const_buffer in(data + 1, size - 1);
  std::optional<op::http::wire::ResponseParser> parser;
  op::http::wire::ResetParser(parser, method);
  boost::beast::error_code ec;
  while (true) {
    while (in.size() > 0 && !parser->is_done()) {
      size_t used = parser->put(in, ec);
      in += used;
      if (ec == boost::beast::http::error::need_more) break;
      if (ec) return 0;  // the client reports a broken upstream
      if (used == 0) break;
    }
    if (!parser->is_done()) {
      if (!parser->got_some()) return 0;  // closed before answering (Beast's read says end_of_stream)
      parser->put_eof(ec);  // the upstream closed
      if (ec || !parser->is_done()) return 0;
    }
    if (!op::http::wire::IsInterim(parser->status())) break;
    op::http::wire::ResetParser(parser, method);  // 1xx: the real answer follows
  }
  op::http::ClientResponse resp;
  parser->Take(resp);
  if (method == "HEAD" && !resp.body.empty()) std::abort();
  if (resp.status < 101 || resp.status > 599) std::abort();  // interim skipped (101 is final), nonsense refused
  return 0;
}
