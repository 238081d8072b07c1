#include "runtime/outbox/outbox.h"

#include <nlohmann/json.hpp>

#include "events/topics.h"
#include "runtime/logging/log.h"

namespace op::outbox {

namespace {
struct Enqueued {
  size_t records = 0;
};
}  // namespace

size_t EnqueuedIn(db::Session& s) { return s.InTransaction() ? s.Local<Enqueued>().records : 0; }

void Enqueue(db::Session& s, const kafka::OutRecord& r, const std::string& event_id, const std::string& event_type) {
  if (s.InTransaction()) ++s.Local<Enqueued>().records;
  nlohmann::json headers = nlohmann::json::array();
  for (const auto& [k, v] : r.headers) headers.push_back({k, v});
  // Written at commit with the transaction's other events, one statement for
  // all of them (a consumer batch enqueues one or more per event).
  s.DeferInsert("INSERT INTO outbox (topic, record_key, payload, headers, event_id, event_type) VALUES",
                {r.topic, r.key, r.value, headers.dump(), event_id, event_type});
}

void EnqueueEvent(db::Session& s, const events::Envelope& e) {
  if (auto err = events::Validate(e)) throw std::invalid_argument("refusing to enqueue an invalid event: " + *err);
  kafka::OutRecord r;
  r.topic = std::string(events::TopicOf(e.event_type()));
  r.key = e.order_id();
  r.value = events::Encode(e);
  r.headers = {{std::string(events::kHeaderEventType), e.event_type()},
               {std::string(events::kHeaderEventId), e.event_id()},
               {std::string(events::kHeaderContentType), std::string(events::kContentTypeProtobuf)}};
  if (!e.traceparent().empty()) r.headers.emplace_back(std::string(events::kHeaderTraceparent), e.traceparent());
  Enqueue(s, r, e.event_id(), e.event_type());
}

OutboxRelay::OutboxRelay(db::ConnectionPool& pool, kafka::Producer& producer, RelayOptions options,
                         metrics::MetricsRegistry* metrics)
    : pool_(pool), producer_(producer), options_(options), metrics_(metrics) {
  if (metrics_) {
    collector_id_ = metrics_->AddCollector([this](metrics::Families& out) {
      auto backlog = metrics::Family("outbox_backlog", "Outbox rows not yet published", prometheus::MetricType::Gauge);
      metrics::AddSample(backlog, {}, double(backlog_.load()));
      auto age = metrics::Family("outbox_oldest_unpublished_age_seconds", "Age of the oldest unpublished outbox row",
                                 prometheus::MetricType::Gauge);
      metrics::AddSample(age, {}, oldest_age_.load());
      auto pub = metrics::Family("outbox_records_published_total", "Outbox rows published to Kafka",
                                 prometheus::MetricType::Counter);
      metrics::AddSample(pub, {}, double(published_.load()));
      auto fail = metrics::Family("outbox_relay_failures_total", "Relay batches that failed and will be retried",
                                  prometheus::MetricType::Counter);
      metrics::AddSample(fail, {}, double(failures_.load()));
      auto leader = metrics::Family("outbox_relay_leader", "1 when this instance's relay holds the relay lock",
                                    prometheus::MetricType::Gauge);
      metrics::AddSample(leader, {}, leader_.load() ? 1 : 0);
      for (auto* f : {&backlog, &age, &pub, &fail, &leader}) out.push_back(std::move(*f));
    });
  }
}

OutboxRelay::~OutboxRelay() {
  Stop();
  if (metrics_ && collector_id_ >= 0) metrics_->RemoveCollector(collector_id_);
}

void OutboxRelay::Start() { task_.Start(); }

void OutboxRelay::Stop(std::chrono::milliseconds ack_grace) {
  if (!stopping_.load()) {  // the deadline first: a waiting batch reads it as soon as it sees stopping_
    give_up_at_ = (std::chrono::steady_clock::now() + ack_grace).time_since_epoch().count();
    stopping_ = true;
  }
  task_.Stop();
  if (lock_lease_ && lock_lease_->valid()) {
    try {  // the connection goes back to the pool: it must not keep the lock
      lock_lease_->session().Query("SELECT RELEASE_LOCK(CONCAT(DATABASE(), '.outbox-relay')) AS r");
    } catch (const std::exception&) {
      lock_lease_->MarkBroken();
    }
  }
  lock_lease_.reset();
  leader_ = false;
}

void OutboxRelay::Wake() { task_.Wake(); }

namespace {
constexpr const char* kIsMine = "IS_USED_LOCK(CONCAT(DATABASE(), '.outbox-relay')) = CONNECTION_ID()";
}

void OutboxRelay::DropLeadership() {
  if (lock_lease_ && lock_lease_->valid()) lock_lease_->MarkBroken();  // a broken connection loses the lock
  lock_lease_.reset();
  leader_ = false;
}

OutboxRelay::Leadership OutboxRelay::EnsureLeadership() {
  if (lock_lease_) {
    try {  // still ours?
      auto rows = lock_lease_->session().Query(std::string("SELECT ") + kIsMine + " AS mine");
      if (rows.Next() && rows.Int("mine") == 1) return Leadership::kKept;
    } catch (const db::DbError&) {
    }
    DropLeadership();
  }
  auto lease = pool_.Acquire();
  auto rows = lease.session().Query("SELECT GET_LOCK(CONCAT(DATABASE(), '.outbox-relay'), 0) AS got");
  if (rows.Next() && rows.Int("got") == 1) {
    lock_lease_.emplace(std::move(lease));
    leader_ = true;
    log::Info("outbox relay is the leader for this database");
    return Leadership::kTaken;
  }
  return Leadership::kNone;
}

std::vector<OutboxRelay::Row> OutboxRelay::PollAsLeader() {
  // On the lock's own connection and only while it holds the lock: the
  // leadership check and the read are one statement, one round trip per
  // wake-up instead of two, and no window between them.
  // No row locks: only the leader relays, and a locking read here would take
  // next-key locks on the unpublished-rows index, making every service
  // transaction that inserts an outbox row wait for this batch's Kafka acks.
  std::vector<Row> rows;
  auto rs = lock_lease_->session().Query(std::string("SELECT id, topic, record_key, payload, headers FROM outbox "
                                                     "WHERE published_at IS NULL AND ") + kIsMine +
                                             " ORDER BY id LIMIT ?",
                                         options_.batch_size);
  while (rs.Next()) {
    Row r{rs.Int("id"), {rs.String("topic"), rs.String("record_key"), rs.String("payload"), {}}};
    for (auto& h : nlohmann::json::parse(rs.String("headers"))) r.record.headers.emplace_back(h[0], h[1]);
    rows.push_back(std::move(r));
  }
  return rows;
}

size_t OutboxRelay::RelayOnce() {
  std::vector<Row> rows;
  bool polled = false;
  if (lock_lease_) {
    try {
      rows = PollAsLeader();
      polled = true;
    } catch (const db::DbError& e) {
      log::Warn("outbox relay: lock connection failed; leadership dropped", {{"error", e.what()}});
      DropLeadership();
    }
  }
  if (rows.empty()) {  // nothing to publish, or the lock is no longer ours: which?
    // A lock is lost only with its connection (the poll then throws), or if
    // the connection was silently replaced: asked at most once per poll
    // interval, not after every wake-up that found the rows already sent.
    auto now = std::chrono::steady_clock::now();
    if (polled && now - last_leader_check_ < options_.poll_interval) return 0;
    last_leader_check_ = now;
    auto l = EnsureLeadership();
    if (l == Leadership::kNone || (l == Leadership::kKept && polled)) return 0;
    rows = PollAsLeader();
  }
  if (rows.empty()) return 0;
  // Send the whole batch, then wait: the idempotent producer keeps order.
  std::vector<std::future<kafka::DeliveryReport>> acks;
  for (auto& r : rows) acks.push_back(producer_.Send(r.record));
  size_t ok = 0;
  std::string error;
  // An acknowledgement is waited for in slices so that a stop can cut the
  // wait short (Stop's ack_grace); a ready one returns at once.
  auto acked = [this](std::future<kafka::DeliveryReport>& a) {
    while (a.wait_for(std::chrono::milliseconds(50)) != std::future_status::ready)
      if (stopping_ && std::chrono::steady_clock::now().time_since_epoch().count() >= give_up_at_.load()) return false;
    return true;
  };
  for (auto& a : acks) {
    if (!acked(a)) {
      if (error.empty()) error = "stopping: no acknowledgement before the shutdown deadline";
      break;
    }
    auto rep = a.get();
    if (!rep.ok) {
      if (error.empty()) error = rep.error;
    } else if (error.empty()) {
      ++ok;  // a prefix of the batch, in id order
    }
  }
  if (ok > 0) {
    std::vector<db::Param> ids;
    for (size_t i = 0; i < ok; ++i) ids.push_back(rows[i].id);
    // Placeholders, not the ids in the text: a statement text per batch
    // would be a new prepared statement on the server every time.
    const std::string in = db::PaddedInList(ids);
    lock_lease_->session().ExecV("UPDATE outbox SET published_at = CURRENT_TIMESTAMP(3) WHERE id IN (" + in + ")", ids);
  }
  published_ += ok;
  if (!error.empty()) {
    failures_++;
    log::Warn("outbox relay: publish failed, will retry", {{"error", error}, {"published", ok}, {"batch", rows.size()}});
  }
  return ok;
}

void OutboxRelay::RefreshBacklog() {
  auto rows = pool_.Query(
      "SELECT COUNT(*) AS n, COALESCE(TIMESTAMPDIFF(MICROSECOND, MIN(created_at), CURRENT_TIMESTAMP(3)), 0) AS age_us "
      "FROM outbox WHERE published_at IS NULL");
  if (rows.Next()) {
    backlog_ = rows.Int("n");
    oldest_age_ = double(rows.Int("age_us")) / 1e6;
  }
}

void OutboxRelay::Cleanup() {
  pool_.Exec("DELETE FROM outbox WHERE published_at IS NOT NULL AND published_at < CURRENT_TIMESTAMP(3) - INTERVAL ? SECOND LIMIT 1000",
             int64_t(std::chrono::duration_cast<std::chrono::seconds>(options_.retain_published).count()));
}

std::chrono::milliseconds OutboxRelay::Step() {
  try {
    size_t n = RelayOnce();
    auto now = std::chrono::steady_clock::now();
    if (now - last_stats_ > std::chrono::seconds(1)) {
      RefreshBacklog();
      last_stats_ = now;
    }
    if (now - last_cleanup_ > std::chrono::minutes(1)) {
      Cleanup();
      last_cleanup_ = now;
    }
    return n == size_t(options_.batch_size) ? std::chrono::milliseconds(0) : options_.poll_interval;  // a full batch: more waiting
  } catch (const std::exception& e) {
    failures_++;
    log::Warn("outbox relay: database error, will retry", {{"error", e.what()}});
    return options_.error_backoff;
  }
}

}  // namespace op::outbox
