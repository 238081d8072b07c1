#include "runtime/outbox/idempotency_guard.h"

namespace op::outbox {

bool IdempotencyGuard::MarkFirstDelivery(db::Session& s, const std::string& event_id,
                                         const kafka::InRecord* origin) const {
  std::vector<db::Param> params{group_, event_id};
  if (origin) {
    params.emplace_back(origin->topic);
    params.emplace_back(int64_t(origin->partition));
    params.emplace_back(origin->offset);
  } else {
    params.insert(params.end(), 3, db::Param(nullptr));
  }
  try {
    s.ExecV("INSERT INTO processed_events (consumer_group, event_id, topic, kafka_partition, kafka_offset) "
            "VALUES (?, ?, ?, ?, ?)", params);
    return true;
  } catch (const db::DuplicateKey&) {
    return false;  // InnoDB rolls back only the statement; the transaction goes on
  }
}

}  // namespace op::outbox
