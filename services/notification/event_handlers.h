#pragma once
// notification-service's event effect (Service::HandleEvents): each
// customer-facing event becomes one stored notification per channel of its
// order's contact, in the transaction that marks the event processed. An
// event that comes before its order's OrderCreated (another topic, another
// partition) waits in awaiting_contact, without holding up its partition,
// until the contact arrives.
#include "runtime/core/bounded_cache.h"
#include "runtime/db/db.h"
#include "events/envelope.h"
#include "services/notification/dispatcher.h"
#include "services/notification/rules.h"

namespace op::notification {

// Committed contacts by order id: an order's events come within seconds of
// each other, so most find it here instead of in the database.
using ContactCache = BoundedCache<std::string, Contact>;

class EventHandlers {
 public:
  EventHandlers(Dispatcher& dispatcher, size_t cached_contacts) : dispatcher_(dispatcher), contacts_(cached_contacts) {}
  void Apply(db::Session& s, const events::Envelope& e);

 private:
  void OnOrderCreated(db::Session& s, const events::Envelope& e);
  void Notify(db::Session& s, const EventText& e, const Contact& c);

  Dispatcher& dispatcher_;
  ContactCache contacts_;
};

}  // namespace op::notification
