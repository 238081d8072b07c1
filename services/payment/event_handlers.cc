#include "services/payment/event_handlers.h"

#include <fmt/format.h>

#include "runtime/core/time_format.h"
#include "runtime/core/uuid.h"
#include "runtime/kafka/consumer.h"
#include "runtime/logging/log.h"
#include "runtime/outbox/outbox.h"
#include "services/payment/rules.h"

namespace op::payment {

void PaymentBatch::Prepare(db::Session& s, std::span<const events::Envelope* const> events) {
  // New orders' customers and the customers of the charges cancellations refund.
  std::set<std::string> customers;
  std::vector<db::Param> refunded;
  for (const auto* e : events) {
    if (e->has_order_created() && !e->order_created().customer_id().empty()) customers.insert(e->order_created().customer_id());
    else if (e->has_order_cancelled()) refunded.push_back(e->order_id());
  }
  customers.merge(CustomersOfCaptures(s, std::move(refunded)));
  LockAccounts(s, balances_, customers);
}

void PaymentBatch::Apply(db::Session& s, const events::Envelope& e) {
  switch (e.payload_case()) {
    case events::Envelope::kOrderCreated: return Charge(s, e);
    case events::Envelope::kOrderCancelled: return Refund(s, e);
    default: return;  // OrderConfirmed: the capture stands
  }
}

void PaymentBatch::Flush(db::Session& s) {
  WriteBalances(s, balances_);
  for (const auto& [order, p] : made_) InsertPayment(s, p);
}

std::optional<int64_t>& PaymentBatch::Balance(db::Session& s, const std::string& customer) {
  LockAccounts(s, balances_, {customer});  // no-op when Prepare locked it
  return balances_.rows.at(customer);
}

void PaymentBatch::Charge(db::Session& s, const events::Envelope& e) {
  const auto& oc = e.order_created();
  const int64_t amount = oc.total().cents();
  if (amount < 0 || oc.customer_id().empty())
    throw kafka::PoisonRecord(fmt::format("OrderCreated with total {} and customer '{}'", amount, oc.customer_id()));
  ChargeDecision decision = DecideCharge(Balance(s, oc.customer_id()), amount);
  auto reply = events::NewEnvelope(e.order_id(), "payment-service", &e);
  Payment p{e.order_id(), NewUuid(), oc.customer_id(), oc.total().currency(), "", amount, std::nullopt, std::nullopt};
  if (decision.approved) {
    balances_.Change(oc.customer_id()) -= amount;
    p.status = "CAPTURED";
    InsertLedgerLine(s, oc.customer_id(), e.order_id(), "CHARGE", -amount);
    auto* pc = reply.mutable_payment_completed();
    pc->set_customer_id(oc.customer_id());
    *pc->mutable_amount() = oc.total();
    pc->set_payment_id(p.payment_id);
  } else {
    p.status = "DECLINED";
    p.reason = decision.reason;
    auto* pf = reply.mutable_payment_failed();
    pf->set_customer_id(oc.customer_id());
    pf->set_reason(decision.reason);
    *pf->mutable_amount() = oc.total();
    log::Info("payment declined", {{"reason", decision.reason}});
  }
  made_.insert_or_assign(e.order_id(), std::move(p));
  events::SealEventType(reply);
  outbox::EnqueueEvent(s, reply);
}

void PaymentBatch::Refund(db::Session& s, const events::Envelope& e) {
  std::optional<Payment> capture;
  if (auto p = made_.find(e.order_id()); p != made_.end()) {  // charged in this batch: refund the row before it is written
    if (p->second.status != "CAPTURED") return;
    p->second.status = "REFUNDED";
    p->second.refunded_at = FormatSqlTimestamp(std::chrono::system_clock::now());
    capture = p->second;
  } else {
    capture = FindCapture(s, e.order_id());
    if (!capture) return;  // nothing captured: declined, or never charged
    MarkRefunded(s, e.order_id());
  }
  if (!Balance(s, capture->customer))  // the account was deleted by hand since the charge
    throw kafka::PoisonRecord(fmt::format("refund of order {}: no account '{}'", e.order_id(), capture->customer));
  balances_.Change(capture->customer) += capture->amount_cents;
  InsertLedgerLine(s, capture->customer, e.order_id(), "REFUND", capture->amount_cents);
  auto reply = events::NewEnvelope(e.order_id(), "payment-service", &e);
  auto* pr = reply.mutable_payment_refunded();
  pr->set_customer_id(capture->customer);
  pr->mutable_amount()->set_cents(capture->amount_cents);
  pr->mutable_amount()->set_currency(capture->currency);
  pr->set_payment_id(capture->payment_id);
  events::SealEventType(reply);
  outbox::EnqueueEvent(s, reply);
}

}  // namespace op::payment
