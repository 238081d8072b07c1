// Prints the golden encoding of every sample, one "Type hex" line each.
// Regenerate ONLY when adding a new event type:
//   bazel run //events:golden_gen > events/testdata/golden_v1.txt
#include <cstdio>

#include "events/golden_samples.h"

int main() {
  for (const auto& e : op::events::GoldenSamples()) {
    std::string bytes = op::events::Encode(e);
    std::printf("%s ", e.event_type().c_str());
    for (unsigned char c : bytes) std::printf("%02x", c);
    std::printf("\n");
  }
}
