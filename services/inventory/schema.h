#pragma once
#include <vector>

#include "runtime/db/migrations.h"

namespace op::inventory {

// inventory_db's tables (versions 1..), applied at start.
std::vector<db::Migration> Migrations();

}  // namespace op::inventory
