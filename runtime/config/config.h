#pragma once
// Declared configuration: every component declares the keys it reads (type,
// default, meaning); Config::Load merges a YAML file with environment
// overrides and rejects unknown keys and ill-typed values, naming the key.
//
// Keys are dotted kebab-case paths ("resilience.circuitbreaker.instances.NAME.
// failure-rate-threshold"); camelCase spellings in YAML are accepted too, the
// way Spring's relaxed binding does. A `*` segment in a declared key matches any
// one name (an instance name). Environment: KEY with '.' and '-' turned into '_'
// and upper-cased overrides the file (kafka.bootstrap.servers ←
// KAFKA_BOOTSTRAP_SERVERS), 12-factor style.
#include <yaml-cpp/yaml.h>

#include <chrono>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace op::config {

enum class Type { kString, kInt, kBool, kDouble, kDuration, kStringList, kYaml };

struct KeySpec {
  std::string key;  // may contain '*' segments
  Type type = Type::kString;
  std::optional<std::string> default_value;  // nullopt: required when no default
  std::string description;
  std::optional<double> min, max;  // for kInt, kDouble, kDuration (milliseconds)
};

class ConfigError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class Schema {
 public:
  Schema& Add(KeySpec spec);
  Schema& Add(std::string key, Type type, std::optional<std::string> def, std::string description);
  // Finds the spec a concrete key matches (exact, else with '*' segments).
  const KeySpec* Find(const std::string& key) const;
  const std::vector<KeySpec>& Specs() const { return specs_; }
  void Merge(const Schema& other);

 private:
  std::vector<KeySpec> specs_;
};

// "250ms", "30s", "5m", "1h", "1d", or a bare integer (milliseconds).
std::optional<std::chrono::milliseconds> ParseDuration(const std::string& s);
// "fooBar-baz" → "foo-bar-baz"
std::string ToKebab(const std::string& s);
// "kafka.bootstrap-servers" → "KAFKA_BOOTSTRAP_SERVERS"
std::string EnvNameOf(const std::string& key);

class Config {
 public:
  using Env = std::map<std::string, std::string>;

  // Throws ConfigError naming the key for unknown keys, bad types, out-of-range
  // values and missing required keys. `yaml_text` may be empty.
  static Config Load(const Schema& schema, const std::string& yaml_text, const Env& env,
                     const std::string& origin = "config");
  static Config LoadFile(const Schema& schema, const std::string& path, const Env& env);
  static Env ProcessEnv();

  bool Has(const std::string& key) const;
  std::string GetString(const std::string& key) const;
  int64_t GetInt(const std::string& key) const;
  bool GetBool(const std::string& key) const;
  double GetDouble(const std::string& key) const;
  std::chrono::milliseconds GetDuration(const std::string& key) const;
  std::vector<std::string> GetList(const std::string& key) const;
  YAML::Node GetYaml(const std::string& key) const;

  // The names standing at '*' under `prefix`: InstanceNames("a.instances")
  // for keys a.instances.X.y → {"X", ...}, sorted.
  std::vector<std::string> InstanceNames(const std::string& prefix) const;

  // Every effective key and value (for /actuator/info or a startup log line).
  const std::map<std::string, std::string>& Values() const { return values_; }

 private:
  const std::string& Raw(const std::string& key) const;
  const Schema* schema_ = nullptr;
  std::map<std::string, std::string> values_;  // scalars and lists (comma-joined)
  std::map<std::string, YAML::Node> yaml_;
  std::string origin_;
};

}  // namespace op::config
