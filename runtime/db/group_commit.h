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
// Threads: the group commit owns `committers` threads (at least one). They
// take whatever has queued up as a group, each committing one group at a
// time, so groups grow with the load. Submit() queues writes and returns at
// once; its `done` runs on a committer thread after the commit (or failure):
// for asynchronous HTTP handlers, which answer when their writes are
// committed without holding a server thread. Run() is Submit() for a
// blocking caller: it waits for its writes' outcome.
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <exception>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "runtime/db/db.h"
#include "runtime/metrics/metrics.h"

namespace op::db {

class GroupCommit {
 public:
  using Writes = std::function<void(Session&)>;
  // The outcome of Submit()ted writes: null when committed, else what a
  // transaction of their own would have thrown.
  using Done = std::function<void(std::exception_ptr)>;
  // With `metrics`: db_group_commit_size (callers per committed group) and
  // db_group_commit_split_total (groups retried caller by caller), labelled
  // group=`name`.
  explicit GroupCommit(ConnectionPool& pool, size_t max_group = 64, metrics::MetricsRegistry* metrics = nullptr,
                       const std::string& name = "default", int committers = 1);
  // Commits what is queued, then joins the committer threads.
  ~GroupCommit();
  GroupCommit(const GroupCommit&) = delete;
  GroupCommit& operator=(const GroupCommit&) = delete;

  // Returns once `writes` committed; throws what a transaction of their own
  // would have. `writes` may run more than once (a retried transaction) and
  // on another thread; its AfterCommit hooks run after the commit.
  void Run(const Writes& writes);
  // Queues `writes` for the next group and returns; `done` runs once, on a
  // committer thread, after its AfterCommit hooks. std::logic_error once the
  // destructor has begun.
  void Submit(Writes writes, Done done);
  // Callers waiting for a group (for tests and metrics).
  size_t waiting() const;

 private:
  struct Pending {
    const Writes* writes;
    Writes owned;  // Submit()'s, which `writes` then points at
    Done done;     // Submit()'s; Run() waits for `finished` instead
    bool finished = false;
    std::exception_ptr error;
  };
  std::vector<Pending*> TakeGroup();  // under mu_
  void Commit(const std::vector<Pending*>& group);
  void Finish(const std::vector<Pending*>& group, std::unique_lock<std::mutex>& lock);
  void Committer();

  ConnectionPool& pool_;
  const size_t max_group_;
  prometheus::Histogram* size_ = nullptr;
  prometheus::Counter* splits_ = nullptr;
  mutable std::mutex mu_;
  std::condition_variable finished_;  // Run() callers: theirs committed
  std::condition_variable queued_;    // committer threads: work, or stop
  std::deque<Pending*> queue_;        // not yet taken into a group
  bool stopping_ = false;
  std::vector<std::thread> committers_;
};

}  // namespace op::db
