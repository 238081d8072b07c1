#pragma once
// notifications_db, all of its SQL. Two kinds of callers:
//  - event handlers, inside the runtime's transaction for a batch of events
//    (the Session& functions): contacts, new notifications, events waiting
//    for their order's contact;
//  - the dispatcher, in short transactions of its own (the pool functions):
//    claim due notifications with a lease, then mark each sent or failed. No
//    row lock is held while a message is being sent.
#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "runtime/db/db.h"
#include "services/notification/rules.h"

namespace op::notification {

// --- inside an event's transaction ---

// Stores the order's contact now (not at commit): a concurrent transaction
// looking for it (FindContact) waits for this one instead of missing it.
void SaveContact(db::Session& s, const std::string& order_id, const Contact& c);
// The order's contact, read with a shared lock: it sees a committed contact
// even when this transaction's snapshot is older, and until this transaction
// ends no contact for the order can be written (so an AwaitContact after a
// miss is always found by the contact's TakeAwaiting).
std::optional<Contact> FindContact(db::Session& s, const std::string& order_id);

struct EventText {
  std::string event_id, order_id, event_type;
  Text text;
};
// One notification per target, written at commit with the batch's others;
// a second one for the same (event, channel) is ignored.
void AddNotifications(db::Session& s, const EventText& e, const Contact& c, const std::vector<Target>& targets);
void AwaitContact(db::Session& s, const EventText& e);
// The events waiting for `order_id`'s contact, locked and removed.
std::vector<EventText> TakeAwaiting(db::Session& s, const std::string& order_id);

// --- the dispatcher ---

struct Claimed {
  int64_t id;
  std::string order_id, event_type, channel, recipient, subject, body;
  int64_t attempts;  // before this one
};
// Up to `limit` due notifications, claimed for `lease`: no other dispatcher
// takes them until the lease runs out (then a crashed dispatcher's claims
// are taken again: delivery is at-least-once).
std::vector<Claimed> ClaimDue(db::ConnectionPool& db, int limit, std::chrono::milliseconds lease);
void MarkSent(db::ConnectionPool& db, std::vector<int64_t> ids);
void MarkFailed(db::ConnectionPool& db, int64_t id, const std::string& error, std::chrono::milliseconds retry_in);
int64_t CountPending(db::ConnectionPool& db);

// GET /api/notifications: newest first, at most 500.
struct ListFilter {
  std::optional<std::string> order_id, customer_id;
};
nlohmann::json ListNotifications(db::ConnectionPool& db, const ListFilter& f);

}  // namespace op::notification
