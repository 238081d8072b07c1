#include "runtime/config/config.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <fstream>
#include <functional>
#include <set>
#include <sstream>

extern char** environ;

namespace op::config {

namespace {

std::vector<std::string> Split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::string cur;
  for (char c : s) {
    if (c == sep) {
      out.push_back(cur);
      cur.clear();
    } else {
      cur += c;
    }
  }
  out.push_back(cur);
  return out;
}

// Segment by segment, '*' matching any one; no allocation (every key of a
// file is looked up against every pattern).
bool Matches(std::string_view pattern, std::string_view key) {
  while (true) {
    const size_t pd = pattern.find('.'), kd = key.find('.');
    const std::string_view ps = pattern.substr(0, pd), ks = key.substr(0, kd);
    if (ps != "*" && ps != ks) return false;
    if (pd == std::string_view::npos || kd == std::string_view::npos) return pd == kd;
    pattern.remove_prefix(pd + 1);
    key.remove_prefix(kd + 1);
  }
}

// Levenshtein distance, or `limit` when it is `limit` or more: only the band
// of cells within `limit` of the diagonal can hold a smaller one (Ukkonen),
// and a row whose every cell has reached `limit` ends the search. A file's
// every unknown key is compared with every declared one: this keeps that
// linear in the key's length.
size_t EditDistance(const std::string& a, const std::string& b, size_t limit) {
  const size_t n = a.size(), m = b.size();
  if ((n > m ? n - m : m - n) >= limit) return limit;
  std::vector<size_t> prev(m + 1), cur(m + 1);
  for (size_t j = 0; j <= m; ++j) prev[j] = std::min(j, limit);
  for (size_t i = 1; i <= n; ++i) {
    const size_t lo = i > limit ? i - limit : 1, hi = std::min(m, i + limit);
    cur[lo - 1] = lo == 1 ? std::min(i, limit) : limit;
    size_t row_min = cur[lo - 1];
    for (size_t j = lo; j <= hi; ++j) {
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] != b[j - 1]), limit});
      row_min = std::min(row_min, cur[j]);
    }
    if (hi < m) cur[hi + 1] = limit;
    if (row_min >= limit) return limit;
    std::swap(prev, cur);
  }
  return std::min(prev[m], limit);
}

constexpr int kMaxDepth = 16;  // no key is nested deeper; a file that is, is not a config

std::string Suggest(const Schema& schema, const std::string& key) {
  std::string best;
  size_t best_d = 4;  // only near misses are worth suggesting
  auto ks = Split(key, '.');
  for (const auto& spec : schema.Specs()) {
    auto ps = Split(spec.key, '.');
    if (ps.size() != ks.size()) continue;
    std::string candidate;
    for (size_t i = 0; i < ps.size(); ++i)
      candidate += (i ? "." : "") + (ps[i] == "*" ? ks[i] : ps[i]);
    size_t d = EditDistance(candidate, key, best_d);
    if (d < best_d) best_d = d, best = candidate;
  }
  return best.empty() ? "" : fmt::format(" (did you mean '{}'?)", best);
}

const char* TypeName(Type t) {
  switch (t) {
    case Type::kString: return "a string";
    case Type::kInt: return "an integer";
    case Type::kBool: return "a boolean (true/false)";
    case Type::kDouble: return "a number";
    case Type::kDuration: return "a duration (e.g. 500ms, 30s, 5m)";
    case Type::kStringList: return "a list of strings";
    case Type::kYaml: return "a YAML structure";
  }
  return "?";
}

std::optional<int64_t> ParseInt(const std::string& s) {
  int64_t v;
  auto r = std::from_chars(s.data(), s.data() + s.size(), v);
  if (r.ec != std::errc() || r.ptr != s.data() + s.size() || s.empty()) return std::nullopt;
  return v;
}

std::optional<double> ParseDouble(const std::string& s) {
  if (s.empty()) return std::nullopt;
  char* end = nullptr;
  double v = std::strtod(s.c_str(), &end);
  if (end != s.c_str() + s.size() || !std::isfinite(v)) return std::nullopt;
  return v;
}

