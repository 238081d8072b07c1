// payment-service: customer accounts and the payments ledger. Charges an
// order's total on OrderCreated when the balance covers it, refunds a charge on
// OrderCancelled. Money is conserved: balances + captured payments change only
// through the accounts API (PUT, deposit), never through the saga.
#include <fmt/format.h>

#include <chrono>
#include <map>
#include <optional>
#include <set>

#include "events/topics.h"
#include "runtime/core/time_format.h"
#include "runtime/core/uuid.h"
#include "runtime/logging/log.h"
#include "runtime/service/service.h"
#include "services/payment/rules.h"

namespace op::payment {
namespace {

nlohmann::json AccountJson(db::Session& s, const std::string& customer) {
  auto r = s.Query("SELECT customer_id, balance_cents FROM accounts WHERE customer_id = ?", customer);
  if (!r.Next()) throw http::HttpError(404, "no account for customer '" + customer + "'");
  return {{"customerId", r.String("customer_id")}, {"balanceCents", r.Int("balance_cents")}};
}

const std::string& CustomerParam(http::Request& req) {
  const auto& id = req.PathParam("customerId");
  if (!ValidCustomerId(id))
    throw http::HttpError(http::Problem(http::MakeProblem(400, "invalid customer id").Field("customerId", "1 to 64 of A-Z a-z 0-9 . _ @ -")));
  return id;
}

// A charge or refund's ledger line, written at commit with the batch's other
// lines in one statement (in the order booked): nothing in the transaction
// reads the ledger back.
void Book(db::Session& s, const std::string& customer, const std::string& order_id, std::string kind, int64_t delta) {
  s.DeferInsert("INSERT INTO ledger (customer_id, order_id, kind, delta_cents) VALUES",
                {customer, order_id, std::move(kind), delta});
}

// The payments this transaction made (Session::Local), by order id: inserted
// in one statement just before the commit. A cancellation in the same batch
// as its order's creation refunds the pending row here.
struct NewPayment {
  std::string payment_id, customer, currency, status;
  int64_t amount;
  std::optional<std::string> reason;
  std::optional<std::string> refunded_at;  // 'YYYY-MM-DD HH:MM:SS.fff' (the session's time zone is UTC)
};
struct NewPayments {
  std::map<std::string, NewPayment> rows;
};

// Their final rows, deferred to the commit's multi-row insert.
void InsertNewPayments(db::Session& s) {
  for (const auto& [order, p] : s.Local<NewPayments>().rows)
    s.DeferInsert("INSERT INTO payments (order_id, payment_id, customer_id, amount_cents, currency, status, reason, "
                  "refunded_at) VALUES",
                  {order, p.payment_id, p.customer, p.amount, p.currency, p.status, db::ToParam(p.reason),
                   db::ToParam(p.refunded_at)});
}

NewPayments& Made(db::Session& s) { return s.Local<NewPayments>(InsertNewPayments); }

void Record(db::Session& s, const std::string& order_id, NewPayment p) {
  Made(s).rows.insert_or_assign(order_id, std::move(p));
}

// The accounts this transaction's events charge or refund, read and locked
// once (a batch's all up front, in customer order: AccountsOf), changed in
// memory by each event, and written back just before the commit in one
// statement. A batch of charges is then two statements however many orders
// it holds, not an UPDATE per order. The rows are locked when read, so
// writing their new balances back loses no update (deposits and PUTs update
// the same rows in transactions of their own).
struct Balances {
  db::LockedRows<int64_t> accounts;  // balance by customer
};

void WriteBalances(db::Session& s) {
  auto& b = s.Local<Balances>();  // made already: this runs because it was
  static constexpr std::string_view kColumns[] = {"balance_cents"};
  b.accounts.WriteBack(s, "accounts", "customer_id", kColumns,
                       [](int64_t balance) { return std::vector<db::Param>{balance}; });
}

Balances& Accounts(db::Session& s) { return s.Local<Balances>(WriteBalances); }

// Reads and locks, in customer order, the accounts not known yet.
void LoadAccounts(db::Session& s, Balances& b, const std::set<std::string>& customers) {
  b.accounts.Load(s, "accounts", "customer_id", "balance_cents", customers,
                  [](const db::Rows& r) { return r.Int("balance_cents"); });
}

// The account's balance, locked, for changing in memory (nullopt: no account).
std::optional<int64_t>& Balance(db::Session& s, const std::string& customer) {
  auto& b = Accounts(s);
  LoadAccounts(s, b, {customer});
  return b.accounts.rows.at(customer);
}

// Changes an existing account's balance in memory (written at commit).
void Change(db::Session& s, const std::string& customer, int64_t delta) {
  Balance(s, customer);  // loaded
  Accounts(s).accounts.Change(customer) += delta;
}

void Charge(db::Session& s, const events::Envelope& e) {
  const auto& oc = e.order_created();
  int64_t amount = oc.total().cents();
  if (amount < 0 || oc.customer_id().empty())
    throw kafka::PoisonRecord(fmt::format("OrderCreated with total {} and customer '{}'", amount, oc.customer_id()));
  ChargeDecision decision = DecideCharge(Balance(s, oc.customer_id()), amount);
  if (decision.approved) Change(s, oc.customer_id(), -amount);
  auto reply = events::NewEnvelope(e.order_id(), "payment-service", &e);
  if (decision.approved) {
    std::string payment_id = NewUuid();
    Record(s, e.order_id(), {payment_id, oc.customer_id(), oc.total().currency(), "CAPTURED", amount, std::nullopt, std::nullopt});
    Book(s, oc.customer_id(), e.order_id(), "CHARGE", -amount);
    auto* p = reply.mutable_payment_completed();
    p->set_customer_id(oc.customer_id());
    *p->mutable_amount() = oc.total();
    p->set_payment_id(payment_id);
  } else {
    Record(s, e.order_id(), {NewUuid(), oc.customer_id(), oc.total().currency(), "DECLINED", amount, decision.reason, std::nullopt});
    auto* p = reply.mutable_payment_failed();
    p->set_customer_id(oc.customer_id());
    p->set_reason(decision.reason);
    *p->mutable_amount() = oc.total();
    log::Info("payment declined", {{"reason", decision.reason}});
  }
  events::SealEventType(reply);
  outbox::EnqueueEvent(s, reply);
}

void Refund(db::Session& s, const events::Envelope& e) {
  std::string customer, payment_id, currency;
  int64_t amount = 0;
  auto& made = Made(s).rows;
  if (auto p = made.find(e.order_id()); p != made.end()) {  // charged in this transaction
    if (p->second.status != "CAPTURED") return;
    customer = p->second.customer, payment_id = p->second.payment_id, currency = p->second.currency;
    amount = p->second.amount;
    p->second.status = "REFUNDED";
    p->second.refunded_at = FormatSqlTimestamp(std::chrono::system_clock::now());
  } else {
    auto r = s.Query("SELECT payment_id, customer_id, amount_cents, currency FROM payments WHERE order_id = ? AND status = 'CAPTURED' FOR UPDATE",
                     e.order_id());
    if (!r.Next()) return;  // nothing captured: declined, or never charged
    customer = r.String("customer_id"), payment_id = r.String("payment_id"), currency = r.String("currency");
    amount = r.Int("amount_cents");
    s.Exec("UPDATE payments SET status = 'REFUNDED', refunded_at = CURRENT_TIMESTAMP(3) WHERE order_id = ?", e.order_id());
  }
  if (!Balance(s, customer))  // the account was deleted by hand since the charge
    throw kafka::PoisonRecord(fmt::format("refund of order {}: no account '{}'", e.order_id(), customer));
  Change(s, customer, amount);
  Book(s, customer, e.order_id(), "REFUND", amount);
  auto reply = events::NewEnvelope(e.order_id(), "payment-service", &e);
  auto* p = reply.mutable_payment_refunded();
  p->set_customer_id(customer);
  p->mutable_amount()->set_cents(amount);
  p->mutable_amount()->set_currency(currency);
  p->set_payment_id(payment_id);
  events::SealEventType(reply);
  outbox::EnqueueEvent(s, reply);
}

// Locks, and reads, the accounts a batch of events will change, in customer
// order, before any event runs (Service::BatchLocks): new orders' customers
// and the customers of the charges that cancellations refund.
Service::SharedRows AccountsOf(db::Session& s, const std::vector<const events::Envelope*>& batch) {
  std::set<std::string> customers;
  std::vector<db::Param> refunded;
  for (const auto* e : batch) {
    if (e->has_order_created() && !e->order_created().customer_id().empty())
      customers.insert(e->order_created().customer_id());
    else if (e->has_order_cancelled())
      refunded.push_back(e->order_id());
  }
  if (!refunded.empty()) {
    const std::string in = db::PaddedInList(refunded);
    auto rows = s.QueryV("SELECT DISTINCT customer_id FROM payments WHERE status = 'CAPTURED' AND order_id IN (" + in + ")",
                         refunded);
    while (rows.Next()) customers.insert(rows.String("customer_id"));
  }
  LoadAccounts(s, Accounts(s), customers);
  return {};  // locked already
}

void SeedDemoData(db::ConnectionPool& db) {
  for (const auto& [id, balance] : std::initializer_list<std::pair<const char*, int64_t>>{
           {"alice", 500000}, {"bob", 20000}, {"carol", 1000000}, {"dave", 0}})
    db.Exec("INSERT IGNORE INTO accounts (customer_id, balance_cents) VALUES (?, ?)", id, balance);
  log::Info("demo accounts loaded (existing accounts kept)");
}

std::unique_ptr<ServiceState> Wire(Service& svc) {
  if (svc.config().GetBool("payment.seed-demo-data")) SeedDemoData(svc.db());

  svc.router().Get("/api/accounts/{customerId}", [&svc](http::Request& req) {
    const auto& id = CustomerParam(req);
    auto lease = svc.db().Acquire();
    auto s = lease.session();
    return http::Response::Json(200, AccountJson(s, id));
  });

  svc.router().Put("/api/accounts/{customerId}", [&svc](http::Request& req) {
    const auto& id = CustomerParam(req);
    int64_t balance = ParseBalance(req.JsonBody());
    bool created = false;
    nlohmann::json account;
    svc.db().Transact([&](db::Session& s) {
      auto r = s.Query("SELECT balance_cents FROM accounts WHERE customer_id = ? FOR UPDATE", id);
      created = !r.Next();
      int64_t delta = created ? balance : balance - r.Int("balance_cents");
      if (created) s.Exec("INSERT INTO accounts (customer_id, balance_cents) VALUES (?, ?)", id, balance);
      else s.Exec("UPDATE accounts SET balance_cents = ? WHERE customer_id = ?", balance, id);
      s.Exec("INSERT INTO ledger (customer_id, kind, delta_cents) VALUES (?, 'SET', ?)", id, delta);
      account = AccountJson(s, id);
    });
    auto resp = http::Response::Json(created ? 201 : 200, account);
    if (created) resp.headers.Set("Location", "/api/accounts/" + id);
    return resp;
  });

  svc.router().Post("/api/accounts/{customerId}/deposit",
                    svc.idempotency().Wrap("POST /api/accounts/deposit", [&svc](http::Request& req) {
                      const auto& id = CustomerParam(req);
                      int64_t amount = ParseDeposit(req.JsonBody());
                      nlohmann::json account;
                      svc.db().Transact([&](db::Session& s) {
                        if (s.Exec("UPDATE accounts SET balance_cents = balance_cents + ? WHERE customer_id = ?", amount, id) == 0)
                          throw http::HttpError(404, "no account for customer '" + id + "'");
                        s.Exec("INSERT INTO ledger (customer_id, kind, delta_cents) VALUES (?, 'DEPOSIT', ?)", id, amount);
                        account = AccountJson(s, id);
                      });
                      return http::Response::Json(200, account);
                    }));

  svc.HandleEvents({std::string(events::kOrderEvents)}, [](db::Session& s, const events::Envelope& e) {
    switch (e.payload_case()) {
      case events::Envelope::kOrderCreated: Charge(s, e); break;
      case events::Envelope::kOrderCancelled: Refund(s, e); break;
      default: break;  // OrderConfirmed: the capture stands
    }
  }, AccountsOf);
  return nullptr;  // the handlers need nothing of their own
}

}  // namespace
}  // namespace op::payment

