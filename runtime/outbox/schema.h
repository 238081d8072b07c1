#pragma once
// Tables the runtime owns in every service database. Their migrations use
// versions 10000+ so they never collide with a service's own (1..9999).
#include <vector>

#include "runtime/db/migrations.h"

namespace op::outbox {
std::vector<db::Migration> RuntimeMigrations();
}