std::optional<bool> ParseBool(const std::string& s) {
  if (s == "true" || s == "TRUE" || s == "True" || s == "1" || s == "yes" || s == "on") return true;
  if (s == "false" || s == "FALSE" || s == "False" || s == "0" || s == "no" || s == "off")
    return false;
  return std::nullopt;
}

std::string Join(const std::vector<std::string>& v) {
  std::string out;
  for (size_t i = 0; i < v.size(); ++i) out += (i ? "," : "") + v[i];
  return out;
}

}  // namespace

std::string ToKebab(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c >= 'A' && c <= 'Z') {
      if (!out.empty() && out.back() != '-' && out.back() != '.') out += '-';
      out += char(c - 'A' + 'a');
    } else {
      out += c;
    }
  }
  return out;
}

std::string EnvNameOf(const std::string& key) {
  std::string out;
  for (char c : key) {
    if (c == '.' || c == '-') out += '_';
    else if (c >= 'a' && c <= 'z') out += char(c - 'a' + 'A');
    else out += c;
  }
  return out;
}

std::optional<std::chrono::milliseconds> ParseDuration(const std::string& s) {
  using namespace std::chrono;
  if (auto ms = ParseInt(s)) return *ms >= 0 ? std::optional(milliseconds(*ms)) : std::nullopt;
  size_t i = 0;
  while (i < s.size() && ((s[i] >= '0' && s[i] <= '9') || s[i] == '.')) ++i;
  auto num = ParseDouble(s.substr(0, i));
  if (!num || *num < 0) return std::nullopt;
  std::string unit = s.substr(i);
  double factor;
  if (unit == "ms") factor = 1;
  else if (unit == "s") factor = 1000;
  else if (unit == "m") factor = 60'000;
  else if (unit == "h") factor = 3'600'000;
  else if (unit == "d") factor = 86'400'000;
  else return std::nullopt;
  return milliseconds(static_cast<int64_t>(std::llround(*num * factor)));
}

Schema& Schema::Add(KeySpec spec) {
  spec.key = ToKebab(spec.key);
  specs_.push_back(std::move(spec));
  return *this;
}

Schema& Schema::Add(std::string key, Type type, std::optional<std::string> def,
                    std::string description) {
  return Add(KeySpec{std::move(key), type, std::move(def), std::move(description), {}, {}});
}

const KeySpec* Schema::Find(const std::string& key) const {
  for (const auto& s : specs_)
    if (s.key == key) return &s;
  for (const auto& s : specs_)
    if (s.key.find('*') != std::string::npos && Matches(s.key, key)) return &s;
  return nullptr;
}

void Schema::Merge(const Schema& other) {
  for (const auto& s : other.specs_)
    if (!Find(s.key) || Find(s.key)->key != s.key) specs_.push_back(s);
}

