#pragma once
// Marks an exception as "a dependency cannot serve now" (the database is
// unreachable, its pool is exhausted): an HTTP request that meets one answers
// 503 with Retry-After rather than 500, and a client may try again. A mixin,
// not a std::exception: the exception keeps one std::exception base, so
// `catch (const std::exception&)` still matches it.
namespace op {

class Unavailable {
 public:
  virtual ~Unavailable() = default;
  virtual const char* dependency() const = 0;  // named to the client: "the database"
  virtual int retry_after_seconds() const { return 2; }
};

}  // namespace op
