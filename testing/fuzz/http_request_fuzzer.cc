// Bytes from a client socket → the server's request parser (Beast, with the
// server's limits; pipelined requests one after another) → the server core
// (correlation ids, body limit, method check, router, access check, handler)
// → the response head the Asio engine writes. Each response head must be one
// well-formed header block whatever the request carried.
#include <boost/asio/buffer.hpp>

#include <chrono>
#include <cstdlib>
#include <memory>
#include <string>

#include "runtime/core/json.h"
#include "runtime/http/router.h"
#include "runtime/http/server_core.h"
#include "runtime/http/wire_format.h"
#include "runtime/logging/log.h"

namespace {

using namespace op::http;

std::shared_ptr<HttpServer::Core> MakeCore() {
  auto router = std::make_shared<Router>();
  router->Get("/api/orders/{id}", Access::SignedIn(), [](Request& r) {
    return Response::Json(200, {{"id", r.PathParam("id")}, {"caller", r.principal ? r.principal->subject : ""}});
  });
  router->Post("/api/orders", Access::Roles({"customer"}), [](Request& r) { return Response::Json(202, r.JsonBody()); });
  router->Get("/api/products", Access::Public(), [](Request& r) {
    auto resp = Response::Json(200, {{"q", r.Query("q").value_or("")}});
    resp.headers.Set("X-Echo", r.Header("x-echo").value_or(""));  // a handler copying client text into a header
    return resp;
  });
  router->Put("/api/products/{id}", Access::OwnCustomerOr("id", {"admin"}), [](Request& r) { return Response::Json(200, r.JsonBody()); });
  router->Delete("/api/products/{id}", Access::Public(), [](Request&) -> Response { throw HttpError(409, "in use"); });
  // Any "Bearer <sub>" is a customer whose customer id is <sub>: what matters
  // here is the core's handling of what the client sent, not verification.
  router->SetAuthenticator([](std::string_view token) {
    Verdict v;
    if (token.empty() || token.size() > 64) return v;
    auto p = std::make_shared<op::auth::Principal>();
    p->subject = std::string(token);
    p->customer_id = p->subject;
    p->roles = {"customer"};
    v.principal = p;
    return v;
  });
  auto core = std::make_shared<HttpServer::Core>();
  core->router = router;
  core->options.access_log = false;
  core->options.max_body_bytes = 64 * 1024;
  return core;
}

void CheckHead(const Response& resp) {
  std::string head;
  wire::SerializeResponseHead(resp, 11, false, head);
  if (head.size() < 4 || head.compare(head.size() - 4, 4, "\r\n\r\n") != 0) std::abort();
  if (head.find("\r\n\r\n") != head.size() - 4) std::abort();  // a value ended the header early
  for (size_t i = 0; i < head.size(); ++i)
    if ((head[i] == '\n' && (i == 0 || head[i - 1] != '\r')) || (head[i] == '\r' && head[i + 1] != '\n')) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  op::log::SetLevel(op::log::Level::kError);  // the core logs refusals: not what is measured
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static auto core = MakeCore();
  boost::asio::const_buffer in(data, size);
  for (int requests = 0; requests < 8 && in.size() > 0; ++requests) {
    wire::RequestParser parser;
    parser.header_limit(64 * 1024);
    parser.body_limit(core->options.max_body_bytes + 1);
    boost::beast::error_code ec;
    while (in.size() > 0 && !parser.is_done()) {
      size_t used = parser.put(in, ec);
      in += used;
      if (ec == boost::beast::http::error::need_more) break;
      if (ec) return 0;  // the engine answers 400 (or 413/431) and closes
      if (used == 0) break;
    }
    if (!parser.is_done()) {
      if (!parser.got_some()) return 0;
      parser.put_eof(ec);
      if (ec || !parser.is_done()) return 0;
    }
    Request& req = parser.request();
    Response out;
    bool answered = false;
    core->Serve(req, std::chrono::steady_clock::now(), [&](Response r) {
      out = std::move(r);
      answered = true;
    });
    core->Finish();
    if (!answered) std::abort();  // every handler here is synchronous
    CheckHead(out);
  }
  return 0;
}
