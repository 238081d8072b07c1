#pragma once
// inventory-service's business rules, free of HTTP, SQL and Kafka.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace op::inventory {

struct Line {
  std::string sku;
  int64_t quantity;
};

struct ReservationPlan {
  bool ok = false;
  std::string reason;              // OUT_OF_STOCK or UNKNOWN_SKU
  std::vector<std::string> skus;   // the offending skus
};

// All lines or none: every sku must exist with enough available stock.
// Lines of the same sku count together. UNKNOWN_SKU wins over OUT_OF_STOCK.
ReservationPlan PlanReservation(const std::vector<Line>& lines,
                                const std::map<std::string, int64_t>& available);

struct ProductInput {
  std::string name;
  int64_t price_cents;
  int64_t available;
};
// Validates a PUT /api/products/{sku} body; throws http::HttpError (400) listing each bad field.
ProductInput ParseProductInput(const nlohmann::json& body);
// A sku as used in paths and events: 1..64 of [A-Za-z0-9._-].

}  // namespace op::inventory
