#pragma once
// EventGuard: effectively-once effects over at-least-once delivery.
// In the same transaction as a consumed event's effect, MarkFirstDelivery()
// inserts (consumer group, event id) into processed_events. The first delivery
// inserts and applies the effect; a redelivery finds the row and skips it; two
// concurrent deliveries serialise on the primary key, and the loser skips.
// If the transaction rolls back, the mark goes with it, so a redelivery
// applies the effect then.
#include <string>
#include <vector>

#include "runtime/db/db.h"
#include "runtime/kafka/consumer.h"

namespace op::idempotency {

class EventGuard {
 public:
  explicit EventGuard(std::string consumer_group) : group_(std::move(consumer_group)) {}
  // true: first delivery, apply the effect. false: already applied, skip it.
  bool MarkFirstDelivery(db::Session& s, const std::string& event_id,
                         const kafka::InRecord* origin = nullptr) const;
  // Several deliveries in one transaction (a consumer batch): one multi-row
  // insert when all are new, the common case; when any was seen before (or
  // one event is in the batch twice) the statement changes nothing and each
  // is marked on its own. result[i] is MarkFirstDelivery's answer for i.
  struct Delivery {
    std::string event_id;
    const kafka::InRecord* origin = nullptr;
  };
  std::vector<bool> MarkFirstDeliveries(db::Session& s, const std::vector<Delivery>& deliveries) const;
  const std::string& group() const { return group_; }

 private:
  std::string group_;
};

}  // namespace op::idempotency
