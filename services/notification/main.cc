// notification-service: tells customers about confirmations, cancellations,
// payments and refunds. Each (event, channel) becomes exactly one stored
// notification, in the same transaction as the event's processed mark; a
// dispatcher delivers them (SMTP email, SMS webhook, or the log), retrying
// with backoff behind a breaker per channel until delivered. None is dropped.
#include <fmt/format.h>
#include <pthread.h>

#include <condition_variable>
#include <thread>
#include <unordered_map>

#include "events/topics.h"
#include "runtime/core/bounded_cache.h"
#include "runtime/logging/log.h"
#include "runtime/service/service.h"
#include "services/notification/channels.h"

namespace op::notification {
namespace {

struct Text {
  std::string subject, body;
};

std::optional<Text> TextFor(const events::Envelope& e) {
  const std::string& id = e.order_id();
  auto money = [](const events::Money& m) { return fmt::format("{}.{:02} {}", m.cents() / 100, m.cents() % 100, m.currency()); };
  switch (e.payload_case()) {
    case events::Envelope::kOrderConfirmed:
      return Text{"Order " + id + " confirmed", "Your order " + id + " is confirmed. Total: " + money(e.order_confirmed().total()) + "."};
    case events::Envelope::kOrderCancelled:
      return Text{"Order " + id + " cancelled", "Your order " + id + " was cancelled (" + e.order_cancelled().reason() + ")."};
    case events::Envelope::kPaymentCompleted:
      return Text{"Payment received for order " + id, "We charged " + money(e.payment_completed().amount()) + " for order " + id + "."};
    case events::Envelope::kPaymentRefunded:
      return Text{"Refund for order " + id, "We refunded " + money(e.payment_refunded().amount()) + " for order " + id + "."};
    default:
      return std::nullopt;
  }
}

class Dispatcher {
 public:
  Dispatcher(Service& svc)
      : svc_(svc),
        smtp_(svc.config().GetString("notification.smtp.url"), svc.config().GetString("notification.smtp.from"),
              svc.config().GetDuration("notification.smtp.timeout")),
        sms_(svc.http_client(), svc.config().GetString("notification.sms.webhook-url")),
        max_backoff_(svc.config().GetDuration("notification.retry.max-backoff")),
        sent_(&prometheus::BuildCounter().Name("notifications_total").Help("Notification delivery attempts by channel and result")
                   .Register(svc.metrics().Registry())) {
    svc.metrics().AddCollector([this](metrics::Families& out) {
      auto f = metrics::Family("notifications_pending", "Notifications not yet delivered", prometheus::MetricType::Gauge);
      metrics::AddSample(f, {}, double(pending_.load()));
      out.push_back(std::move(f));
    });
    thread_ = std::thread([this] { Run(); });
  }
  ~Dispatcher() {
    {
      std::lock_guard lock(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }
  void Wake() {
    std::lock_guard lock(mu_);
    woken_ = true;
    cv_.notify_all();
  }
  bool EmailEnabled() const { return !svc_.config().GetString("notification.smtp.url").empty(); }
  bool SmsEnabled() const { return !svc_.config().GetString("notification.sms.webhook-url").empty(); }

 private:
  void Run() {
    pthread_setname_np(pthread_self(), "notify-dispatch");
    std::unique_lock lock(mu_);
    while (!stop_) {
      lock.unlock();
      size_t sent = 0;
      try {
        sent = DispatchDue();
      } catch (const std::exception& e) {
        log::Warn("notification dispatch failed; will retry", {{"error", e.what()}});
      }
      lock.lock();
      if (sent == 0) cv_.wait_for(lock, std::chrono::milliseconds(250), [&] { return stop_ || woken_; });
      woken_ = false;
    }
  }

  SendResult Deliver(const std::string& channel, const Message& m) {
    if (channel == "log") {
      log::Info("notification", {{"orderId", m.order_id}, {"to", m.recipient}, {"subject", m.subject}, {"body", m.body}});
      return {true, ""};
    }
    auto& breaker = svc_.resilience().GetCircuitBreaker("notification-" + channel);
    if (!breaker.TryAcquirePermission()) return {false, "circuit breaker 'notification-" + channel + "' is OPEN"};
    auto start = std::chrono::steady_clock::now();
    SendResult r = channel == "email" ? smtp_.Send(m) : sms_.Send(m);
    auto took = std::chrono::steady_clock::now() - start;
    if (r.delivered) breaker.OnSuccess(took);
    else breaker.OnError(took);
    return r;
  }

  // One batch of due notifications; rows are locked (SKIP LOCKED) so several
  // instances share the work without sending one twice.
  size_t DispatchDue() {
    size_t delivered = 0;
    svc_.db().Transact([&](db::Session& s) {
      auto rows = s.Query("SELECT id, order_id, event_type, channel, recipient, subject, body, attempts FROM notifications "
                          "WHERE status = 'PENDING' AND next_attempt_at <= CURRENT_TIMESTAMP(3) "
                          "ORDER BY next_attempt_at LIMIT 20 FOR UPDATE SKIP LOCKED");
      struct Row { Message m; std::string channel; int64_t attempts; };
      std::vector<Row> due;
      while (rows.Next())
        due.push_back({{rows.Int("id"), rows.String("order_id"), rows.String("event_type"), rows.String("recipient"),
                        rows.String("subject"), rows.String("body")}, rows.String("channel"), rows.Int("attempts")});
      std::vector<db::Param> sent;  // marked in one statement after the round
      for (const auto& r : due) {
        auto res = Deliver(r.channel, r.m);
        sent_->Add({{"channel", r.channel}, {"result", res.delivered ? "delivered" : "failed"}}).Increment();
        if (res.delivered) {
          sent.push_back(r.m.id);
          ++delivered;
        } else {
          // exponential backoff: 1 s, 2 s, 4 s ... capped; never given up
          int64_t backoff_ms = std::min<int64_t>(max_backoff_.count(), int64_t(1000) << std::min<int64_t>(r.attempts, 20));
          s.Exec("UPDATE notifications SET attempts = attempts + 1, last_error = ?, "
                 "next_attempt_at = CURRENT_TIMESTAMP(3) + INTERVAL ? MICROSECOND WHERE id = ?",
                 res.error.substr(0, 500), backoff_ms * 1000, r.m.id);
          log::Warn("notification not delivered; will retry",
                    {{"notificationId", r.m.id}, {"channel", r.channel}, {"attempt", r.attempts + 1}, {"error", res.error}});
        }
      }
      if (!sent.empty()) {
        const std::string in = db::PaddedInList(sent);
        s.ExecV("UPDATE notifications SET status = 'SENT', attempts = attempts + 1, sent_at = CURRENT_TIMESTAMP(3), "
                "last_error = NULL WHERE id IN (" + in + ")", sent);
      }
    });
    // The pending gauge, refreshed at most twice a second (not once per round).
    if (auto now = std::chrono::steady_clock::now(); now - counted_at_ >= std::chrono::milliseconds(500)) {
      auto p = svc_.db().Query("SELECT COUNT(*) AS n FROM notifications WHERE status = 'PENDING'");
      if (p.Next()) pending_ = p.Int("n");
      counted_at_ = now;
    }
    return delivered;
  }

  Service& svc_;
  SmtpChannel smtp_;
  SmsWebhookChannel sms_;
  std::chrono::milliseconds max_backoff_;
  prometheus::Family<prometheus::Counter>* sent_;
  std::atomic<int64_t> pending_{0};
  std::chrono::steady_clock::time_point counted_at_{};  // dispatch thread
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false, woken_ = false;
  std::thread thread_;
};

// Where an order's notifications go: written once (OrderCreated), read for
// each of its later events.
struct Contact {
  std::string customer;
  std::optional<std::string> email, phone;
};
using Contacts = BoundedCache<std::string, Contact>;  // by order id, only what is committed
struct PendingContacts {  // by order id, written in this transaction (Session::Local)
  std::unordered_map<std::string, Contact> rows;
};

void Record(Dispatcher& d, Contacts& contacts, db::Session& s, const events::Envelope& e) {
  if (e.has_order_created()) {
    const auto& c = e.order_created().contact();
    Contact contact{e.order_created().customer_id(), c.email().empty() ? std::nullopt : std::optional(c.email()),
                    c.phone().empty() ? std::nullopt : std::optional(c.phone())};
    // At commit, with the batch's other contacts in one statement; the
    // batch's later events for the order find it in `pending`.
    s.DeferInsert("INSERT INTO order_contacts (order_id, customer_id, email, phone) VALUES",
                  {e.order_id(), contact.customer, db::ToParam(contact.email), db::ToParam(contact.phone)},
                  " ON DUPLICATE KEY UPDATE email = VALUES(email), phone = VALUES(phone)");
    s.Local<PendingContacts>().rows.insert_or_assign(e.order_id(), contact);
    s.AfterCommit([&contacts, id = e.order_id(), contact] { contacts.Put(id, contact); });
    return;
  }
  auto text = TextFor(e);
  if (!text) return;  // not a customer-facing event
  auto contact = contacts.Get(e.order_id());
  if (!contact) {
    const auto& pending = s.Local<PendingContacts>().rows;
    if (auto p = pending.find(e.order_id()); p != pending.end()) contact = p->second;
  }
  if (!contact) {
    auto row = s.Query("SELECT customer_id, email, phone FROM order_contacts WHERE order_id = ?", e.order_id());
    // The order's OrderCreated may still be behind on another partition: retry.
    if (!row.Next()) throw std::runtime_error("contact of order " + e.order_id() + " not known yet");
    contact = Contact{row.String("customer_id"), row.OptString("email"), row.OptString("phone")};
    s.AfterCommit([&contacts, id = e.order_id(), c = *contact] { contacts.Put(id, c); });
  }
  std::vector<std::pair<std::string, std::string>> targets;  // channel, recipient
  if (contact->email && d.EmailEnabled()) targets.emplace_back("email", *contact->email);
  if (contact->phone && d.SmsEnabled()) targets.emplace_back("sms", *contact->phone);
  if (targets.empty()) targets.emplace_back("log", contact->customer);
  // Written with the batch's other notifications at its commit; exactly one
  // per (event, channel) by the unique key (processed_events already keeps
  // a redelivered event out).
  for (const auto& [channel, to] : targets)
    s.DeferInsert("INSERT INTO notifications (event_id, order_id, customer_id, event_type, channel, recipient, subject, body) VALUES",
                  {e.event_id(), e.order_id(), contact->customer, e.event_type(), channel, to, text->subject, text->body},
                  " ON DUPLICATE KEY UPDATE id = id");
  s.AfterCommit([&d] { d.Wake(); });
}

nlohmann::json List(db::ConnectionPool& db, http::Request& req) {
  std::string sql =
      "SELECT id, order_id, customer_id, event_type, channel, status, attempts, "
      "DATE_FORMAT(created_at, '%Y-%m-%dT%H:%i:%s.%fZ') AS created, DATE_FORMAT(sent_at, '%Y-%m-%dT%H:%i:%s.%fZ') AS sent "
      "FROM notifications WHERE 1=1";
  std::vector<db::Param> params;
  http::Validation v;
  for (const auto& [k, val] : req.query)
    if (k != "orderId" && k != "customerId") v.Add(k, "is not a known query parameter (orderId, customerId)");
  if (auto o = req.Query("orderId")) {
    if (o->empty() || o->size() > 64) v.Add("orderId", "must be 1 to 64 characters");
    sql += " AND order_id = ?", params.push_back(*o);
  }
  if (auto c = req.Query("customerId")) {
    if (c->empty() || c->size() > 64) v.Add("customerId", "must be 1 to 64 characters");
    sql += " AND customer_id = ?", params.push_back(*c);
  }
  v.ThrowIfInvalid();
  sql += " ORDER BY id DESC LIMIT 500";
  auto lease = db.Acquire();
  auto rows = lease.session().QueryV(sql, params);
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

void Wire(Service& svc) {
  const auto smtp = svc.config().GetString("notification.smtp.url");
  if (!smtp.empty() && smtp.rfind("smtp://", 0) != 0 && smtp.rfind("smtps://", 0) != 0)
    throw config::ConfigError("key 'notification.smtp.url' must start with smtp:// or smtps://: got '" + smtp + "'");
  const auto sms = svc.config().GetString("notification.sms.webhook-url");
  if (!sms.empty() && sms.rfind("http://", 0) != 0 && sms.rfind("https://", 0) != 0)
    throw config::ConfigError("key 'notification.sms.webhook-url' must be an http(s) URL: got '" + sms + "'");
  auto dispatcher = std::make_shared<Dispatcher>(svc);
  svc.OnStop([dispatcher]() mutable { dispatcher.reset(); });
  auto* d = dispatcher.get();
  // Shared by the consumer threads' handler; goes with it.
  auto contacts = std::make_shared<Contacts>(10'000);  // an order's events come within seconds of each other
  svc.router().Get("/api/notifications", [&svc](http::Request& req) { return http::Response::Json(200, List(svc.db(), req)); });
  svc.HandleEvents({std::string(events::kOrderEvents), std::string(events::kPaymentEvents)},
                   [d, contacts](db::Session& s, const events::Envelope& e) { Record(*d, *contacts, s, e); });
}

}  // namespace
}  // namespace op::notification

int main(int argc, char** argv) {
  op::ServiceSpec spec;
  spec.name = "notification-service";
  spec.default_port = 8083;
  spec.uses_database = true;
  spec.uses_kafka = true;
  spec.migrations = {
      {1, "order contacts",
       "CREATE TABLE order_contacts ("
       " order_id VARCHAR(64) PRIMARY KEY, customer_id VARCHAR(64) NOT NULL,"
       " email VARCHAR(254) NULL, phone VARCHAR(32) NULL"
       ") ENGINE=InnoDB"},
      {2, "notifications",
       "CREATE TABLE notifications ("
       " id BIGINT AUTO_INCREMENT PRIMARY KEY, event_id VARCHAR(64) NOT NULL, order_id VARCHAR(64) NOT NULL,"
       " customer_id VARCHAR(64) NOT NULL, event_type VARCHAR(40) NOT NULL, channel VARCHAR(8) NOT NULL,"
       " recipient VARCHAR(254) NOT NULL, subject VARCHAR(300) NOT NULL, body TEXT NOT NULL,"
       " status VARCHAR(12) NOT NULL DEFAULT 'PENDING', attempts INT NOT NULL DEFAULT 0, last_error VARCHAR(500) NULL,"
       " next_attempt_at TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),"
       " created_at TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3), sent_at TIMESTAMP(3) NULL,"
       " UNIQUE KEY one_per_event_channel (event_id, channel),"
       " INDEX notifications_due (status, next_attempt_at), INDEX notifications_order (order_id),"
       " INDEX notifications_customer (customer_id)"
       ") ENGINE=InnoDB"},
  };
  spec.declare_config = [](op::config::Schema& s) {
    using op::config::Type;
    s.Add("notification.smtp.url", Type::kString, "", "SMTP server, e.g. smtp://127.0.0.1:2525 (empty: no email)");
    s.Add("notification.smtp.from", Type::kString, "orders@orderplatform.local", "sender address");
    s.Add("notification.smtp.timeout", Type::kDuration, "10s", "one SMTP delivery at most");
    s.Add("notification.sms.webhook-url", Type::kString, "", "SMS gateway webhook (empty: no SMS)");
    s.Add("notification.retry.max-backoff", Type::kDuration, "5m", "longest wait between delivery attempts");
  };
  return op::Service::Run(spec, argc, argv, op::notification::Wire);
}
