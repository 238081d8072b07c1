// The small text parsers every request goes through: percent decoding, query
// strings and forms, the client's URL split (whatever it accepts must make a
// request line with no CR, LF or space in the target), HTTP Basic
// credentials, traceparent.
#include <cstdlib>
#include <string>

#include "runtime/auth/basic.h"
#include "runtime/core/trace_context.h"
#include "runtime/http/types.h"
#include "runtime/http/wire_format.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view s(reinterpret_cast<const char*>(data), size);
  (void)op::http::PercentDecode(s, true);
  (void)op::http::PercentDecode(s, false);
  (void)op::http::ParseQuery(s);
  (void)op::auth::ParseBasic(s);
  (void)op::TraceParent::Parse(std::string(s));

  op::http::wire::Url u;
  std::string url(s);
  if (op::http::wire::ParseUrl(url, u)) {
    if (u.port_number == 0) std::abort();
    if (u.target.find_first_of(" \r\n") != std::string::npos) std::abort();
    if (u.host_port.find_first_of(" \r\n/") != std::string::npos) std::abort();
    op::http::ClientRequest req{"GET", url, {}, {}, {}};
    if (op::http::wire::UnsafeToSend(req).empty()) {
      std::string wire = op::http::wire::Serialize(req, u, "fuzz");
      if (wire.find("\r\n\r\n") != wire.size() - 4) std::abort();  // one request, nothing smuggled after it
    }
  }
  return 0;
}
