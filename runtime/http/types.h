#pragma once
// HTTP request/response values that handlers see. Nothing here knows Pistache
// or libcurl: handlers are plain functions of Request -> Response.
#include <nlohmann/json.hpp>

#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "runtime/auth/principal.h"

namespace op::http {

// Case-insensitive header lookup (names stored lower-case).
class Headers {
 public:
  void Add(std::string name, std::string value);
  void Set(std::string name, std::string value);  // replaces every value of name
  void Remove(const std::string& name);
  // Removes every header whose lower-case name satisfies `drop(name)`.
  template <class Pred>
  void RemoveIf(Pred drop) {
    std::erase_if(items_, [&](const auto& kv) { return drop(kv.first); });
  }
  std::optional<std::string> Get(const std::string& name) const;
  const std::vector<std::pair<std::string, std::string>>& All() const { return items_; }

 private:
  std::vector<std::pair<std::string, std::string>> items_;
};

struct Request {
  std::string method;  // upper-case
  std::string path;    // without the query string, percent-decoded per segment by the router
  std::map<std::string, std::string> query;        // decoded
  std::map<std::string, std::string> path_params;  // filled by the router
  Headers headers;
  std::string body;
  std::string remote;        // "ip:port"
  bool secure = false;       // it came over TLS (the server's own listener)
  std::string route;         // the matched template, e.g. "/api/orders/{id}"
  std::shared_ptr<const auth::Principal> principal;  // the verified caller (access.h); null on public routes

  std::optional<std::string> Header(const std::string& name) const { return headers.Get(name); }
  const std::string& PathParam(const std::string& name) const;
  std::optional<std::string> Query(const std::string& name) const;
  // Parses the body as a JSON object; throws HttpError (400 problem) when it is not.
  nlohmann::json JsonBody() const;
};

struct Response {
  int status = 200;
  Headers headers;
  std::string body;

  static Response Json(int status, const nlohmann::json& body);
  static Response Text(int status, std::string body, std::string content_type = "text/plain; charset=utf-8");
  static Response Empty(int status);
};

// RFC 9457 problem details. `errors` lists each invalid field (validation).
struct Problem {
  int status = 500;
  std::string title;
  std::string detail;
  std::string type = "about:blank";
  std::vector<std::pair<std::string, std::string>> errors;  // field -> message
  Headers headers;                                          // e.g. Retry-After

  Problem& Field(std::string field, std::string message) {
    errors.emplace_back(std::move(field), std::move(message));
    return *this;
  }
  Response ToResponse(const std::string& instance = "") const;
};

const char* ReasonPhrase(int status);
Problem MakeProblem(int status, std::string detail);

// Thrown by handlers (or the runtime) to answer with a problem.
class HttpError : public std::runtime_error {
 public:
  explicit HttpError(Problem p) : std::runtime_error(p.detail), problem_(std::move(p)) {}
  HttpError(int status, std::string detail) : HttpError(MakeProblem(status, std::move(detail))) {}
  const Problem& problem() const { return problem_; }

 private:
  Problem problem_;
};

// Collects per-field validation errors; Throw() raises one 400/422 listing all.
class Validation {
 public:
  Validation& Add(std::string field, std::string message) {
    problem_.Field(std::move(field), std::move(message));
    return *this;
  }
  bool Ok() const { return problem_.errors.empty(); }
  size_t Count() const { return problem_.errors.size(); }
  void ThrowIfInvalid(int status = 400, std::string detail = "request validation failed");

 private:
  Problem problem_;
};

std::string PercentDecode(std::string_view s, bool plus_as_space = false);
std::string PercentEncode(std::string_view s);
std::map<std::string, std::string> ParseQuery(std::string_view qs);

}  // namespace op::http
