#include "runtime/idempotency/event_guard.h"

namespace op::idempotency {

namespace {
constexpr const char* kInsert =
    "INSERT INTO processed_events (consumer_group, event_id, topic, kafka_partition, kafka_offset) VALUES";

std::vector<db::Param> Row(const std::string& group, const std::string& event_id, const kafka::InRecord* origin) {
  if (!origin) return {group, event_id, nullptr, nullptr, nullptr};
  return {group, event_id, origin->topic, int64_t(origin->partition), origin->offset};
}
}  // namespace

bool EventGuard::MarkFirstDelivery(db::Session& s, const std::string& event_id,
                                         const kafka::InRecord* origin) const {
  auto row = Row(group_, event_id, origin);
  try {
    s.InsertRows(kInsert, {&row, 1});
    return true;
  } catch (const db::DuplicateKey&) {
    return false;  // InnoDB rolls back only the statement; the transaction goes on
  }
}

std::vector<bool> EventGuard::MarkFirstDeliveries(db::Session& s, const std::vector<Delivery>& deliveries) const {
  if (deliveries.size() == 1) return {MarkFirstDelivery(s, deliveries[0].event_id, deliveries[0].origin)};
  std::vector<bool> first(deliveries.size(), true);
  if (deliveries.empty()) return first;
  std::vector<std::vector<db::Param>> rows;
  rows.reserve(deliveries.size());
  for (const auto& d : deliveries) rows.push_back(Row(group_, d.event_id, d.origin));
  try {
    s.InsertRows(kInsert, rows);  // one statement: all marked, or none
    return first;
  } catch (const db::DuplicateKey&) {
    // the whole statement was rolled back: sort them out one by one
  }
  for (size_t i = 0; i < deliveries.size(); ++i) first[i] = MarkFirstDelivery(s, deliveries[i].event_id, deliveries[i].origin);
  return first;
}

}  // namespace op::idempotency
