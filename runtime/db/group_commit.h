#pragma once
// Group commit for small write transactions, as MariaDB does for its own log.
// Callers that write at the same time share one transaction: while one group
// commits, the callers that arrive wait, then go together in the next
// transaction, with one COMMIT (one fsync) between them. Writes that insert
// through Session::DeferInsert become one multi-row statement per table for
// the whole group. A group whose transaction fails is retried caller by
// caller, each in a transaction of its own, so a failure (a duplicate key,
// the caller's own exception) reaches only the caller it belongs to. When the
// database is unavailable, every caller of the group gets that at once.
//
// Threads: no thread of its own. The first waiting caller leads: it runs the
// group's writes on its thread (logs then carry its context) and hands the
// lead on when its own writes are committed. Every caller blocks in Run()
// until its writes are committed or have failed.
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <exception>
#include <functional>
#include <mutex>
#include <vector>

#include <string>

#include "runtime/db/db.h"
#include "runtime/metrics/metrics.h"

namespace op::db {

class GroupCommit {
 public:
  using Writes = std::function<void(Session&)>;
  // With `metrics`: db_group_commit_size (callers per committed group) and
  // db_group_commit_split_total (groups retried caller by caller), labelled
  // group=`name`.
  explicit GroupCommit(ConnectionPool& pool, size_t max_group = 64, metrics::MetricsRegistry* metrics = nullptr,
                       const std::string& name = "default");
  // Returns once `writes` committed; throws what a transaction of their own
  // would have. `writes` may run more than once (a retried transaction) and
  // on another caller's thread; its AfterCommit hooks run after the commit.
  void Run(const Writes& writes);
  // Callers waiting for a group (for tests and metrics).
  size_t waiting() const;

 private:
  struct Pending {
    const Writes* writes;
    bool done = false;
    std::exception_ptr error;
  };
  void Commit(const std::vector<Pending*>& group);

  ConnectionPool& pool_;
  const size_t max_group_;
  prometheus::Histogram* size_ = nullptr;
  prometheus::Counter* splits_ = nullptr;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Pending*> queue_;  // not yet taken into a group
  bool leading_ = false;        // a caller is committing a group
};

}  // namespace op::db
