#include "runtime/outbox/idempotency_guard.h"

namespace op::outbox {

namespace {
constexpr const char* kInsert =
    "INSERT INTO processed_events (consumer_group, event_id, topic, kafka_partition, kafka_offset) VALUES ";

void AddRow(std::vector<db::Param>& params, const std::string& group, const std::string& event_id,
            const kafka::InRecord* origin) {
  params.insert(params.end(), {group, event_id});
  if (origin) params.insert(params.end(), {origin->topic, int64_t(origin->partition), origin->offset});
  else params.insert(params.end(), 3, db::Param(nullptr));
}
}  // namespace

bool IdempotencyGuard::MarkFirstDelivery(db::Session& s, const std::string& event_id,
                                         const kafka::InRecord* origin) const {
  std::vector<db::Param> params;
  AddRow(params, group_, event_id, origin);
  try {
    s.ExecV(std::string(kInsert) + "(?, ?, ?, ?, ?)", params);
    return true;
  } catch (const db::DuplicateKey&) {
    return false;  // InnoDB rolls back only the statement; the transaction goes on
  }
}

std::vector<bool> IdempotencyGuard::MarkFirstDeliveries(db::Session& s, const std::vector<Delivery>& deliveries) const {
  if (deliveries.size() == 1) return {MarkFirstDelivery(s, deliveries[0].event_id, deliveries[0].origin)};
  std::vector<bool> first(deliveries.size(), true);
  if (deliveries.empty()) return first;
  std::string sql = kInsert;
  std::vector<db::Param> params;
  params.reserve(deliveries.size() * 5);
  for (size_t i = 0; i < deliveries.size(); ++i) {
    sql += i ? ", (?, ?, ?, ?, ?)" : "(?, ?, ?, ?, ?)";
    AddRow(params, group_, deliveries[i].event_id, deliveries[i].origin);
  }
  try {
    s.ExecV(sql, params);
    return first;
  } catch (const db::DuplicateKey&) {
    // the whole statement was rolled back: sort them out one by one
  }
  for (size_t i = 0; i < deliveries.size(); ++i) first[i] = MarkFirstDelivery(s, deliveries[i].event_id, deliveries[i].origin);
  return first;
}

}  // namespace op::outbox
