#include "services/payment/store.h"

#include "runtime/logging/log.h"

namespace op::payment {

nlohmann::json AccountJson(const Account& a) { return {{"customerId", a.customer}, {"balanceCents", a.balance_cents}}; }

std::optional<Account> FindAccount(db::Session& s, const std::string& customer) {
  auto r = s.Query("SELECT customer_id, balance_cents FROM accounts WHERE customer_id = ?", customer);
  if (!r.Next()) return std::nullopt;
  return Account{r.String("customer_id"), r.Int("balance_cents")};
}

std::pair<Account, bool> SetBalance(db::Session& s, const std::string& customer, int64_t balance) {
  std::optional<int64_t> old;
  {
    auto r = s.Query("SELECT balance_cents FROM accounts WHERE customer_id = ? FOR UPDATE", customer);
    if (r.Next()) old = r.Int("balance_cents");
  }
  if (!old) s.Exec("INSERT INTO accounts (customer_id, balance_cents) VALUES (?, ?)", customer, balance);
  else s.Exec("UPDATE accounts SET balance_cents = ? WHERE customer_id = ?", balance, customer);
  s.Exec("INSERT INTO ledger (customer_id, kind, delta_cents) VALUES (?, 'SET', ?)", customer, balance - old.value_or(0));
  return {Account{customer, balance}, !old};
}

std::optional<Account> Deposit(db::Session& s, const std::string& customer, int64_t amount) {
  if (s.Exec("UPDATE accounts SET balance_cents = balance_cents + ? WHERE customer_id = ?", amount, customer) == 0)
    return std::nullopt;
  s.Exec("INSERT INTO ledger (customer_id, kind, delta_cents) VALUES (?, 'DEPOSIT', ?)", customer, amount);
  return FindAccount(s, customer);
}

void SeedDemoAccounts(db::ConnectionPool& db) {
  for (const auto& [id, balance] : std::initializer_list<std::pair<const char*, int64_t>>{
           {"alice", 500000}, {"bob", 20000}, {"carol", 1000000}, {"dave", 0}})
    db.Exec("INSERT IGNORE INTO accounts (customer_id, balance_cents) VALUES (?, ?)", id, balance);
  log::Info("demo accounts loaded (existing accounts kept)");
}

void LockAccounts(db::Session& s, Balances& balances, const std::set<std::string>& customers) {
  balances.Load(s, "accounts", "customer_id", "balance_cents", customers,
                [](const db::Rows& r) { return r.Int("balance_cents"); });
}

void WriteBalances(db::Session& s, const Balances& balances) {
  static constexpr std::string_view kColumns[] = {"balance_cents"};
  // The rows were locked when read, so writing the new balances back loses
  // no update (deposits and PUTs change the same rows in transactions of
  // their own).
  balances.WriteBack(s, "accounts", "customer_id", kColumns, [](int64_t b) { return std::vector<db::Param>{b}; });
}

std::set<std::string> CustomersOfCaptures(db::Session& s, std::vector<db::Param> order_ids) {
  std::set<std::string> out;
  if (order_ids.empty()) return out;
  const std::string in = db::PaddedInList(order_ids);
  auto rows = s.QueryV("SELECT DISTINCT customer_id FROM payments WHERE status = 'CAPTURED' AND order_id IN (" + in + ")",
                       order_ids);
  while (rows.Next()) out.insert(rows.String("customer_id"));
  return out;
}

std::optional<Payment> FindCapture(db::Session& s, const std::string& order_id) {
  auto r = s.Query("SELECT payment_id, customer_id, amount_cents, currency FROM payments "
                   "WHERE order_id = ? AND status = 'CAPTURED' FOR UPDATE",
                   order_id);
  if (!r.Next()) return std::nullopt;
  return Payment{order_id, r.String("payment_id"), r.String("customer_id"), r.String("currency"), "CAPTURED",
                 r.Int("amount_cents"), std::nullopt, std::nullopt};
}

void MarkRefunded(db::Session& s, const std::string& order_id) {
  s.Exec("UPDATE payments SET status = 'REFUNDED', refunded_at = CURRENT_TIMESTAMP(3) WHERE order_id = ?", order_id);
}

void InsertPayment(db::Session& s, const Payment& p) {
  s.DeferInsert("INSERT INTO payments (order_id, payment_id, customer_id, amount_cents, currency, status, reason, "
                "refunded_at) VALUES",
                {p.order_id, p.payment_id, p.customer, p.amount_cents, p.currency, p.status, db::ToParam(p.reason),
                 db::ToParam(p.refunded_at)});
}

void InsertLedgerLine(db::Session& s, const std::string& customer, const std::string& order_id, const char* kind,
                      int64_t delta) {
  s.DeferInsert("INSERT INTO ledger (customer_id, order_id, kind, delta_cents) VALUES", {customer, order_id, kind, delta});
}

}  // namespace op::payment
