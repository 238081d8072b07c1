#include "runtime/core/uuid.h"

#include <uuid/uuid.h>

namespace op {

std::string NewUuid() {
  uuid_t id;
  uuid_generate_random(id);
  char out[37];
  uuid_unparse_lower(id, out);
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
