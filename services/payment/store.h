#pragma once
// payments_db, all of its SQL: accounts (the REST API's reads and writes),
// and what a batch of saga events reads, locks and writes back.
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "runtime/db/db.h"

namespace op::payment {

struct Account {
  std::string customer;
  int64_t balance_cents;
};
nlohmann::json AccountJson(const Account& a);  // {"customerId","balanceCents"}

std::optional<Account> FindAccount(db::Session& s, const std::string& customer);
// Creates the account or sets its balance, with a SET line in the ledger
// (the difference). Returns the account and whether it was created.
std::pair<Account, bool> SetBalance(db::Session& s, const std::string& customer, int64_t balance_cents);
// Adds to an existing account (nullopt: no such account), with a DEPOSIT line.
std::optional<Account> Deposit(db::Session& s, const std::string& customer, int64_t amount_cents);
// Demo accounts: alice, bob, carol (funded) and dave (no money); existing rows are kept.
void SeedDemoAccounts(db::ConnectionPool& db);

// --- a batch of events ---

// Balances by customer, read and locked in customer order; nullopt where
// the customer has no account.
using Balances = db::LockedRows<int64_t>;
void LockAccounts(db::Session& s, Balances& balances, const std::set<std::string>& customers);
void WriteBalances(db::Session& s, const Balances& balances);  // the changed ones, one statement

// Customers whose captured payments the orders `order_ids` hold.
std::set<std::string> CustomersOfCaptures(db::Session& s, std::vector<db::Param> order_ids);

struct Payment {
  std::string order_id, payment_id, customer, currency, status;  // CAPTURED, DECLINED, REFUNDED
  int64_t amount_cents;
  std::optional<std::string> reason;
  std::optional<std::string> refunded_at;  // SQL timestamp (the session's time zone is UTC)
};
// The order's captured payment, locked (nullopt: declined or never charged).
std::optional<Payment> FindCapture(db::Session& s, const std::string& order_id);
void MarkRefunded(db::Session& s, const std::string& order_id);
// New payments and ledger lines: written at commit, each kind in one statement.
void InsertPayment(db::Session& s, const Payment& p);
void InsertLedgerLine(db::Session& s, const std::string& customer, const std::string& order_id, const char* kind,
                      int64_t delta_cents);

}  // namespace op::payment
