#pragma once
// notifications_db, all of its SQL. Two kinds of callers:
//  - event handlers, inside the runtime's transaction for a batch of events
//    (the Session& functions): contacts, new notifications, events waiting
//    for their order's contact;
//  - the dispatcher, in short transactions of its own (the pool functions):
//    events whose contact has come turned into notifications, due
//    notifications claimed with a lease, then each marked sent or failed. No
//    row lock is held while a message is being sent.
#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "runtime/db/db.h"
#include "services/notification/rules.h"

namespace op::notification {

// --- inside an event's transaction ---

// The order's contact, written at commit with the batch's others.
void SaveContact(db::Session& s, const std::string& order_id, const Contact& c);
std::optional<Contact> FindContact(db::Session& s, const std::string& order_id);

struct EventText {
  std::string event_id, order_id, event_type;
  Text text;
};
// One notification per target, written at commit with the batch's others;
// a second one for the same (event, channel) is ignored.
void AddNotifications(db::Session& s, const EventText& e, const Contact& c, const std::vector<Target>& targets);
// An event whose order's contact is not stored yet: kept, written at commit.
void AwaitContact(db::Session& s, const EventText& e);

// --- the dispatcher ---

// Events awaiting a contact that is stored now become notifications
// (`targets` picks their channels), at most `limit` in one transaction.
// Returns how many. Run after the fact, not by the contact's transaction:
// whichever of the two commits last, the event is found here.
size_t ResolveAwaiting(db::ConnectionPool& db, int limit, const std::function<std::vector<Target>(const Contact&)>& targets);

struct Claimed {
  int64_t id;
  std::string order_id, event_type, channel, recipient, subject, body;
  int64_t attempts;  // before this one
};
// Marks `sent` (delivered in the round before) and claims up to `limit` due
// notifications for `lease`, in one transaction: no other dispatcher takes
// them until the lease runs out (then a crashed dispatcher's claims are
// taken again: delivery is at-least-once).
// `claimer` is "instance#run": the instance's id, and this run's own.
std::vector<Claimed> MarkSentAndClaimDue(db::ConnectionPool& db, const std::vector<int64_t>& sent, int limit,
                                         std::chrono::milliseconds lease, const std::string& claimer);
// A restarted dispatcher of `instance` (its run `claimer`) makes the claims
// of its earlier, dead runs due again at once. Returns how many.
uint64_t ReleaseEarlierRunsClaims(db::ConnectionPool& db, const std::string& instance, const std::string& claimer);
void MarkFailed(db::ConnectionPool& db, int64_t id, const std::string& error, std::chrono::milliseconds retry_in);
int64_t CountPending(db::ConnectionPool& db);

// GET /api/notifications: newest first, at most 500.
struct ListFilter {
  std::optional<std::string> order_id, customer_id;
};
nlohmann::json ListNotifications(db::ConnectionPool& db, const ListFilter& f);

}  // namespace op::notification
