#include "services/order/rules.h"
#include "runtime/core/json.h"

#include <algorithm>
#include <charconv>
#include <regex>
#include <set>

#include "events/identifiers.h"
#include "runtime/http/types.h"

namespace op::order {

OrderRequest ParseOrderRequest(const nlohmann::json& b) {
  http::Validation v;
  size_t duplicates = 0;
  OrderRequest r;
  if (!b.contains("customerId") || !b["customerId"].is_string())
    v.Add("customerId", "is required and must be a string");
  else if (!events::ValidCustomerId(b["customerId"].get<std::string>()))
    v.Add("customerId", "must be 1 to 64 of A-Z a-z 0-9 . _ @ -");
  else
    r.customer_id = b["customerId"];

  if (!b.contains("items") || !b["items"].is_array()) {
    v.Add("items", "is required and must be an array");
  } else if (b["items"].empty()) {
    v.Add("items", "must contain at least one item");
  } else if (b["items"].size() > 100) {
    v.Add("items", "must contain at most 100 items");
  } else {
    std::set<std::string> seen;
    for (size_t i = 0; i < b["items"].size(); ++i) {
      const auto& it = b["items"][i];
      std::string at = "items[" + std::to_string(i) + "]";
      if (!it.is_object()) {
        v.Add(at, "must be an object with sku and quantity");
        continue;
      }
      RequestedItem item{};
      bool ok = true;
      if (!it.contains("sku") || !it["sku"].is_string() || !events::ValidSku(it["sku"].get<std::string>())) {
        v.Add(at + ".sku", "is required: 1 to 64 of A-Z a-z 0-9 . _ -");
        ok = false;
      } else if (!seen.insert(it["sku"].get<std::string>()).second) {
        v.Add(at + ".sku", "appears more than once: put the quantities on one line");
        ++duplicates;
        ok = false;
      } else {
        item.sku = it["sku"];
      }
      auto quantity = it.contains("quantity") ? JsonInteger(it["quantity"]) : std::nullopt;
      if (!quantity || *quantity < 1 || *quantity > 1000) {
        v.Add(at + ".quantity", "is required: an integer from 1 to 1000");
        ok = false;
      } else {
        item.quantity = int(*quantity);
      }
      if (ok) r.items.push_back(item);
    }
  }

  if (b.contains("contact") && !b["contact"].is_null()) {
    const auto& c = b["contact"];
    if (!c.is_object()) {
      v.Add("contact", "must be an object with email and/or phone");
    } else {
      static const std::regex email(R"(^[^@\s]{1,64}@[^@\s]+\.[^@\s]+$)");
      static const std::regex phone(R"(^\+?[0-9 ()-]{6,20}$)");
      if (c.contains("email") && !c["email"].is_null()) {
        if (!c["email"].is_string() || Utf8Length(c["email"].get<std::string>()) > 254 ||
            !std::regex_match(c["email"].get<std::string>(), email))
          v.Add("contact.email", "must be an email address");
        else
          r.email = c["email"];
      }
      if (c.contains("phone") && !c["phone"].is_null()) {
        if (!c["phone"].is_string() || !std::regex_match(c["phone"].get<std::string>(), phone))
          v.Add("contact.phone", "must be a phone number such as +4915112345678");
        else
          r.phone = c["phone"];
      }
    }
  }
  // A repeated sku breaks no rule of the document's schema (it cannot say
  // "unique by sku"): alone it is 422, like an unknown sku; with a malformed
  // field it is listed in the 400.
  if (duplicates > 0 && v.Count() == duplicates) v.ThrowIfInvalid(422, "the order request cannot be processed");
  v.ThrowIfInvalid(400, "the order request is invalid");
  return r;
}

SagaStep ApplyEvent(const SagaState& s, const std::string& type, const std::string& reason) {
  SagaStep step{s, SagaStep::Emit::kNothing, ""};
  SagaState& n = step.next;
  if (type == "PaymentCompleted") n.payment = "COMPLETED";
  else if (type == "PaymentFailed") n.payment = "FAILED";
  else if (type == "PaymentRefunded") n.payment = "REFUNDED";
  else if (type == "InventoryReserved") n.inventory = "RESERVED";
  else if (type == "InventoryRejected") n.inventory = "REJECTED";
  else if (type == "InventoryReleased") n.inventory = "RELEASED";
  if (s.status != "PENDING") return step;  // decided already; compensation is the participants' job
  if (type == "PaymentFailed" || type == "InventoryRejected") {
    n.status = "CANCELLED";
    step.emit = SagaStep::Emit::kCancel;
    step.reason = reason.empty() ? (type == "PaymentFailed" ? "PAYMENT_FAILED" : "OUT_OF_STOCK") : reason;
  } else if (n.payment == "COMPLETED" && n.inventory == "RESERVED") {
    n.status = "CONFIRMED";
    step.emit = SagaStep::Emit::kConfirm;
  }
  return step;
}

std::optional<SagaStep> ApplyCustomerCancel(const SagaState& s) {
  if (s.status == "CANCELLED") return std::nullopt;
  SagaStep step{s, SagaStep::Emit::kCancel, "CUSTOMER_CANCELLED"};
  step.next.status = "CANCELLED";
  return step;
}

std::optional<SagaStep> ApplyTimeout(const SagaState& s) {
  if (s.status != "PENDING") return std::nullopt;
  SagaStep step{s, SagaStep::Emit::kCancel, "TIMEOUT"};
  step.next.status = "CANCELLED";
  return step;
}

ListQuery ParseListQuery(const std::map<std::string, std::string>& q) {
  http::Validation v;
  ListQuery out;
  for (const auto& [k, val] : q)
    if (k != "customerId" && k != "status" && k != "limit" && k != "cursor")
      v.Add(k, "is not a known query parameter (customerId, status, limit, cursor)");
  if (auto it = q.find("customerId"); it != q.end()) {
    if (!events::ValidCustomerId(it->second)) v.Add("customerId", "must be 1 to 64 of A-Z a-z 0-9 . _ @ -");
    else out.customer_id = it->second;
  }
  if (auto it = q.find("status"); it != q.end()) {
    if (it->second != "PENDING" && it->second != "CONFIRMED" && it->second != "CANCELLED")
      v.Add("status", "must be PENDING, CONFIRMED or CANCELLED");
    else out.status = it->second;
  }
  if (auto it = q.find("limit"); it != q.end()) {
    int n = 0;
    const auto& t = it->second;
    auto [end, ec] = std::from_chars(t.data(), t.data() + t.size(), n);
    if (ec != std::errc() || end != t.data() + t.size() || n < 1 || n > 100) v.Add("limit", "must be an integer from 1 to 100");
    else out.limit = n;
  }
  if (auto it = q.find("cursor"); it != q.end()) {
    const std::string& c = it->second;
    int64_t seq = 0;
    // "o" and 1 to 18 digits without a leading zero (the API document's
    // pattern): every sequence number we hand out, and nothing that overflows.
    bool ok = c.size() >= 2 && c.size() <= 19 && c[0] == 'o' && c[1] != '0';
    if (ok) {
      auto [end, ec] = std::from_chars(c.data() + 1, c.data() + c.size(), seq);
      ok = ec == std::errc() && end == c.data() + c.size() && seq > 0;
    }
    if (!ok) v.Add("cursor", "is not a cursor returned by this API");
    else out.after_seq = seq;
  }
  v.ThrowIfInvalid(400, "invalid list query");
  return out;
}

std::string EncodeCursor(int64_t seq) { return "o" + std::to_string(seq); }

}  // namespace op::order
