// The consumer's workers: records dispatched by partition, handled alone or
// in batches, outcomes reported back to the consumer thread, which commits
// and seeks (consumer.h says why).
#include "runtime/kafka/consumer_impl.h"

#include <algorithm>

namespace op::kafka {

Consumer::Outcome Consumer::Handle(const InRecord& r) {
  try {
    auto t0 = Clock::now();
    handler_(r);
    handler_stats_.Record(Clock::now() - t0);
    processed_.fetch_add(1);
    return Outcome::kDone;
  } catch (const PoisonRecord& e) {
    if (DeadLetter(r, e.what(), "PoisonRecord")) {
      dead_lettered_.fetch_add(1);
      return Outcome::kDeadLettered;
    }
  } catch (const std::exception& e) {
    log::Warn("record failed, will retry", {{"topic", r.topic}, {"partition", r.partition},
                                            {"offset", r.offset}, {"error", e.what()}});
  }
  retried_.fetch_add(1);
  return Outcome::kRetry;
}

// Workers ----------------------------------------------------------------------
//
// A partition whose record failed is "blocked" from the moment its worker sees
// the failure until this thread has sought back to that record: records of it
// fetched meanwhile are dropped here, and those already queued are dropped by
// the worker (their epoch is old). Nothing after a failed record is handled
// before it, and nothing is skipped.

void Consumer::Dispatch(RdKafka::Message& m) {
  InRecord r = ToRecord(m);
  TpKey tp{r.topic, r.partition};
  uint64_t epoch;
  {
    std::lock_guard lock(impl_->epoch_mu);
    if (impl_->blocked.count(tp)) return;  // fetched before the seek-back: it comes again
    epoch = impl_->epoch[tp];
  }
  size_t h = std::hash<std::string>{}(r.topic) * 31 + size_t(r.partition);
  Worker& w = *workers_[h % workers_.size()];
  impl_->inflight[tp]++;
  impl_->inflight_total++;
  {
    std::lock_guard lock(w.mu);
    w.queue.emplace_back(std::move(r), epoch);
  }
  w.cv.notify_one();
}

void Consumer::WorkerLoop(Worker& w) {
  const size_t max_batch = batch_handler_ ? size_t(std::max(1, options_.max_batch)) : 1;
  for (;;) {
    // What is queued, up to max_batch records, whatever their partitions: each
    // partition's records stay in their order, and under load a transaction
    // carries several orders' events instead of one.
    std::vector<std::pair<InRecord, uint64_t>> items;
    {
      std::unique_lock lock(w.mu);
      w.cv.wait(lock, [&] { return w.stop || !w.queue.empty(); });
      if (w.queue.empty()) return;
      do {
        items.push_back(std::move(w.queue.front()));
        w.queue.pop_front();
      } while (items.size() < max_batch && !w.queue.empty());
    }
    // Records of an old generation of their partition (one failed before them,
    // or it was revoked) are dropped: they come again after the seek-back.
    std::vector<Outcome> outcomes(items.size(), Outcome::kDropped);
    std::vector<const InRecord*> run;
    std::vector<size_t> at;  // run[j] is items[at[j]]
    {
      std::lock_guard lock(impl_->epoch_mu);
      for (size_t i = 0; i < items.size(); ++i)
        if (impl_->epoch[{items[i].first.topic, items[i].first.partition}] == items[i].second) {
          run.push_back(&items[i].first);
          at.push_back(i);
        }
    }
    if (!run.empty()) {
      auto got = HandleRun(run);
      for (size_t j = 0; j < run.size(); ++j) outcomes[at[j]] = got[j];
    }
    {
      std::lock_guard lock(impl_->epoch_mu);
      for (size_t i = 0; i < items.size(); ++i)
        if (outcomes[i] == Outcome::kRetry) {
          TpKey tp{items[i].first.topic, items[i].first.partition};
          impl_->epoch[tp]++;          // what is queued behind it is dropped
          impl_->blocked.insert(tp);   // what is fetched behind it too, until the seek-back
        }
    }
    {
      std::lock_guard lock(impl_->outcomes_mu);
      for (size_t i = 0; i < items.size(); ++i)
        impl_->outcomes.push_back({{items[i].first.topic, items[i].first.partition}, items[i].first.offset, outcomes[i]});
    }
    impl_->outcomes_cv.notify_all();
  }
}

std::vector<Consumer::Outcome> Consumer::HandleRun(const std::vector<const InRecord*>& run) {
  if (run.size() > 1) {
    try {
      auto t0 = Clock::now();
      batch_handler_(run);
      auto each = (Clock::now() - t0) / run.size();
      for (size_t i = 0; i < run.size(); ++i) handler_stats_.Record(each);
      processed_.fetch_add(run.size());
      batches_.fetch_add(1);
      return std::vector<Outcome>(run.size(), Outcome::kDone);
    } catch (const std::exception& e) {
      // Nothing of the batch took effect: one by one, with the usual rules.
      batches_split_.fetch_add(1);
      log::Debug("batch failed, handling its records one by one", {{"records", run.size()}, {"error", e.what()}});
    }
  }
  std::vector<Outcome> out(run.size(), Outcome::kDropped);
  std::set<TpKey> failed;  // partitions with a record to retry: the rest of theirs waits behind it
  for (size_t i = 0; i < run.size(); ++i) {
    TpKey tp{run[i]->topic, run[i]->partition};
    if (failed.count(tp)) continue;  // dropped, fetched again after the seek-back
    out[i] = Handle(*run[i]);
    if (out[i] == Outcome::kRetry) failed.insert(tp);
  }
  return out;
}

void Consumer::DrainOutcomes(bool commit_sync) {
  std::deque<Impl::Outcome> got;
  {
    std::lock_guard lock(impl_->outcomes_mu);
    got.swap(impl_->outcomes);
  }
  for (const auto& o : got) {
    impl_->inflight[o.tp]--;
    impl_->inflight_total--;
    switch (o.outcome) {
      case Outcome::kDone:
      case Outcome::kDeadLettered: {
        auto& next = impl_->to_commit[o.tp];
        next = std::max(next, o.offset + 1);
        impl_->retrying.erase(o.tp);
        break;
      }
      case Outcome::kRetry:
        if (impl_->assigned.count(o.tp)) RetryLater(o.tp.first, o.tp.second, o.offset);
        {
          std::lock_guard lock(impl_->epoch_mu);
          impl_->blocked.erase(o.tp);
        }
        break;
      case Outcome::kDropped:
        break;
    }
  }
  if (impl_->to_commit.empty()) return;
  std::vector<RdKafka::TopicPartition*> parts;
  for (auto& [tp, next] : impl_->to_commit) parts.push_back(RdKafka::TopicPartition::create(tp.first, tp.second, next));
  auto t0 = Clock::now();
  auto e = commit_sync ? impl_->consumer->commitSync(parts) : impl_->consumer->commitAsync(parts);
  commit_stats_.Record(Clock::now() - t0);
  RdKafka::TopicPartition::destroy(parts);
  if (e != RdKafka::ERR_NO_ERROR)  // the effects are guarded: a redelivery is a no-op
    log::Warn("offset commit failed; records may be redelivered", {{"error", RdKafka::err2str(e)}});
  impl_->to_commit.clear();
}

// Drops what is queued for `partitions`, waits for the records being handled,
// and commits synchronously: called on revoke and at stop.
void Consumer::Quiesce(const std::vector<std::pair<std::string, int32_t>>& partitions) {
  {
    std::lock_guard lock(impl_->epoch_mu);
    for (auto& tp : partitions) impl_->epoch[tp]++;
  }
  for (auto& tp : partitions) impl_->assigned.erase(tp);  // no seek-back on a partition going away
  auto busy = [&] {
    for (auto& tp : partitions)
      if (impl_->inflight[tp] > 0) return true;
    return false;
  };
  while (busy()) {
    {
      std::unique_lock lock(impl_->outcomes_mu);
      impl_->outcomes_cv.wait_for(lock, std::chrono::milliseconds(50), [&] { return !impl_->outcomes.empty(); });
    }
    DrainOutcomes(false);
  }
  DrainOutcomes(true);
  std::lock_guard lock(impl_->epoch_mu);
  for (auto& tp : partitions) impl_->blocked.erase(tp);
}

bool Consumer::DeadLetter(const InRecord& r, const std::string& error, const std::string& kind) {
  if (!dead_letters_) {
    log::Error("poison record and no dead-letter producer: retrying", {{"topic", r.topic}, {"offset", r.offset}});
    return false;
  }
  OutRecord out{DeadLetterTopic(r.topic), r.key, r.value, r.headers};
  AddDeadLetterHeaders(out.headers, {r.topic, r.partition, r.offset, r.timestamp_ms, options_.group_id}, error, kind);
  auto rep = dead_letters_->SendSync(std::move(out));
  if (!rep.ok) {
    log::Error("dead-letter publish failed: retrying the record", {{"topic", r.topic}, {"offset", r.offset}, {"error", rep.error}});
    return false;
  }
  log::Warn("record dead-lettered", {{"topic", r.topic}, {"partition", r.partition}, {"offset", r.offset},
                                     {"dltOffset", rep.offset}, {"error", error}});
  return true;
}

}  // namespace op::kafka
