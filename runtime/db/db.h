#pragma once
// MySQL/MariaDB access over mysql-connector-c++ (JDBC-style API), one header
// per concept: errors.h (classified errors), params.h (statement
// parameters), rows.h (typed result rows), session.h (one connection's
// statements: prepared only, cached per connection; deferred inserts),
// locked_rows.h (a batch's rows read, locked and written back by key),
// pool.h (the pool, transactions with deadlock retry). This header includes
// them all.
#include "runtime/db/errors.h"
#include "runtime/db/locked_rows.h"
#include "runtime/db/params.h"
#include "runtime/db/pool.h"
#include "runtime/db/rows.h"
#include "runtime/db/session.h"