int main(int argc, char** argv) {
  op::ServiceSpec spec;
  spec.name = "payment-service";
  spec.default_port = 8082;
  spec.uses_database = true;
  spec.uses_kafka = true;
  spec.migrations = {
      {1, "accounts",
       "CREATE TABLE accounts ("
       " customer_id VARCHAR(64) PRIMARY KEY, balance_cents BIGINT NOT NULL,"
       " created_at TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),"
       " updated_at TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3) ON UPDATE CURRENT_TIMESTAMP(3),"
       " CONSTRAINT balance_not_negative CHECK (balance_cents >= 0)"
       ") ENGINE=InnoDB"},
      {2, "payments",
       "CREATE TABLE payments ("
       " order_id VARCHAR(64) PRIMARY KEY, payment_id VARCHAR(36) NOT NULL, customer_id VARCHAR(64) NOT NULL,"
       " amount_cents BIGINT NOT NULL, currency CHAR(3) NOT NULL, status VARCHAR(16) NOT NULL, reason VARCHAR(40) NULL,"
       " created_at TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3), refunded_at TIMESTAMP(3) NULL,"
       " INDEX payments_customer (customer_id)"
       ") ENGINE=InnoDB"},
      {3, "ledger",
       "CREATE TABLE ledger ("
       " id BIGINT AUTO_INCREMENT PRIMARY KEY, customer_id VARCHAR(64) NOT NULL, order_id VARCHAR(64) NULL,"
       " kind VARCHAR(16) NOT NULL, delta_cents BIGINT NOT NULL,"
       " at TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3), INDEX ledger_customer (customer_id)"
       ") ENGINE=InnoDB"},
  };
  spec.declare_config = [](op::config::Schema& s) {
    s.Add("payment.seed-demo-data", op::config::Type::kBool, "false", "load demo accounts at start (keeps existing rows)");
  };
  return op::Service::Run(spec, argc, argv, op::payment::Wire);
}
