#pragma once
// payment-service's saga steps on order.events, as an EventBatch: charges an
// order's total on OrderCreated when the balance covers it, refunds a charge
// on OrderCancelled (OrderConfirmed: the capture stands). A batch reads and
// locks its customers' accounts once, in customer order, changes balances in
// memory, and writes them back with its payments in a few statements.
#include <map>

#include "runtime/service/event_batch.h"
#include "services/payment/store.h"

namespace op::payment {

class PaymentBatch final : public EventBatch {
 public:
  void Prepare(db::Session& s, std::span<const events::Envelope* const> events) override;
  void Apply(db::Session& s, const events::Envelope& e) override;
  void Flush(db::Session& s) override;

 private:
  void Charge(db::Session& s, const events::Envelope& e);
  void Refund(db::Session& s, const events::Envelope& e);
  std::optional<int64_t>& Balance(db::Session& s, const std::string& customer);

  Balances balances_;
  std::map<std::string, Payment> made_;  // by order id: inserted at Flush, after what later events did to them
};

}  // namespace op::payment
