// The services' request parsers on arbitrary bodies and query strings: the
// first byte picks the parser, the rest is the input. Each refuses with an
// HttpError (400/422 problem) or returns; nothing else may escape.
#include <map>
#include <string>

#include "runtime/core/json.h"
#include "runtime/http/types.h"
#include "services/identity/rules.h"
#include "services/inventory/rules.h"
#include "services/order/rules.h"
#include "services/payment/rules.h"

namespace {

void Run(uint8_t which, std::string_view input) {
  if (which % 6 == 4) {  // GET /api/orders?limit=..&cursor=..
    (void)op::order::ParseListQuery(op::http::ParseQuery(input));
    return;
  }
  if (which % 6 == 5) {  // POST /oauth2/token (form, and maybe an Authorization header after a newline)
    auto nl = input.find('\n');
    std::optional<std::string> authorization;
    if (nl != std::string_view::npos) authorization = std::string(input.substr(nl + 1));
    op::identity::OAuthError error;
    (void)op::identity::ParseTokenRequest(op::http::ParseQuery(input.substr(0, nl)), authorization, &error);
    return;
  }
  auto body = op::ParseJson(input);
  if (!body) return;
  switch (which % 6) {
    case 0: (void)op::order::ParseOrderRequest(*body); break;
    case 1: (void)op::inventory::ParseProductInput(*body); break;
    case 2: (void)op::payment::ParseBalance(*body); break;
    case 3: (void)op::payment::ParseDeposit(*body); break;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  try {
    Run(data[0], std::string_view(reinterpret_cast<const char*>(data) + 1, size - 1));
  } catch (const op::http::HttpError&) {
  }
  return 0;
}