Config Config::Load(const Schema& schema, const std::string& yaml_text, const Env& env,
                    const std::string& origin) {
  Config cfg;
  cfg.schema_ = &schema;
  cfg.origin_ = origin;

  auto check_and_store = [&](const std::string& key, const std::string& value,
                             const std::string& where) {
    const KeySpec* spec = schema.Find(key);
    if (!spec)
      throw ConfigError(fmt::format("{}: unknown key '{}'{}", where, key, Suggest(schema, key)));
    auto bad = [&](const std::string& why) {
      return ConfigError(fmt::format("{}: key '{}' {}: got '{}'", where, key, why, value));
    };
    std::optional<double> numeric;
    switch (spec->type) {
      case Type::kInt: {
        auto v = ParseInt(value);
        if (!v) throw bad(std::string("must be ") + TypeName(spec->type));
        numeric = double(*v);
        break;
      }
      case Type::kDouble:
        numeric = ParseDouble(value);
        if (!numeric) throw bad(std::string("must be ") + TypeName(spec->type));
        break;
      case Type::kBool:
        if (!ParseBool(value)) throw bad(std::string("must be ") + TypeName(spec->type));
        break;
      case Type::kDuration: {
        auto d = ParseDuration(value);
        if (!d) throw bad(std::string("must be ") + TypeName(spec->type));
        numeric = double(d->count());
        break;
      }
      default:
        break;
    }
    if (numeric && spec->min && *numeric < *spec->min)
      throw bad(fmt::format("must be at least {}", *spec->min));
    if (numeric && spec->max && *numeric > *spec->max)
      throw bad(fmt::format("must be at most {}", *spec->max));
    cfg.values_[key] = value;
  };

  // 1. the file
  if (!yaml_text.empty()) {
    YAML::Node root;
    try {
      root = YAML::Load(yaml_text);
    } catch (const YAML::Exception& e) {
      throw ConfigError(fmt::format("{}: invalid YAML at line {}, column {}: {}", origin,
                                    e.mark.line + 1, e.mark.column + 1, e.msg));
    }
    if (root && !root.IsNull() && !root.IsMap())
      throw ConfigError(fmt::format("{}: top level must be a mapping of keys", origin));
    std::function<void(const YAML::Node&, const std::string&)> walk =
        [&](const YAML::Node& node, const std::string& prefix) {
          if (std::count(prefix.begin(), prefix.end(), '.') > kMaxDepth)
            throw ConfigError(fmt::format("{}: keys nested deeper than {} levels", origin, kMaxDepth));
          for (auto it = node.begin(); it != node.end(); ++it) {
            if (!it->first.IsScalar())
              throw ConfigError(fmt::format("{}: a key at line {} is not a plain name", origin, it->first.Mark().line + 1));
            std::string key = prefix + ToKebab(it->first.as<std::string>());
            if (key == "resilience4j") key = "resilience";  // Resilience4j's Spring Boot section
            const YAML::Node v = it->second;  // by value: it-> yields a temporary proxy
            const KeySpec* spec = schema.Find(key);
            if (spec && spec->type == Type::kYaml) {
              cfg.yaml_[key] = YAML::Clone(v);
              cfg.values_[key] = "<yaml>";
            } else if (v.IsMap()) {
              walk(v, key + ".");
            } else if (v.IsSequence()) {
              if (!spec)
                throw ConfigError(fmt::format("{}: unknown key '{}'{}", origin, key, Suggest(schema, key)));
              if (spec->type != Type::kStringList)
                throw ConfigError(fmt::format("{}: key '{}' must be {}, not a list", origin, key,
                                              TypeName(spec->type)));
              std::vector<std::string> items;
              for (const auto& item : v) {
                if (!item.IsScalar())
                  throw ConfigError(fmt::format("{}: key '{}' must be a list of strings", origin, key));
                items.push_back(item.as<std::string>());
              }
              cfg.values_[key] = Join(items);
            } else if (v.IsNull()) {
              if (!spec)
                throw ConfigError(fmt::format("{}: unknown key '{}'{}", origin, key, Suggest(schema, key)));
            } else {
              if (spec && spec->type == Type::kStringList) {
                cfg.values_[key] = v.as<std::string>();
              } else {
                check_and_store(key, v.as<std::string>(), origin);
              }
            }
          }
        };
    try {
      if (root && root.IsMap()) walk(root, "");
    } catch (const YAML::Exception& e) {  // a value of a shape no key takes
      throw ConfigError(fmt::format("{}: invalid value at line {}, column {}: {}", origin, e.mark.line + 1,
                                    e.mark.column + 1, e.msg));
    }
  }

  // 2. environment overrides, for every declared key and every concrete
  //    instance of a '*' key already present.
  std::set<std::string> candidates;
  for (const auto& spec : schema.Specs())
    if (spec.key.find('*') == std::string::npos) candidates.insert(spec.key);
  for (const auto& [k, v] : cfg.values_) candidates.insert(k);
  for (const auto& spec : schema.Specs()) {
    if (spec.key.find('*') == std::string::npos) continue;
    // instance names seen in the file, substituted into every sibling key
    auto ps = Split(spec.key, '.');
    for (const auto& [k, v] : std::map(cfg.values_)) {
      auto ks = Split(k, '.');
      if (ks.size() != ps.size()) continue;
      bool prefix_ok = true;
      std::string concrete;
      for (size_t i = 0; i < ps.size(); ++i) {
        if (i + 1 < ps.size() && ps[i] != "*" && ps[i] != ks[i]) prefix_ok = false;
        concrete += (i ? "." : "") + (ps[i] == "*" ? ks[i] : ps[i]);
      }
      if (prefix_ok) candidates.insert(concrete);
    }
  }
  for (const auto& key : candidates) {
    auto it = env.find(EnvNameOf(key));
    if (it == env.end()) continue;
    const KeySpec* spec = schema.Find(key);
    if (spec && spec->type == Type::kYaml) {
      // a structure in one variable, as flow YAML or JSON:
      // IDENTITY_CLIENTS='[{id: dashboard, secret: ..., roles: [service]}]'
      try {
        cfg.yaml_[key] = YAML::Load(it->second);
      } catch (const YAML::Exception& e) {
        throw ConfigError(fmt::format("environment {}: key '{}' must be YAML or JSON: {}", it->first, key, e.msg));
      }
      cfg.values_[key] = "<yaml>";
      continue;
    }
    check_and_store(key, it->second, "environment " + it->first);
  }

  // 3. defaults and required keys
  for (const auto& spec : schema.Specs()) {
    if (spec.key.find('*') != std::string::npos || cfg.values_.count(spec.key)) continue;
    if (spec.type == Type::kYaml) continue;
    if (!spec.default_value)
      throw ConfigError(fmt::format("{}: required key '{}' is missing ({}; or set {})", origin,
                                    spec.key, spec.description, EnvNameOf(spec.key)));
    cfg.values_[spec.key] = *spec.default_value;
  }
  return cfg;
}

