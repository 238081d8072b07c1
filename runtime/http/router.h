#pragma once
// Routes requests by method and path template. Templates are literal segments,
// `{name}` (one segment, captured) and a final `**` (the rest, captured as
// "**"). Literal segments beat parameters, so /api/orders/search wins over
// /api/orders/{id}. Unmatched paths → 404, a path matched for another method
// → 405 with Allow; both as problem+json.
#include <functional>
#include <string>
#include <vector>

#include "runtime/http/types.h"

namespace op::http {

using Handler = std::function<Response(Request&)>;

class Router {
 public:
  Router& Add(std::string method, std::string path_template, Handler h);
  Router& Get(std::string t, Handler h) { return Add("GET", std::move(t), std::move(h)); }
  Router& Post(std::string t, Handler h) { return Add("POST", std::move(t), std::move(h)); }
  Router& Put(std::string t, Handler h) { return Add("PUT", std::move(t), std::move(h)); }
  Router& Delete(std::string t, Handler h) { return Add("DELETE", std::move(t), std::move(h)); }

  struct Match {
    const Handler* handler = nullptr;  // null: not found or method not allowed
    std::string route;                 // the template ("" when not found)
    std::vector<std::string> allowed;  // methods, when the path matched another method
  };
  // Fills req.path_params and req.route on a match.
  Match Find(Request& req) const;
  // Dispatch: the handler's response, or a problem for 404/405.
  Response Handle(Request& req) const;

 private:
  struct Route {
    std::string method, path_template;
    std::vector<std::string> segments;
    Handler handler;
  };
  std::vector<Route> routes_;
};

std::vector<std::string> SplitPath(std::string_view path);

}  // namespace op::http
