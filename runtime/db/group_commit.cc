#include "runtime/db/group_commit.h"

#include <memory>
#include <stdexcept>

#include "runtime/logging/log.h"

namespace op::db {

GroupCommit::GroupCommit(ConnectionPool& pool, size_t max_group, metrics::MetricsRegistry* metrics,
                         const std::string& name, int committers)
    : pool_(pool), max_group_(max_group) {
  if (committers < 1) throw std::invalid_argument("GroupCommit needs at least one committer thread");
  if (metrics) {
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
  for (int i = 0; i < committers; ++i)
    committers_.emplace_back([this, name] {
      pthread_setname_np(pthread_self(), ("commit-" + name).substr(0, 15).c_str());
      Committer();
    });
}

GroupCommit::~GroupCommit() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  queued_.notify_all();
  for (auto& t : committers_) t.join();
}

size_t GroupCommit::waiting() const {
  std::lock_guard lock(mu_);
  return queue_.size();
}

std::vector<GroupCommit::Pending*> GroupCommit::TakeGroup() {
  std::vector<Pending*> group;
  while (!queue_.empty() && group.size() < max_group_) {
    group.push_back(queue_.front());
    queue_.pop_front();
  }
  return group;
}

void GroupCommit::Run(const Writes& writes) {
  Pending me{&writes, {}, {}, false, nullptr};
  std::unique_lock lock(mu_);
  if (stopping_) throw std::logic_error("GroupCommit::Run after its destruction began");
  queue_.push_back(&me);
  queued_.notify_one();
  finished_.wait(lock, [&] { return me.finished; });
  if (me.error) std::rethrow_exception(me.error);
}

void GroupCommit::Submit(Writes writes, Done done) {
  // Owned by the queue until Finish() has called `done`.
  auto p = std::make_unique<Pending>(Pending{nullptr, std::move(writes), std::move(done), false, nullptr});
  p->writes = &p->owned;
  {
    std::lock_guard lock(mu_);
    // The committers may be gone already: nobody would ever call `done`.
    if (stopping_) throw std::logic_error("GroupCommit::Submit after its destruction began");
    queue_.push_back(p.release());
  }
  queued_.notify_one();
}

void GroupCommit::Committer() {
  std::unique_lock lock(mu_);
  for (;;) {
    queued_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
    if (queue_.empty()) return;  // stopping, and everything queued is committed
    auto group = TakeGroup();
    lock.unlock();
    Commit(group);
    Finish(group, lock);
  }
}

// Tells a committed (or failed) group's callers: Submit()'s through `done`,
// outside the lock; Run()'s by waking them. Returns with `lock` held.
void GroupCommit::Finish(const std::vector<Pending*>& group, std::unique_lock<std::mutex>& lock) {
  std::vector<Pending*> blocked;
  for (auto* p : group) {
    if (!p->done) {
      blocked.push_back(p);
      continue;
    }
    try {
      p->done(p->error);
    } catch (const std::exception& e) {
      log::Error("group commit: a caller's done callback threw", {{"error", e.what()}});
    } catch (...) {
      log::Error("group commit: a caller's done callback threw", {});
    }
    delete p;
  }
  lock.lock();
  for (auto* p : blocked) p->finished = true;
  finished_.notify_all();
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
