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

namespace {
// An effect with no state of its own as a batch.
class EffectBatch final : public EventBatch {
 public:
  explicit EffectBatch(const Service::EventEffect& effect) : effect_(effect) {}
  void Apply(db::Session& s, const events::Envelope& e) override { effect_(s, e); }

 private:
  const Service::EventEffect& effect_;
};

// Applies `envelopes` (their records `records`) in one transaction: marks
// them delivered, then Prepare, Apply and Flush for the first deliveries.
// Returns how many outbox rows the transaction enqueued.
size_t ApplyInOneTransaction(db::ConnectionPool& db, idempotency::EventGuard& guard, const MakeEventBatch& make,
                             const std::vector<events::Envelope>& envelopes,
                             const std::vector<const kafka::InRecord*>& records) {
  std::vector<idempotency::EventGuard::Delivery> deliveries;
  deliveries.reserve(records.size());
  for (size_t i = 0; i < records.size(); ++i) deliveries.push_back({envelopes[i].event_id(), records[i]});
  return db.Transact([&](db::Session& s) {
    auto first = guard.MarkFirstDeliveries(s, deliveries);
    std::vector<const events::Envelope*> fresh;
    for (size_t i = 0; i < envelopes.size(); ++i) {
      if (first[i]) {
        fresh.push_back(&envelopes[i]);
        continue;
      }
      EventLogFields fields(envelopes[i]);
      log::LogContext lc(fields);
      log::Info("duplicate event skipped");
    }
    if (fresh.empty()) return size_t(0);
    auto batch = make();  // per attempt: a retried one starts clean
    batch->Prepare(s, fresh);
    for (const auto* e : fresh) {
      EventLogFields fields(*e);
      log::LogContext lc(fields);
      batch->Apply(s, *e);
    }
    batch->Flush(s);
    return outbox::EnqueuedIn(s);
  });
}
}  // namespace

void Service::HandleEventBatches(std::vector<std::string> topics, MakeEventBatch make) {
  auto guard = std::make_shared<idempotency::EventGuard>(spec_.name);
  auto shared_make = std::make_shared<MakeEventBatch>(std::move(make));
  auto wake_relay = [this](size_t enqueued) {
    if (enqueued > 0 && outbox_) outbox_->relay().Wake();
  };
  // One record (the consumer's fallback, and its path when not busy).
  Consume(std::move(topics), [this, guard, shared_make, wake_relay](const events::Envelope& e, const kafka::InRecord& r) {
    try {
      wake_relay(ApplyInOneTransaction(db(), *guard, *shared_make, {e}, {&r}));
    } catch (const db::DbError& error) {
      // Data the database refuses is refused on every retry: a poison record,
      // not a transient failure that would hold its partition forever.
      if (db::ConnectionPool::IsDataError(error))
        throw kafka::PoisonRecord(std::string("the database refused the event's data: ") + error.what());
      throw;
    }
  });
  // The records queued for a worker: a poison one fails the decode and the
  // consumer hands them over one by one.
  consumers_->last().SetBatchHandler([this, guard, shared_make, wake_relay](const std::vector<const kafka::InRecord*>& run) {
    std::vector<events::Envelope> envelopes;
    envelopes.reserve(run.size());
    for (const auto* r : run) envelopes.push_back(DecodeEvent(*r));
    wake_relay(ApplyInOneTransaction(db(), *guard, *shared_make, envelopes, run));
  });
}

void Service::HandleEvents(std::vector<std::string> topics, EventEffect effect) {
  auto shared = std::make_shared<EventEffect>(std::move(effect));
  HandleEventBatches(std::move(topics), [shared] { return std::make_unique<EffectBatch>(*shared); });
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
