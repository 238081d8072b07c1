#pragma once
// notification-service's event effect, as an EventBatch: each customer-facing
// event becomes one stored notification per channel of its order's contact,
// in the transaction that marks the event processed. An event that comes
// before its order's OrderCreated (another topic, another partition) is kept
// in awaiting_contact, without holding up its partition; the dispatcher
// turns it into notifications once the contact is stored.
#include <unordered_map>

#include "events/envelope.h"
#include "runtime/core/bounded_cache.h"
#include "runtime/service/event_batch.h"
#include "services/notification/dispatcher.h"
#include "services/notification/rules.h"

namespace op::notification {

// Committed contacts by order id: an order's events come within seconds of
// each other, so most find it here instead of in the database.
using ContactCache = BoundedCache<std::string, Contact>;

class NotificationBatch final : public EventBatch {
 public:
  NotificationBatch(Dispatcher& dispatcher, ContactCache& contacts) : dispatcher_(dispatcher), contacts_(contacts) {}
  void Apply(db::Session& s, const events::Envelope& e) override;

 private:
  Dispatcher& dispatcher_;
  ContactCache& contacts_;
  std::unordered_map<std::string, Contact> saved_;  // contacts this batch stores, by order id
};

}  // namespace op::notification
