#include "runtime/core/clock.h"

namespace op {
SystemClock& SystemClock::Instance() {
  static SystemClock clock;
  return clock;
}
}  // namespace op
