#include "runtime/outbox/idempotency_guard.h"

namespace op::outbox {

bool IdempotencyGuard::MarkFirstDelivery(db::Session& s, const std::string& event_id,
                                         const kafka::InRecord* origin) const {
  try {
    s.Exec("INSERT INTO processed_events (consumer_group, event_id, topic, kafka_partition, kafka_offset) "
           "VALUES (?, ?, ?, ?, ?)",
           group_, event_id, origin ? db::Param(origin->topic) : db::Param(nullptr),
           origin ? db::Param(int64_t(origin->partition)) : db::Param(nullptr),
           origin ? db::Param(origin->offset) : db::Param(nullptr));
    return true;
  } catch (const db::DuplicateKey&) {
    return false;  // InnoDB rolls back only the statement; the transaction goes on
  }
}

}  // namespace op::outbox
