#pragma once
// A service's effect of a batch of events, in one transaction, as three
// explicit steps. The runtime (Service::HandleEventBatches) makes a fresh
// batch for every transaction attempt, so a retried attempt starts clean:
//
//   Prepare(s, events)  read and lock, in key order, the rows the events will
//                       change (accounts, products, orders): two workers'
//                       batches that share rows then wait for each other
//                       instead of deadlocking;
//   Apply(s, e)         each event's effect, in order, on those rows in
//                       memory (and outbox::EnqueueEvent for what it emits);
//   Flush(s)            write back what changed and insert what was made,
//                       a few statements for the whole batch.
//
// `events` are the batch's events not processed before (the
// processed-events guard has marked them); a redelivered one is not passed
// to Prepare or Apply. Throw kafka::PoisonRecord from Apply for an event that
// can never be applied: the batch rolls back and its records are retried
// one by one, so the poison one alone goes to the dead-letter topic.
#include <functional>
#include <memory>
#include <span>

#include "events/envelope.h"
#include "runtime/db/db.h"

namespace op {

class EventBatch {
 public:
  virtual ~EventBatch() = default;
  virtual void Prepare(db::Session&, std::span<const events::Envelope* const> /*events*/) {}
  virtual void Apply(db::Session& s, const events::Envelope& e) = 0;
  virtual void Flush(db::Session&) {}
};

using MakeEventBatch = std::function<std::unique_ptr<EventBatch>()>;

}  // namespace op
