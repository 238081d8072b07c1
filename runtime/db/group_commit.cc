#include "runtime/db/group_commit.h"

namespace op::db {

GroupCommit::GroupCommit(ConnectionPool& pool, size_t max_group, metrics::MetricsRegistry* metrics,
                         const std::string& name)
    : pool_(pool), max_group_(max_group) {
  if (!metrics) return;
  size_ = &prometheus::BuildHistogram()
               .Name("db_group_commit_size")
               .Help("Callers whose writes one group commit committed")
               .Register(metrics->Registry())
               .Add({{"group", name}}, prometheus::Histogram::BucketBoundaries{1, 2, 4, 8, 16, 32, 64, 128});
  splits_ = &prometheus::BuildCounter()
                 .Name("db_group_commit_split_total")
                 .Help("Groups whose transaction failed and were retried caller by caller")
                 .Register(metrics->Registry())
                 .Add({{"group", name}});
}

size_t GroupCommit::waiting() const {
  std::lock_guard lock(mu_);
  return queue_.size();
}

void GroupCommit::Run(const Writes& writes) {
  Pending me{&writes, false, nullptr};
  std::unique_lock lock(mu_);
  queue_.push_back(&me);
  cv_.wait(lock, [&] { return me.done || !leading_; });
  if (!me.done) {  // lead until this caller's own writes are committed
    leading_ = true;
    while (!me.done) {
      std::vector<Pending*> group;
      while (!queue_.empty() && group.size() < max_group_) {
        group.push_back(queue_.front());
        queue_.pop_front();
      }
      lock.unlock();
      Commit(group);
      lock.lock();
      for (auto* p : group) p->done = true;
      cv_.notify_all();
    }
    leading_ = false;
    cv_.notify_all();  // one of the waiting callers leads next
  }
  if (me.error) std::rethrow_exception(me.error);
}

void GroupCommit::Commit(const std::vector<Pending*>& group) {
  try {
    pool_.Transact([&](Session& s) {
      for (auto* p : group) (*p->writes)(s);
    });
    if (size_) size_->Observe(double(group.size()));
    return;
  } catch (const DbUnavailable&) {
    // The database, not anyone's writes: every caller gets the error now,
    // rather than each waiting for it again on its own.
    for (auto* p : group) p->error = std::current_exception();
    return;
  } catch (...) {
    if (group.size() == 1) {
      group.front()->error = std::current_exception();
      return;
    }
  }
  if (splits_) splits_->Increment();
  // Someone's writes failed the group: each on its own, so the failure
  // reaches its caller only.
  for (auto* p : group) {
    try {
      pool_.Transact([&](Session& s) { (*p->writes)(s); });
    } catch (...) {
      p->error = std::current_exception();
    }
  }
}

}  // namespace op::db
