// How a service's event handlers run: each record decoded and validated
// (poison → dead letter), its ids on every log line, and the effect applied
// in one transaction with the processed-events guard, alone or batched.
#include "runtime/core/trace_context.h"
#include "runtime/logging/log.h"
#include "runtime/service/service.h"

namespace op {

namespace {
// An event's ids on every line logged while it is handled; read from the
// envelope only when a line is written.
class EventLogFields : public log::LogContext::Fields {
 public:
  explicit EventLogFields(const events::Envelope& e) : e_(e) {}
  void AddTo(nlohmann::json& line) const override {
    line["orderId"] = e_.order_id();
    line["correlationId"] = e_.correlation_id();
    line["eventId"] = e_.event_id();
    line["eventType"] = e_.event_type();
    if (auto tp = TraceParent::Parse(e_.traceparent())) line["traceId"] = tp->trace_id;
  }

 private:
  const events::Envelope& e_;
};

// The record's event, decoded and validated; PoisonRecord when it is neither.
events::Envelope DecodeEvent(const kafka::InRecord& r) {
  std::string err;
  auto e = events::Decode(r.value, &err);
  if (!e) throw kafka::PoisonRecord(err);
  if (auto invalid = events::Validate(*e)) throw kafka::PoisonRecord("invalid event: " + *invalid);
  return std::move(*e);
}
}  // namespace

void Service::Consume(std::vector<std::string> topics, EventHandler handler) {
  producer();  // throws when the service does not use Kafka
  auto o = kafka::ConsumerOptions::FromConfig(*config_);
  o.group_id = spec_.name;
  o.client_id = spec_.name + "@" + instance_id_;
  o.topics = std::move(topics);
  auto wrapped = [handler = std::move(handler)](const kafka::InRecord& r) {
    events::Envelope e = DecodeEvent(r);
    EventLogFields fields(e);
    log::LogContext lc(fields);
    handler(e, r);
  };
  consumers_->Add(std::make_unique<kafka::Consumer>(o, std::move(wrapped), &producer(), metrics_.get()));
}

void Service::HandleEvents(std::vector<std::string> topics, EventEffect effect, BatchLocks locks) {
  auto guard = std::make_shared<outbox::IdempotencyGuard>(spec_.name);
  auto shared_effect = std::make_shared<EventEffect>(std::move(effect));
  Consume(std::move(topics), [this, guard, shared_effect](const events::Envelope& e, const kafka::InRecord& r) {
    size_t enqueued = 0;
    bool applied = db().Transact([&](db::Session& s) {
      if (!guard->MarkFirstDelivery(s, e.event_id(), &r)) return false;
      (*shared_effect)(s, e);
      enqueued = outbox::EnqueuedIn(s);
      return true;
    });
    if (!applied) log::Info("duplicate event skipped");
    if (enqueued > 0 && outbox_) outbox_->relay().Wake();
  });
  // The events queued for a worker in one transaction: one commit (one
  // fsync) instead of one each. Any failure rolls all of them back and
  // the consumer hands them to the handler above one by one, so a poison or
  // failing event is treated exactly as without batching.
  consumers_->last().SetBatchHandler([this, guard, shared_effect, locks = std::move(locks)](
                                         const std::vector<const kafka::InRecord*>& run) {
    std::vector<events::Envelope> envelopes;
    envelopes.reserve(run.size());
    for (const auto* r : run) envelopes.push_back(DecodeEvent(*r));  // a poison one fails the batch
    std::vector<outbox::IdempotencyGuard::Delivery> deliveries;
    deliveries.reserve(run.size());
    for (size_t i = 0; i < run.size(); ++i) deliveries.push_back({envelopes[i].event_id(), run[i]});
    size_t enqueued = 0;
    db().Transact([&](db::Session& s) {
      auto first = guard->MarkFirstDeliveries(s, deliveries);
      if (locks) {
        std::vector<const events::Envelope*> fresh;
        for (size_t i = 0; i < run.size(); ++i)
          if (first[i]) fresh.push_back(&envelopes[i]);
        if (fresh.size() > 1) {
          auto shared = locks(s, fresh);
          // One row cannot be taken in two orders: only two or more need it.
          if (shared.values.size() > 1) s.LockInKeyOrder(shared.table, shared.key, shared.values);
        }
      }
      for (size_t i = 0; i < run.size(); ++i) {
        const auto& e = envelopes[i];
        EventLogFields fields(e);
        log::LogContext lc(fields);
        if (first[i]) (*shared_effect)(s, e);
        else log::Info("duplicate event skipped");
      }
      enqueued = outbox::EnqueuedIn(s);
    });
    if (enqueued > 0 && outbox_) outbox_->relay().Wake();
  });
}

void Service::PauseConsumersWhileOpen(resilience::CircuitBreaker& breaker) {
  breaker.AddListener([this, &breaker](const std::string& name, resilience::CircuitState, resilience::CircuitState to) {
    if (to != resilience::CircuitState::kOpen && to != resilience::CircuitState::kForcedOpen) return;
    auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(breaker.RemainingOpenWait());
    if (to == resilience::CircuitState::kForcedOpen) wait = std::chrono::hours(24 * 365);
    log::Warn("breaker open: pausing consumers", {{"breaker", name}, {"resumeInMs", wait.count()}});
    consumers_->PauseFor(wait);
  });
}

}  // namespace op
