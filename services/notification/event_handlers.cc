#include "services/notification/event_handlers.h"

#include "runtime/logging/log.h"
#include "services/notification/store.h"

namespace op::notification {

void EventHandlers::Apply(db::Session& s, const events::Envelope& e) {
  if (e.has_order_created()) return OnOrderCreated(s, e);
  auto text = TextFor(e);
  if (!text) return;  // not a customer-facing event
  EventText et{e.event_id(), e.order_id(), e.event_type(), std::move(*text)};
  std::optional<Contact> contact = contacts_.Get(e.order_id());
  if (!contact) contact = FindContact(s, e.order_id());
  if (!contact) {
    AwaitContact(s, et);
    log::Info("notification waits for its order's contact");
    return;
  }
  s.AfterCommit([this, id = e.order_id(), c = *contact] { contacts_.Put(id, c); });
  Notify(s, et, *contact);
}

void EventHandlers::OnOrderCreated(db::Session& s, const events::Envelope& e) {
  Contact contact = ContactOf(e);
  SaveContact(s, e.order_id(), contact);  // first: see FindContact
  for (const auto& waiting : TakeAwaiting(s, e.order_id())) Notify(s, waiting, contact);
  s.AfterCommit([this, id = e.order_id(), contact] { contacts_.Put(id, contact); });
}

void EventHandlers::Notify(db::Session& s, const EventText& e, const Contact& c) {
  // Exactly one per (event, channel): the unique key settles a second one
  // (and processed_events already keeps a redelivered event out).
  AddNotifications(s, e, c, TargetsFor(c, dispatcher_.EmailEnabled(), dispatcher_.SmsEnabled()));
  s.AfterCommit([d = &dispatcher_] { d->Wake(); });
}

}  // namespace op::notification
