#include "services/inventory/rules.h"
#include "runtime/core/json.h"

#include <algorithm>

#include "runtime/http/types.h"

namespace op::inventory {

ReservationPlan PlanReservation(const std::vector<Line>& lines, const std::map<std::string, int64_t>& available) {
  std::map<std::string, int64_t> wanted;
  for (const auto& l : lines) wanted[l.sku] += l.quantity;
  ReservationPlan plan;
  for (const auto& [sku, q] : wanted)
    if (!available.count(sku)) plan.skus.push_back(sku);
  if (!plan.skus.empty()) {
    plan.reason = "UNKNOWN_SKU";
    return plan;
  }
  for (const auto& [sku, q] : wanted)
    if (available.at(sku) < q) plan.skus.push_back(sku);
  if (!plan.skus.empty()) {
    plan.reason = "OUT_OF_STOCK";
    return plan;
  }
  plan.ok = true;
  return plan;
}

ProductInput ParseProductInput(const nlohmann::json& b) {
  http::Validation v;
  ProductInput p{};
  if (!b.contains("name") || !b["name"].is_string() || b["name"].get<std::string>().empty() ||
      Utf8Length(b["name"].get<std::string>()) > 200)
    v.Add("name", "must be a string of 1 to 200 characters");
  else
    p.name = b["name"];
  auto price = b.contains("priceCents") ? JsonInteger(b["priceCents"]) : std::nullopt;
  if (!price || *price < 0 || *price > 100'000'000'00)
    v.Add("priceCents", "must be an integer number of cents from 0 to 10000000000");
  else
    p.price_cents = *price;
  auto available = b.contains("available") ? JsonInteger(b["available"]) : std::nullopt;
  if (!available || *available < 0 || *available > 1'000'000'000)
    v.Add("available", "must be an integer from 0 to 1000000000");
  else
    p.available = *available;
  v.ThrowIfInvalid();
  return p;
}

}  // namespace op::inventory