Config Config::LoadFile(const Schema& schema, const std::string& path, const Env& env) {
  std::ifstream in(path);
  if (!in) throw ConfigError(fmt::format("config file '{}' cannot be read", path));
  std::stringstream ss;
  ss << in.rdbuf();
  return Load(schema, ss.str(), env, path);
}

Config::Env Config::ProcessEnv() {
  Env env;
  for (char** e = environ; e && *e; ++e) {
    std::string kv(*e);
    auto eq = kv.find('=');
    if (eq != std::string::npos) env[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  return env;
}

bool Config::Has(const std::string& key) const {
  return values_.count(key) || yaml_.count(key);
}

const std::string& Config::Raw(const std::string& key) const {
  auto it = values_.find(key);
  if (it != values_.end()) return it->second;
  // A '*' key read for an instance that did not set it: fall back to the
  // declared default, so callers need no special case.
  if (const KeySpec* spec = schema_ ? schema_->Find(key) : nullptr; spec && spec->default_value)
    return *spec->default_value;
  throw ConfigError(fmt::format("{}: key '{}' is not set", origin_, key));
}

std::string Config::GetString(const std::string& key) const { return Raw(key); }
int64_t Config::GetInt(const std::string& key) const { return *ParseInt(Raw(key)); }
bool Config::GetBool(const std::string& key) const { return *ParseBool(Raw(key)); }
double Config::GetDouble(const std::string& key) const { return *ParseDouble(Raw(key)); }
std::chrono::milliseconds Config::GetDuration(const std::string& key) const {
  return *ParseDuration(Raw(key));
}

std::vector<std::string> Config::GetList(const std::string& key) const {
  const std::string& raw = Raw(key);
  if (raw.empty()) return {};
  std::vector<std::string> out;
  for (auto& s : Split(raw, ',')) {
    auto b = s.find_first_not_of(' '), e = s.find_last_not_of(' ');
    if (b != std::string::npos) out.push_back(s.substr(b, e - b + 1));
  }
  return out;
}

YAML::Node Config::GetYaml(const std::string& key) const {
  auto it = yaml_.find(key);
  return it == yaml_.end() ? YAML::Node() : it->second;
}

std::vector<std::string> Config::InstanceNames(const std::string& prefix) const {
  std::set<std::string> names;
  std::string p = prefix + ".";
  for (const auto& [k, v] : values_) {
    if (k.rfind(p, 0) != 0) continue;
    auto rest = k.substr(p.size());
    names.insert(rest.substr(0, rest.find('.')));
  }
  return {names.begin(), names.end()};
}

}  // namespace op::config
