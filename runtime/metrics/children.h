#pragma once
// A metric family's children by label values, for hot paths: prometheus-cpp's
// Family::Add takes a std::map of every label name and value and hashes it
// under the family's mutex (a dozen allocations per call). Here the values are
// joined (length-prefixed) into a key in a reused per-thread buffer and looked up in a map of the
// children already made; only a new combination goes to Family::Add.
#include <functional>
#include <initializer_list>
#include <mutex>
#include <stdexcept>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "runtime/metrics/metrics.h"

namespace op::metrics {

template <class T>
class Children {
 public:
  // `make` adds the child for a full label set (Family::Add with the
  // family's extra arguments, e.g. a histogram's buckets).
  using Make = std::function<T&(const Labels&)>;
  Children(std::vector<std::string> names, Make make) : names_(std::move(names)), make_(std::move(make)) {}

  // The child for `values`, one per name in the constructor's order.
  T& Get(std::initializer_list<std::string_view> values) {
    if (values.size() != names_.size()) throw std::invalid_argument("metrics::Children: wrong number of label values");
    thread_local std::string key;
    key.clear();
    for (auto v : values) {  // length-prefixed: no two value lists make the same key
      const size_t n = v.size();
      key.append(reinterpret_cast<const char*>(&n), sizeof n).append(v);
    }
    std::lock_guard lock(mu_);
    if (auto it = children_.find(key); it != children_.end()) return *it->second;
    Labels labels;
    auto name = names_.begin();
    for (auto v : values) labels.emplace(*name++, std::string(v));
    T& child = make_(labels);
    children_.emplace(key, &child);
    return child;
  }

 private:
  const std::vector<std::string> names_;
  const Make make_;
  std::mutex mu_;
  std::unordered_map<std::string, T*> children_;
};

}  // namespace op::metrics
