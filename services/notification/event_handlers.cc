#include "services/notification/event_handlers.h"

#include "runtime/logging/log.h"
#include "services/notification/store.h"

namespace op::notification {

void NotificationBatch::Apply(db::Session& s, const events::Envelope& e) {
  if (e.has_order_created()) {
    Contact contact = ContactOf(e);
    SaveContact(s, e.order_id(), contact);
    saved_.insert_or_assign(e.order_id(), contact);
    s.AfterCommit([c = &contacts_, id = e.order_id(), contact] { c->Put(id, contact); });
    return;
  }
  auto text = TextFor(e);
  if (!text) return;  // not a customer-facing event
  EventText et{e.event_id(), e.order_id(), e.event_type(), std::move(*text)};
  std::optional<Contact> contact = contacts_.Get(e.order_id());
  if (auto saved = saved_.find(e.order_id()); !contact && saved != saved_.end()) contact = saved->second;
  if (!contact) {
    contact = FindContact(s, e.order_id());
    if (contact) s.AfterCommit([c = &contacts_, id = e.order_id(), found = *contact] { c->Put(id, found); });
  }
  auto* d = &dispatcher_;
  if (!contact) {
    AwaitContact(s, et);
    log::Info("notification waits for its order's contact");
    s.AfterCommit([d] { d->ContactAwaited(); });
    return;
  }
  // Exactly one per (event, channel): the unique key settles a second one
  // (and processed_events already keeps a redelivered event out).
  AddNotifications(s, et, *contact, TargetsFor(*contact, d->EmailEnabled(), d->SmsEnabled()));
  s.AfterCommit([d] { d->Wake(); });
}

}  // namespace op::notification
