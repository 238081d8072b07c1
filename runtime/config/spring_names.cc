#include "runtime/config/spring_names.h"

#include <algorithm>
#include <functional>
#include <optional>
#include <regex>

namespace op::config {
namespace {

// Spring's log levels to ours (no trace or off here: the nearest one).
std::optional<std::string> LogLevel(std::string v) {
  std::transform(v.begin(), v.end(), v.begin(), [](unsigned char c) { return char(std::tolower(c)); });
  if (v == "trace" || v == "debug") return "debug";
  if (v == "info" || v == "warn" || v == "error") return v;
  if (v == "warning") return "warn";
  if (v == "fatal" || v == "off") return "error";
  return std::nullopt;
}

struct Alias {
  const char* spring;  // the variable's name
  // (runtime key, value) pairs it stands for; empty when it cannot be read
  std::function<std::vector<std::pair<std::string, std::string>>(const std::string&)> translate;
};

std::vector<std::pair<std::string, std::string>> One(const char* key, const std::string& v) { return {{key, v}}; }

// jdbc:mysql://host:port/database?params (or jdbc:mariadb://)
std::vector<std::pair<std::string, std::string>> JdbcUrl(const std::string& url) {
  static const std::regex re(R"(jdbc:(?:mysql|mariadb)://([^:/?]+)(?::(\d{1,5}))?/([^?]+)(?:\?.*)?)");
  std::smatch m;
  if (!std::regex_match(url, m, re)) return {};
  std::vector<std::pair<std::string, std::string>> out = {{"mysql.host", m[1]}, {"mysql.database", m[3]}};
  if (m[2].matched) out.emplace_back("mysql.port", m[2]);
  return out;
}

const std::vector<Alias>& Aliases() {
  static const std::vector<Alias> kAliases = {
      {"SPRING_APPLICATION_NAME", [](const std::string& v) { return One("service.name", v); }},
      {"EUREKA_CLIENT_SERVICEURL_DEFAULTZONE", [](const std::string& v) { return One("eureka.client.service-url", v); }},
      {"SPRING_KAFKA_BOOTSTRAP_SERVERS", [](const std::string& v) { return One("kafka.bootstrap.servers", v); }},
      {"SPRING_KAFKA_BOOTSTRAPSERVERS", [](const std::string& v) { return One("kafka.bootstrap.servers", v); }},
      {"LOGGING_LEVEL_ROOT",
       [](const std::string& v) {
         auto level = LogLevel(v);
         return level ? One("logging.level", *level) : std::vector<std::pair<std::string, std::string>>{};
       }},
      {"SPRING_DATASOURCE_URL", JdbcUrl},
      {"MANAGEMENT_ZIPKIN_TRACING_ENDPOINT", [](const std::string& v) { return One("tracing.zipkin.endpoint", v); }},
      {"MANAGEMENT_TRACING_SAMPLING_PROBABILITY", [](const std::string& v) { return One("tracing.sampling-probability", v); }},
      {"SPRING_DATASOURCE_USERNAME", [](const std::string& v) { return One("mysql.user", v); }},
      {"SPRING_DATASOURCE_PASSWORD", [](const std::string& v) { return One("mysql.password", v); }},
  };
  return kAliases;
}

bool Watched(const std::string& name) {
  for (const char* p : {"SPRING_", "EUREKA_", "MANAGEMENT_", "RESILIENCE4J_"})
    if (name.rfind(p, 0) == 0) return true;
  return false;
}

// Whether `name` is the variable of a key the program declares ('*'
// segments match any one name).
bool Declared(const std::string& name, const Schema& schema) {
  for (const auto& spec : schema.Specs()) {
    const std::string env = EnvNameOf(spec.key);
    if (spec.key.find('*') == std::string::npos) {
      if (env == name) return true;
      continue;
    }
    std::string pattern;
    for (char c : env) pattern += c == '*' ? std::string("[A-Z0-9_]+") : std::string(1, c);
    if (std::regex_match(name, std::regex(pattern))) return true;
  }
  return false;
}

}  // namespace

SpringEnv TranslateSpringEnv(const Config::Env& env, const Schema& schema) {
  SpringEnv out{env, {}};
  for (const auto& alias : Aliases()) {
    auto it = env.find(alias.spring);
    if (it == env.end()) continue;
    auto pairs = alias.translate(it->second);
    if (std::string(alias.spring) == "SPRING_DATASOURCE_URL" && it->second.find('?') != std::string::npos && !pairs.empty())
      out.warnings.push_back("SPRING_DATASOURCE_URL's parameters (after '?') are not read: set mysql.ssl-mode and "
                             "the other mysql.* keys for them");
    if (pairs.empty()) {
      out.warnings.push_back(std::string(alias.spring) + " is set but its value cannot be used; ignored");
      continue;
    }
    for (const auto& [key, value] : pairs) {
      if (!schema.Find(key)) {
        out.warnings.push_back(std::string(alias.spring) + " is ignored: this program has no setting " + key);
        continue;
      }
      const std::string ours = EnvNameOf(key);
      if (env.count(ours)) {
        if (env.at(ours) != value)
          out.warnings.push_back(std::string(alias.spring) + " is ignored: " + ours + " is set too and wins");
        continue;
      }
      out.env[ours] = value;
    }
  }
  // RESILIENCE4J_CIRCUITBREAKER_... is RESILIENCE_CIRCUITBREAKER_... here.
  const std::string r4j = "RESILIENCE4J_";
  for (const auto& [name, value] : env) {
    if (name.rfind(r4j, 0) != 0) continue;
    const std::string ours = "RESILIENCE_" + name.substr(r4j.size());
    if (!Declared(ours, schema)) continue;  // reported below
    if (!env.count(ours)) out.env[ours] = value;
  }
  for (const auto& [name, value] : env) {
    if (!Watched(name) || Declared(name, schema)) continue;
    if (name.rfind(r4j, 0) == 0 && Declared("RESILIENCE_" + name.substr(r4j.size()), schema)) continue;
    bool alias = false;
    for (const auto& a : Aliases()) alias = alias || name == a.spring;
    if (!alias) out.warnings.push_back(name + " is not a setting of this program; ignored (see --help for the ones it reads)");
  }
  return out;
}

}  // namespace op::config
