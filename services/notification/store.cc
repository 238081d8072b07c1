#include "services/notification/store.h"

namespace op::notification {

namespace {
constexpr std::string_view kInsertNotification =
    "INSERT INTO notifications (event_id, order_id, customer_id, event_type, channel, recipient, subject, body) VALUES";
}  // namespace

void SaveContact(db::Session& s, const std::string& order_id, const Contact& c) {
  s.DeferInsert("INSERT INTO order_contacts (order_id, customer_id, email, phone) VALUES",
                {order_id, c.customer, db::ToParam(c.email), db::ToParam(c.phone)},
                " ON DUPLICATE KEY UPDATE email = VALUES(email), phone = VALUES(phone)");
}

std::optional<Contact> FindContact(db::Session& s, const std::string& order_id) {
  auto r = s.Query("SELECT customer_id, email, phone FROM order_contacts WHERE order_id = ?", order_id);
  if (!r.Next()) return std::nullopt;
  return Contact{r.String("customer_id"), r.OptString("email"), r.OptString("phone")};
}

void AddNotifications(db::Session& s, const EventText& e, const Contact& c, const std::vector<Target>& targets) {
  for (const auto& t : targets)
    s.DeferInsert(kInsertNotification,
                  {e.event_id, e.order_id, c.customer, e.event_type, std::string(ChannelName(t.channel)), t.recipient,
                   e.text.subject, e.text.body},
                  " ON DUPLICATE KEY UPDATE id = id");
}

void AwaitContact(db::Session& s, const EventText& e) {
  s.DeferInsert("INSERT INTO awaiting_contact (event_id, order_id, event_type, subject, body) VALUES",
                {e.event_id, e.order_id, e.event_type, e.text.subject, e.text.body}, " ON DUPLICATE KEY UPDATE event_id = event_id");
}

size_t ResolveAwaiting(db::ConnectionPool& db, int limit, const std::function<std::vector<Target>(const Contact&)>& targets) {
  return db.Transact([&](db::Session& s) {
    std::vector<std::pair<EventText, Contact>> found;
    {
      auto r = s.Query("SELECT a.event_id, a.order_id, a.event_type, a.subject, a.body, c.customer_id, c.email, c.phone "
                       "FROM awaiting_contact a JOIN order_contacts c ON c.order_id = a.order_id "
                       "ORDER BY a.created_at, a.event_id LIMIT ? FOR UPDATE",
                       int64_t(limit));
      while (r.Next())
        found.push_back({{r.String("event_id"), r.String("order_id"), r.String("event_type"), {r.String("subject"), r.String("body")}},
                         {r.String("customer_id"), r.OptString("email"), r.OptString("phone")}});
    }
    if (found.empty()) return size_t(0);
    std::vector<db::Param> ids;
    for (const auto& [e, c] : found) {
      AddNotifications(s, e, c, targets(c));
      ids.emplace_back(std::in_place_type<std::string>, e.event_id);
    }
    const std::string in = db::PaddedInList(ids);
    s.ExecV("DELETE FROM awaiting_contact WHERE event_id IN (" + in + ")", ids);
    return found.size();
  });
}

std::vector<Claimed> MarkSentAndClaimDue(db::ConnectionPool& db, const std::vector<int64_t>& sent, int limit,
                                         std::chrono::milliseconds lease, const std::string& claimer) {
  std::vector<Claimed> out;
  db.Transact([&](db::Session& s) {
    out.clear();  // a retried attempt starts over
    if (!sent.empty()) {
      std::vector<db::Param> params;
      for (int64_t id : sent) params.emplace_back(std::in_place_type<int64_t>, id);
      const std::string in = db::PaddedInList(params);
      s.ExecV("UPDATE notifications SET status = 'SENT', attempts = attempts + 1, sent_at = CURRENT_TIMESTAMP(3), "
              "last_error = NULL WHERE status = 'PENDING' AND id IN (" + in + ")",
              params);
    }
    {
      // SKIP LOCKED: several instances claim disjoint rows without waiting.
      auto r = s.Query("SELECT id, order_id, event_type, channel, recipient, subject, body, attempts FROM notifications "
                       "WHERE status = 'PENDING' AND next_attempt_at <= CURRENT_TIMESTAMP(3) "
                       "ORDER BY next_attempt_at LIMIT ? FOR UPDATE SKIP LOCKED",
                       int64_t(limit));
      while (r.Next())
        out.push_back({r.Int("id"), r.String("order_id"), r.String("event_type"), r.String("channel"),
                       r.String("recipient"), r.String("subject"), r.String("body"), r.Int("attempts")});
    }
    if (out.empty()) return;
    std::vector<db::Param> params{int64_t(lease.count()) * 1000, claimer};
    std::vector<db::Param> ids;
    for (const auto& c : out) ids.emplace_back(std::in_place_type<int64_t>, c.id);
    const std::string in = db::PaddedInList(ids);
    params.insert(params.end(), ids.begin(), ids.end());
    s.ExecV("UPDATE notifications SET next_attempt_at = CURRENT_TIMESTAMP(3) + INTERVAL ? MICROSECOND, claimed_by = ? "
            "WHERE id IN (" + in + ")",
            params);
  });
  return out;
}

uint64_t ReleaseEarlierRunsClaims(db::ConnectionPool& db, const std::string& instance, const std::string& claimer) {
  return db.Exec("UPDATE notifications SET next_attempt_at = CURRENT_TIMESTAMP(3), claimed_by = NULL "
                 "WHERE status = 'PENDING' AND claimed_by <> ? AND SUBSTRING_INDEX(claimed_by, '#', 1) = ?",
                 claimer, instance);
}

void MarkFailed(db::ConnectionPool& db, int64_t id, const std::string& error, std::chrono::milliseconds retry_in) {
  db.Exec("UPDATE notifications SET attempts = attempts + 1, last_error = ?, "
          "next_attempt_at = CURRENT_TIMESTAMP(3) + INTERVAL ? MICROSECOND WHERE id = ? AND status = 'PENDING'",
          error.substr(0, 500), int64_t(retry_in.count()) * 1000, id);
}

int64_t CountPending(db::ConnectionPool& db) {
  auto r = db.Query("SELECT COUNT(*) AS n FROM notifications WHERE status = 'PENDING'");
  return r.Next() ? r.Int("n") : 0;
}

nlohmann::json ListNotifications(db::ConnectionPool& db, const ListFilter& f) {
  std::string sql =
      "SELECT id, order_id, customer_id, event_type, channel, status, attempts, "
      "DATE_FORMAT(created_at, '%Y-%m-%dT%H:%i:%s.%fZ') AS created, DATE_FORMAT(sent_at, '%Y-%m-%dT%H:%i:%s.%fZ') AS sent "
      "FROM notifications WHERE 1=1";
  std::vector<db::Param> params;
  if (f.order_id) sql += " AND order_id = ?", params.push_back(*f.order_id);
  if (f.customer_id) sql += " AND customer_id = ?", params.push_back(*f.customer_id);
  sql += " ORDER BY id DESC LIMIT 500";
  auto lease = db.Acquire();
  auto rows = lease.session().QueryV(sql, params);
  // DATE_FORMAT's %f has microseconds: RFC 3339 with milliseconds.
  auto ms = [](std::string t) { return t.size() == 27 ? t.substr(0, 23) + "Z" : t; };
  nlohmann::json items = nlohmann::json::array();
  while (rows.Next()) {
    nlohmann::json n = {{"id", rows.Int("id")}, {"orderId", rows.String("order_id")}, {"customerId", rows.String("customer_id")},
                        {"eventType", rows.String("event_type")}, {"channel", rows.String("channel")},
                        {"status", rows.String("status")}, {"attempts", rows.Int("attempts")},
                        {"createdAt", ms(rows.String("created"))}, {"sentAt", nullptr}};
    if (auto s = rows.OptString("sent")) n["sentAt"] = ms(*s);
    items.push_back(n);
  }
  return {{"items", items}};
}

}  // namespace op::notification
