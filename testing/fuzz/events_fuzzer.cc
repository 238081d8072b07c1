// Bytes from a Kafka record → events::Decode → Validate: what every consumer
// does with a record anyone on the broker may have written. A record that
// decodes and validates must encode again and decode to the same envelope.
#include <cstdlib>
#include <string>

#include "events/envelope.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string error;
  auto e = op::events::Decode(std::string_view(reinterpret_cast<const char*>(data), size), &error);
  if (!e) return 0;
  if (op::events::Validate(*e)) return 0;  // would go to the dead-letter topic
  (void)op::events::ToJson(*e);
  auto again = op::events::Decode(op::events::Encode(*e));
  if (!again || again->SerializeAsString() != e->SerializeAsString()) std::abort();
  return 0;
}
