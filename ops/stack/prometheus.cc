#include "ops/stack/prometheus.h"

#include <filesystem>
#include <fstream>
#include <sstream>

#include "testing/fixtures/process.h"

namespace op::stack {
namespace fs = std::filesystem;

namespace {

std::string Subst(std::string text, const std::string& from, const std::string& to) {
  for (size_t p = text.find(from); p != std::string::npos; p = text.find(from, p + to.size())) text.replace(p, from.size(), to);
  return text;
}

std::string Read(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

bool PrometheusInstalled() { return fs::exists("/usr/bin/prometheus"); }

std::vector<std::string> PrometheusCommand(const StackOptions& o, const std::string& registry_host_port) {
  const std::string dir = o.data_dir + "/prometheus";
  fs::create_directories(dir);
  std::string cfg = Read(op::testing::Runfile("ops/prometheus/prometheus.yml"));
  cfg = Subst(cfg, "service-registry:8761", registry_host_port);
  cfg = Subst(cfg, "username: eureka", "username: " + o.registry_user);
  cfg = Subst(cfg, "/etc/prometheus/secrets/eureka-password", dir + "/eureka-password");
  {
    std::ofstream pw(dir + "/eureka-password");
    pw << o.registry_password;
  }
  fs::permissions(dir + "/eureka-password", fs::perms::owner_read | fs::perms::owner_write);
  std::ofstream(dir + "/prometheus.yml") << cfg;
  std::ofstream(dir + "/alerts.yml") << Read(op::testing::Runfile("ops/prometheus/alerts.yml"));
  return {"/usr/bin/prometheus", "--config.file=" + dir + "/prometheus.yml", "--storage.tsdb.path=" + dir + "/tsdb",
          "--storage.tsdb.retention.time=2d", "--web.listen-address=127.0.0.1:" + std::to_string(o.prometheus_port),
          "--log.level=warn"};
}

}  // namespace op::stack
