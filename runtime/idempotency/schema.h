#pragma once
// The idempotency tables, in every service database: processed_events (the
// event guard) and idempotency_keys (HTTP Idempotency-Key). Versions 10000+
// like all of the runtime's migrations.
#include <vector>

#include "runtime/db/migrations.h"

namespace op::idempotency {
std::vector<db::Migration> Migrations();
}
