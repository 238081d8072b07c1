#include "services/order/saga.h"

#include "runtime/kafka/consumer.h"
#include "runtime/logging/log.h"
#include "runtime/outbox/outbox.h"

namespace op::order {

namespace {
std::string ReasonOf(const events::Envelope& e) {
  if (e.has_payment_failed()) return e.payment_failed().reason();
  if (e.has_inventory_rejected()) return e.inventory_rejected().reason();
  return "";
}

// What a step writes besides the order's row: its history and, when it
// decides the order (`o` as it was before), the event. `history`: steps seen
// before this one (the event that caused it), written with the decision's in
// one statement (at commit with `defer_history`).
void RecordStep(Context& ctx, db::Session& s, const std::string& id, const LockedOrder& o, const SagaStep& step,
                const events::Envelope* cause, std::vector<HistoryEntry> history, bool defer_history) {
  if (step.emit == SagaStep::Emit::kNothing) return AddHistory(s, id, history, defer_history);
  auto e = events::NewEnvelope(id, "order-service", cause);
  if (step.emit == SagaStep::Emit::kConfirm) {
    e.mutable_order_confirmed()->set_customer_id(o.customer_id);
    e.mutable_order_confirmed()->mutable_total()->set_cents(o.total);
    e.mutable_order_confirmed()->mutable_total()->set_currency(o.currency);
  } else {
    e.mutable_order_cancelled()->set_customer_id(o.customer_id);
    e.mutable_order_cancelled()->set_reason(step.reason);
  }
  events::SealEventType(e);
  outbox::EnqueueEvent(s, e);
  history.push_back({e.event_type(), "order-service", e.occurred_at(), step.reason});
  AddHistory(s, id, history, defer_history);
  const std::string status = step.next.status;
  const bool first_decision = o.state.status == "PENDING";
  const double age = o.age_seconds;
  s.AfterCommit([&ctx, status, first_decision, age] {
    ctx.metrics.terminal->Add({{"status", status}}).Increment();
    if (first_decision)
      ctx.metrics.saga_seconds->Add({{"status", status}}, metrics::MetricsRegistry::LatencyBuckets()).Observe(age);
  });
  log::Info(step.emit == SagaStep::Emit::kConfirm ? "order confirmed" : "order cancelled",
            {{"orderId", id}, {"reason", step.reason}});
}

// A step decided outside the event stream (the customer, the deadline), on
// a locked order, written at once.
void ApplyOwnStep(Context& ctx, db::Session& s, const std::string& id, const LockedOrder& o, const SagaStep& step) {
  WriteState(s, id, step);
  RecordStep(ctx, s, id, o, step, nullptr, {}, /*defer_history=*/false);
}
}  // namespace

void OrderBatch::Prepare(db::Session& s, std::span<const events::Envelope* const> events) {
  std::set<std::string> ids;
  for (const auto* e : events) ids.insert(e->order_id());
  LockOrders(s, orders_, ids);
}

void OrderBatch::Apply(db::Session& s, const events::Envelope& e) {
  LockOrders(s, orders_, {e.order_id()});  // no-op when Prepare locked it
  if (!orders_.rows.at(e.order_id())) throw kafka::PoisonRecord("event for unknown order " + e.order_id());
  const std::string reason = ReasonOf(e);
  LockedOrder& order = orders_.Change(e.order_id());
  const LockedOrder before = order;  // an order's two events may share a batch: from the state the first left
  auto step = ApplyEvent(before.state, e.event_type(), reason);
  order.state = step.next;
  if (step.emit == SagaStep::Emit::kCancel) order.reason = step.reason;
  RecordStep(ctx_, s, e.order_id(), before, step, &e, {{e.event_type(), e.source(), e.occurred_at(), reason}},
             /*defer_history=*/true);
}

std::optional<nlohmann::json> CancelByCustomer(Context& ctx, const std::string& id) {
  auto body = ctx.svc.db().Transact([&](db::Session& s) -> std::optional<nlohmann::json> {
    auto o = LockOrder(s, id);
    if (!o) return std::nullopt;
    auto step = ApplyCustomerCancel(o->state);
    if (!step) throw http::HttpError(409, "order " + id + " is " + o->state.status + " and can no longer be cancelled");
    ApplyOwnStep(ctx, s, id, *o, *step);
    return OrderJson(s, id);
  });
  if (body) ctx.svc.outbox().Wake();
  return body;
}

void SweepTimeouts(Context& ctx) {
  auto due = OrdersPastDeadline(ctx.svc.db(), 100);
  for (const auto& id : due) {
    ctx.svc.db().Transact([&](db::Session& s) {
      auto o = LockOrder(s, id);
      if (!o) return;
      if (auto step = ApplyTimeout(o->state)) ApplyOwnStep(ctx, s, id, *o, *step);
    });
  }
  if (!due.empty()) ctx.svc.outbox().Wake();
}

}  // namespace op::order
