#pragma once
// Routes requests by method and path template. Templates are literal segments,
// `{name}` (one segment, captured) and a final `**` (the rest, captured as
// "**"). Literal segments beat parameters, so /api/orders/search wins over
// /api/orders/{id}. Unmatched paths → 404, a path matched for another method
// → 405 with Allow; both as problem+json. Every route declares who may call
// it (access.h); the router checks that before the handler runs.
#include <exception>
#include <functional>
#include <string>
#include <vector>

#include "runtime/http/access.h"
#include "runtime/http/types.h"

namespace op::http {

using Handler = std::function<Response(Request&)>;
// Asynchronous handlers start their work and return; the response goes to
// `respond`, called exactly once, from any thread (the request stays valid
// until then). For work that waits on I/O without holding a server thread,
// such as the gateway's upstream calls. Throwing before responding is an
// error response like a synchronous handler's.
using Respond = std::function<void(Response)>;
using AsyncHandler = std::function<void(Request&, Respond)>;

// The answer an exception from a handler stands for: an HttpError's problem;
// anything else is a 500 naming the request id and no internals (the cause
// is logged). The server answers a throwing handler with it; an asynchronous
// handler whose work fails after it returned responds with it.
Response ErrorResponse(const std::exception& e, const Request& req);
// The same for an error handed over as it was caught (e.g. from a committer
// thread); anything not a std::exception is a 500 too.
Response ErrorResponse(std::exception_ptr error, const Request& req);

class Router {
 public:
  Router& Add(std::string method, std::string path_template, Access access, Handler h);
  Router& Get(std::string t, Access a, Handler h) { return Add("GET", std::move(t), std::move(a), std::move(h)); }
  Router& Post(std::string t, Access a, Handler h) { return Add("POST", std::move(t), std::move(a), std::move(h)); }
  Router& Put(std::string t, Access a, Handler h) { return Add("PUT", std::move(t), std::move(a), std::move(h)); }
  Router& Delete(std::string t, Access a, Handler h) { return Add("DELETE", std::move(t), std::move(a), std::move(h)); }
  Router& AddAsync(std::string method, std::string path_template, Access access, AsyncHandler h);
  bool HasAsync() const;
  // Verifies bearer tokens for the routes that are not public (set before
  // the server starts). Without one, those routes answer 401.
  void SetAuthenticator(Authenticator a) { authenticator_ = std::move(a); }
  // Throws HttpError (401/403) unless the matched route's access allows `req`.
  void Authorize(Request& req, const Access& access) const { http::Authorize(req, access, &authenticator_); }

  struct Match {
    const Handler* handler = nullptr;  // null: not found, method not allowed, or asynchronous
    const AsyncHandler* async = nullptr;
    const Access* access = nullptr;    // the route's, on a match
    std::string route;                 // the template ("" when not found)
    std::vector<std::string> allowed;  // methods, when the path matched another method
  };
  // Fills req.path_params and req.route on a match.
  Match Find(Request& req) const;
  // Dispatch: the handler's response (an asynchronous one's is waited for),
  // a problem for 404/405, or 401/403 when the route's access refuses.
  Response Handle(Request& req) const;

 private:
  struct Route {
    std::string method, path_template;
    std::vector<std::string> segments;
    Access access;
    Handler handler;
    AsyncHandler async;
  };
  void Insert(Route r);
  std::vector<Route> routes_;
  Authenticator authenticator_;
};

std::vector<std::string> SplitPath(std::string_view path);

}  // namespace op::http
