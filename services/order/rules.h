#pragma once
// order-service's business rules, free of HTTP, SQL and Kafka: request
// validation, the saga's decision table, list-query parsing.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace op::order {

struct RequestedItem {
  std::string sku;
  int64_t quantity;
};

struct OrderRequest {
  std::string customer_id;
  std::vector<RequestedItem> items;
  std::string email, phone;  // optional contact
};

// Validates POST /api/orders; throws http::HttpError (400) listing every bad
// field by its JSON path (customerId, items[2].quantity, contact.email, ...).
OrderRequest ParseOrderRequest(const nlohmann::json& body);

// The saga, as the order sees it.
struct SagaState {
  std::string status = "PENDING";  // PENDING, CONFIRMED, CANCELLED
  std::string payment = "NONE";    // NONE, COMPLETED, FAILED, REFUNDED
  std::string inventory = "NONE";  // NONE, RESERVED, REJECTED, RELEASED
};
struct SagaStep {
  SagaState next;
  enum class Emit { kNothing, kConfirm, kCancel } emit = Emit::kNothing;
  std::string reason;  // for kCancel
};
// What an incoming payment or inventory event does to an order.
//   both successes while PENDING → CONFIRMED (emit OrderConfirmed)
//   any failure while PENDING    → CANCELLED with its reason (emit OrderCancelled)
//   anything else                → only the participant's status changes
SagaStep ApplyEvent(const SagaState& s, const std::string& event_type, const std::string& reason);
// Customer cancel: PENDING or CONFIRMED → CANCELLED (CUSTOMER_CANCELLED); nullopt when not cancellable.
std::optional<SagaStep> ApplyCustomerCancel(const SagaState& s);
std::optional<SagaStep> ApplyTimeout(const SagaState& s);

struct ListQuery {
  std::optional<std::string> customer_id, status;
  int limit = 20;
  std::optional<int64_t> after_seq;  // from the cursor
};
ListQuery ParseListQuery(const std::map<std::string, std::string>& query);
std::string EncodeCursor(int64_t seq);


}  // namespace op::order
