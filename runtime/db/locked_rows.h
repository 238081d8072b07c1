#pragma once
#include <map>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/db/session.h"

namespace op::db {

// One table's rows by primary key as a transaction works on them: read and
// locked once (Session::LockRows), then changed in memory by every event of
// a batch (Change), and the changed ones written back in one statement
// at the end of the batch (WriteBack, from an EventBatch's Flush).
// `rows[k]` is nullopt where the table has no row k.
template <class T>
struct LockedRows {
  std::map<std::string, std::optional<T>> rows;
  std::set<std::string> changed;  // keys Change()d: what WriteBack writes

  // Reads and locks, in key order, the `keys` not known yet; `from` makes a
  // T of a result row (its `key` column, then `columns`).
  template <class From>
  void Load(Session& s, std::string_view table, std::string_view key, std::string_view columns,
            const std::set<std::string>& keys, From from) {
    std::vector<Param> missing;
    for (const auto& k : keys)
      if (!rows.count(k)) missing.push_back(k);
    if (missing.empty()) return;
    auto found = s.LockRows(table, key, columns, missing);
    for (const auto& k : missing) rows[std::get<std::string>(k)] = std::nullopt;
    const std::string key_column(key);
    while (found.Next()) rows[found.String(key_column)] = from(found);
  }

  // Row `k`, loaded and present (std::bad_optional_access if the table has
  // none), to change in memory; WriteBack will write it.
  T& Change(const std::string& k) {
    T& row = rows.at(k).value();
    changed.insert(k);
    return row;
  }

  // The changed rows in one UpdateRows; `values` gives a row's `columns`, in
  // their order. Returns the rows changed.
  template <class Values>
  uint64_t WriteBack(Session& s, std::string_view table, std::string_view key, std::span<const std::string_view> columns,
                     Values values) const {
    std::vector<std::vector<Param>> out;
    out.reserve(changed.size());
    for (const auto& k : changed) {
      std::vector<Param> row{k};
      for (auto& v : values(*rows.at(k))) row.push_back(std::move(v));
      out.push_back(std::move(row));
    }
    return s.UpdateRows(table, key, columns, out);
  }
};

}  // namespace op::db
