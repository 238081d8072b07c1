#pragma once
// The outbox table, in every service database that publishes events. The
// runtime's migrations use versions 10000+ so they never collide with a
// service's own (1..9999).
#include <vector>

#include "runtime/db/migrations.h"

namespace op::outbox {
std::vector<db::Migration> Migrations();
}
