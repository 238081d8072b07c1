// The deployment files (compose.yaml, k8s/*.yaml) say what the programs
// understand: every environment variable they set is one the program declares
// (read from the binary's own --help), every image is one //ops/images builds,
// probes and health checks hit the actuator paths on the declared port, and
// the layers start in order (infrastructure → platform → services).
#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>

#include "testing/fixtures/process.h"

namespace op {
namespace {

using namespace std::chrono_literals;

struct Program {
  std::string binary;
  int port;
};
const std::map<std::string, Program> kPrograms = {
    {"service-registry", {"registry/service-registry", 8761}},
    {"api-gateway", {"gateway/api-gateway", 8080}},
    {"order-service", {"services/order/order-service", 8081}},
    {"payment-service", {"services/payment/payment-service", 8082}},
    {"notification-service", {"services/notification/notification-service", 8083}},
    {"inventory-service", {"services/inventory/inventory-service", 8084}},
    {"identity-service", {"services/identity/identity-service", 8085}},
    {"dashboard", {"dashboard/dashboard", 8090}},
};

// The environment variables a program declares, as its --help lists them
// ("env NAME"; '*' stands for any instance name).
const std::vector<std::regex>& DeclaredEnv(const std::string& program) {
  static std::map<std::string, std::vector<std::regex>> cache;
  auto& out = cache[program];
  if (!out.empty()) return out;
  std::string log = testing::MakeTempDir("help") + "/help.txt";
  testing::Process p({{testing::Runfile(kPrograms.at(program).binary), "--help"}, {}, log});
  p.Start();
  EXPECT_EQ(p.Wait(30s), 0);
  std::istringstream in(p.Output());
  std::regex env_line(R"(^\s+env (\S+))");
  for (std::string line; std::getline(in, line);) {
    std::smatch m;
    if (std::regex_search(line, m, env_line)) {
      std::string pattern = std::regex_replace(m[1].str(), std::regex(R"(\*)"), "[A-Z0-9_]+");
      out.emplace_back("^" + pattern + "$");
    }
  }
  EXPECT_GT(out.size(), 20u) << program << " --help lists its keys";
  return out;
}

bool Declares(const std::string& program, const std::string& env) {
  for (const auto& r : DeclaredEnv(program))
    if (std::regex_match(env, r)) return true;
  return false;
}

// yaml-cpp 0.7 does not apply YAML merge keys ("<<"); compose files use them.
YAML::Node Merged(const YAML::Node& n) {
  if (n.IsSequence()) {
    YAML::Node out(YAML::NodeType::Sequence);
    for (const auto& e : n) out.push_back(Merged(e));
    return out;
  }
  if (!n.IsMap()) return n;
  YAML::Node out(YAML::NodeType::Map);
  if (n["<<"]) {
    std::vector<YAML::Node> sources;
    if (n["<<"].IsSequence()) for (const auto& s : n["<<"]) sources.push_back(s);
    else sources.push_back(n["<<"]);
    for (const auto& s : sources)
      for (const auto& kv : Merged(s)) out[kv.first.as<std::string>()] = kv.second;
  }
  for (const auto& kv : n)
    if (kv.first.as<std::string>() != "<<") out[kv.first.as<std::string>()] = Merged(kv.second);
  return out;
}

std::string ProgramOfImage(const std::string& image) {
  const std::string prefix = "orderplatform/";
  if (image.rfind(prefix, 0) != 0) return "";
  std::string name = image.substr(prefix.size(), image.find(':') - prefix.size());
  return name;
}

TEST(ComposeTest, ServicesUseBuiltImagesDeclaredSettingsAndStartInLayers) {
  std::string path = testing::Runfile("ops/deploy/compose.yaml");
  YAML::Node compose = Merged(YAML::LoadFile(path));
  auto dir = std::filesystem::path(path).parent_path();
  const std::map<std::string, int> layer = {
      {"kafka-1", 1}, {"kafka-2", 1}, {"kafka-3", 1}, {"kafka-topics", 1}, {"mysql", 1}, {"prometheus", 2}, {"service-registry", 2}, {"api-gateway", 2},
      {"order-service", 3}, {"payment-service", 3}, {"notification-service", 3}, {"inventory-service", 3},
      {"identity-service", 3}, {"dashboard", 3}};
  std::set<std::string> ours;
  for (const auto& kv : compose["services"]) {
    std::string name = kv.first.as<std::string>();
    YAML::Node s = kv.second;
    ASSERT_TRUE(layer.count(name)) << name << " is in no layer";
    std::string image = s["image"].as<std::string>();
    if (std::string program = ProgramOfImage(image); !program.empty()) {
      ours.insert(program);
      ASSERT_TRUE(kPrograms.count(program)) << image << " is not built by //ops/images";
      EXPECT_EQ(program, name);
      auto test = s["healthcheck"]["test"];
      ASSERT_TRUE(test && test.size() == 3) << name;
      EXPECT_EQ(test[1].as<std::string>(), "/app/" + program);
      EXPECT_EQ(test[2].as<std::string>(), "--health-check");
      for (const auto& e : s["environment"]) {
        std::string key = e.first.as<std::string>();
        EXPECT_TRUE(Declares(program, key)) << name << " does not read " << key;
      }
      EXPECT_EQ(s["environment"]["SERVER_PORT"].as<std::string>(), std::to_string(kPrograms.at(program).port));
      if (name != "service-registry") {
        EXPECT_EQ(s["environment"]["EUREKA_INSTANCE_HOSTNAME"].as<std::string>(), name) << "reachable by its service name";
        // the registry's credential in the service URL, its password from the environment
        EXPECT_EQ(s["environment"]["EUREKA_CLIENT_SERVICE_URL"].as<std::string>(),
                  "http://eureka:${EUREKA_PASSWORD:?set it in ops/deploy/.env}@service-registry:8761/eureka");
      }
    } else {
      EXPECT_TRUE(image.rfind("mysql:", 0) == 0 || image.rfind("apache/kafka:", 0) == 0 ||
                  image.rfind("prom/prometheus:", 0) == 0)
          << name << ": infrastructure comes from official images, got " << image;
    }
    // Nothing waits for a later layer.
    if (s["depends_on"]) {  // a list of names or a map of name → condition
      for (const auto& d : s["depends_on"]) {
        std::string dep = s["depends_on"].IsSequence() ? d.as<std::string>() : d.first.as<std::string>();
        ASSERT_TRUE(compose["services"][dep]) << name << " depends on unknown " << dep;
        EXPECT_LE(layer.at(dep), layer.at(name)) << name << " waits for " << dep;
      }
    }
    for (const auto& v : s["volumes"]) {
      std::string src = v.as<std::string>().substr(0, v.as<std::string>().find(':'));
      if (src.rfind("./", 0) == 0 || src.rfind("../", 0) == 0) {
        EXPECT_TRUE(std::filesystem::exists(dir / src)) << name << " mounts missing " << src;
      }
    }
  }
  EXPECT_EQ(ours.size(), kPrograms.size()) << "every program runs";
  // Prometheus finds the registry by the compose service name and port.
  std::ifstream prom(testing::Runfile("ops/prometheus/prometheus.yml"));
  std::stringstream ss;
  ss << prom.rdbuf();
  EXPECT_NE(ss.str().find("http://service-registry:8761/eureka"), std::string::npos);
}

// A setting that holds a secret, by its name.
bool SecretSetting(const std::string& name) {
  static const std::regex secret(".*(PASSWORD|SECRET|CLIENTS|SERVICE_URL).*");
  return std::regex_match(name, secret);
}

TEST(ComposeTest, NoSecretIsWrittenInTheFile) {
  YAML::Node compose = Merged(YAML::LoadFile(testing::Runfile("ops/deploy/compose.yaml")));
  size_t checked = 0;
  for (const auto& kv : compose["services"])
    for (const auto& e : kv.second["environment"]) {
      const std::string key = e.first.as<std::string>(), value = e.second.as<std::string>();
      if (!SecretSetting(key) || value.empty()) continue;
      ++checked;
      EXPECT_NE(value.find("${"), std::string::npos) << kv.first << " writes " << key << " in the file";
    }
  EXPECT_GE(checked, 10u) << "the database, registry and client secrets of every program";
  // and every secret compose needs is listed for the user to set
  std::ifstream example(testing::Runfile("ops/deploy/env.example"));
  std::stringstream ss;
  ss << example.rdbuf();
  for (const char* v : {"MYSQL_ROOT_PASSWORD=", "MYSQL_APP_PASSWORD=", "EUREKA_PASSWORD=", "DASHBOARD_CLIENT_SECRET="})
    EXPECT_NE(ss.str().find(v), std::string::npos) << v;
}

TEST(KubernetesTest, SecretsLiveInSecretsNotInConfigMapsOrPodSpecs) {
  for (const char* f : {"10-config.yaml", "20-infrastructure.yaml", "30-platform.yaml", "40-services.yaml"})
    for (const auto& d : YAML::LoadAllFromFile(testing::Runfile(std::string("ops/deploy/k8s/") + f))) {
      if (!d || !d.IsMap()) continue;
      const std::string kind = d["kind"].as<std::string>();
      if (kind == "ConfigMap") {
        for (const auto& kv : d["data"]) {
          EXPECT_FALSE(SecretSetting(kv.first.as<std::string>())) << d["metadata"]["name"] << " holds " << kv.first;
        }
      }
      if (kind != "Deployment" && kind != "StatefulSet") continue;
      for (const auto& c : d["spec"]["template"]["spec"]["containers"]) {
        for (const auto& e : c["env"]) {
          const std::string name = e["name"].as<std::string>();
          if (SecretSetting(name) && name != "MYSQL_RANDOM_ROOT_PASSWORD") {  // "yes": a switch, no secret
            EXPECT_TRUE(e["valueFrom"]) << d["metadata"]["name"] << " writes " << e["name"] << " in its pod spec";
          }
        }
      }
    }
}

TEST(KubernetesTest, WorkloadsHaveProbesLimitsAndOnlyDeclaredSettings) {
  std::vector<YAML::Node> docs;
  for (const char* f : {"00-namespace.yaml", "10-config.yaml", "20-infrastructure.yaml", "30-platform.yaml", "40-services.yaml"})
    for (const auto& d : YAML::LoadAllFromFile(testing::Runfile(std::string("ops/deploy/k8s/") + f)))
      if (d && d.IsMap()) docs.push_back(d);
  std::map<std::string, std::set<std::string>> config_keys;  // ConfigMap / Secret name → keys
  for (const auto& d : docs) {
    std::string kind = d["kind"].as<std::string>();
    if (kind == "ConfigMap" || kind == "Secret") {
      auto data = d[kind == "Secret" ? "stringData" : "data"];
      for (const auto& kv : data) config_keys[d["metadata"]["name"].as<std::string>()].insert(kv.first.as<std::string>());
    }
  }
  std::set<std::string> ours;
  std::vector<std::map<std::string, std::string>> pod_labels;
  for (const auto& d : docs) {
    std::string kind = d["kind"].as<std::string>();
    EXPECT_TRUE(kind == "Namespace" || d["metadata"]["namespace"].as<std::string>() == "orderplatform")
        << d["metadata"]["name"];
    if (kind != "Deployment" && kind != "StatefulSet") continue;
    auto pod = d["spec"]["template"];
    std::map<std::string, std::string> labels;
    for (const auto& kv : pod["metadata"]["labels"]) labels[kv.first.as<std::string>()] = kv.second.as<std::string>();
    pod_labels.push_back(labels);
    for (const auto& kv : d["spec"]["selector"]["matchLabels"])
      EXPECT_EQ(labels[kv.first.as<std::string>()], kv.second.as<std::string>()) << "selector matches the pod";
    for (const auto& c : pod["spec"]["containers"]) {
      std::string image = c["image"].as<std::string>();
      std::string program = ProgramOfImage(image);
      EXPECT_TRUE(c["resources"]["requests"]["cpu"] && c["resources"]["requests"]["memory"] &&
                  c["resources"]["limits"]["cpu"] && c["resources"]["limits"]["memory"])
          << image << " has requests and limits";
      if (program.empty()) {
        EXPECT_TRUE(image.rfind("mysql:", 0) == 0 || image.rfind("apache/kafka:", 0) == 0) << image;
        continue;
      }
      ours.insert(program);
      ASSERT_TRUE(kPrograms.count(program)) << image;
      EXPECT_EQ(c["ports"][0]["containerPort"].as<int>(), kPrograms.at(program).port) << program;
      EXPECT_EQ(c["ports"][0]["name"].as<std::string>(), "http");
      EXPECT_EQ(c["livenessProbe"]["httpGet"]["path"].as<std::string>(), "/actuator/health/liveness") << program;
      EXPECT_EQ(c["readinessProbe"]["httpGet"]["path"].as<std::string>(), "/actuator/health/readiness") << program;
      EXPECT_EQ(c["livenessProbe"]["httpGet"]["port"].as<std::string>(), "http");
      EXPECT_TRUE(pod["spec"]["securityContext"]["runAsNonRoot"].as<bool>()) << program;
      EXPECT_EQ(pod["spec"]["securityContext"]["runAsUser"].as<int>(), 65532);
      std::set<std::string> env;
      for (const auto& e : c["env"]) env.insert(e["name"].as<std::string>());
      for (const auto& from : c["envFrom"]) {
        std::string ref = from["configMapRef"] ? from["configMapRef"]["name"].as<std::string>()
                                               : from["secretRef"]["name"].as<std::string>();
        ASSERT_TRUE(config_keys.count(ref)) << program << " reads undefined " << ref;
        env.insert(config_keys[ref].begin(), config_keys[ref].end());
      }
      EXPECT_TRUE(env.count("SERVER_PORT")) << program;
      for (const auto& k : env) EXPECT_TRUE(Declares(program, k)) << program << " does not read " << k;
    }
  }
  EXPECT_EQ(ours.size(), kPrograms.size()) << "every program is deployed";
  // Every Service selects some pod.
  for (const auto& d : docs) {
    if (d["kind"].as<std::string>() != "Service") continue;
    bool matched = false;
    for (const auto& labels : pod_labels) {
      bool all = true;
      for (const auto& kv : d["spec"]["selector"]) {
        auto it = labels.find(kv.first.as<std::string>());
        all = all && it != labels.end() && it->second == kv.second.as<std::string>();
      }
      matched |= all;
    }
    EXPECT_TRUE(matched) << "Service " << d["metadata"]["name"] << " selects no pod";
  }
}

}  // namespace
}  // namespace op
