#include "runtime/core/uuid.h"

#include <pthread.h>
#include <sys/random.h>
#include <uuid/uuid.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace op {
namespace {

// Random bytes from the kernel's CSPRNG, fetched 4 KiB at a time per thread.
// Hand-written because libuuid's uuid_generate_random() costs five system
// calls per id (getrandom plus getpid/getppid/getuid/gettid to re-seed its
// fallback generator), and an id is minted for every request and every event:
// it showed up in the gateway's profile. This keeps the kernel as the source
// (one getrandom per 256 ids) and drops the rest.
struct RandomPool {
  unsigned char bytes[4096];
  size_t used = sizeof bytes;  // empty until the first fill
};

thread_local RandomPool pool;

void ForgetInChild() { pool.used = sizeof pool.bytes; }  // a forked child must not repeat the parent's bytes

void Fill(unsigned char* out, size_t n) {
  static const bool registered = (pthread_atfork(nullptr, nullptr, ForgetInChild), true);
  (void)registered;
  if (pool.used + n > sizeof pool.bytes) {
    size_t got = 0;
    while (got < sizeof pool.bytes) {
      ssize_t r = getrandom(pool.bytes + got, sizeof pool.bytes - got, 0);
      if (r < 0 && errno == EINTR) continue;
      if (r < 0) throw std::runtime_error(std::string("getrandom: ") + std::strerror(errno));
      got += size_t(r);
    }
    pool.used = 0;
  }
  std::memcpy(out, pool.bytes + pool.used, n);
  pool.used += n;  // each byte is handed out once
}

}  // namespace

std::string NewUuid() {
  unsigned char b[16];
  Fill(b, sizeof b);
  b[6] = (b[6] & 0x0f) | 0x40;  // version 4
  b[8] = (b[8] & 0x3f) | 0x80;  // RFC 4122 variant
  static const char* hex = "0123456789abcdef";
  std::string out(36, '-');
  size_t o = 0;
  for (int i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) ++o;
    out[o++] = hex[b[i] >> 4];
    out[o++] = hex[b[i] & 15];
  }
  return out;
}

bool IsUuid(std::string_view s) {
  if (s.size() != 36) return false;
  char buf[37];
  s.copy(buf, 36);
  buf[36] = 0;
  uuid_t id;
  return uuid_parse(buf, id) == 0;
}

}  // namespace op
