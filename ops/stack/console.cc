#include "ops/stack/console.h"

#include <unistd.h>

#include <nlohmann/json.hpp>

#include <iomanip>
#include <iostream>
#include <map>

namespace op::stack {
namespace {

std::mutex g_out;

const char* Color(const std::string& name) {
  static const std::map<std::string, const char*> c = {
      {"order-service", "\033[36m"}, {"payment-service", "\033[33m"}, {"inventory-service", "\033[32m"},
      {"notification-service", "\033[35m"}, {"api-gateway", "\033[31m"}, {"dashboard", "\033[36m"},
      {"service-registry", "\033[37m"}, {"prometheus", "\033[33m"}, {"mariadb", "\033[34m"}, {"kafka", "\033[34m"}};
  auto it = c.find(name);
  return isatty(1) ? (it == c.end() ? "\033[37m" : it->second) : "";
}

}  // namespace

void Say(const std::string& who, const std::string& line) {
  std::lock_guard lock(g_out);
  const char* reset = isatty(1) ? "\033[0m" : "";
  std::string app = who;  // "payment-service-2" and "kafka-1" take their program's colour
  if (app.size() > 2 && app[app.size() - 2] == '-' && isdigit(app.back())) app.resize(app.size() - 2);
  std::cout << Color(app) << std::left << std::setw(21) << who << reset << "| " << line << "\n" << std::flush;
}

void Print(const std::string& block) {
  std::lock_guard lock(g_out);
  std::cout << block << std::flush;
}

std::string Pretty(const std::string& line) {
  auto j = nlohmann::json::parse(line, nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains("msg")) return line;
  std::string ts = j.value("ts", "");
  std::string out = (ts.size() >= 23 ? ts.substr(11, 12) : ts) + " ";
  std::string level = j.value("level", "info");
  for (auto& c : level) c = char(::toupper(c));
  out += level + std::string(6 - std::min<size_t>(5, level.size()), ' ') + j.value("msg", "");
  for (auto& [k, v] : j.items()) {
    if (k == "ts" || k == "level" || k == "msg" || k == "service" || k == "instance" || k == "thread") continue;
    out += " " + k + "=" + (v.is_string() ? v.get<std::string>() : v.dump());
  }
  return out;
}

LogPump::LogPump(int fd, std::string label) {
  thread_ = std::thread([fd, label = std::move(label), last = last_] {
    std::string buf;
    char chunk[4096];
    ssize_t n;
    while ((n = ::read(fd, chunk, sizeof chunk)) > 0) {
      buf.append(chunk, size_t(n));
      for (size_t nl; (nl = buf.find('\n')) != std::string::npos;) {
        std::string line = Pretty(buf.substr(0, nl));
        buf.erase(0, nl + 1);
        if (!line.empty() && line[0] != '%') {  // librdkafka's own noise lines start with %
          std::lock_guard lock(last->mu);
          last->text = line;
        }
        Say(label, line);
      }
    }
    if (!buf.empty()) Say(label, Pretty(buf));
    ::close(fd);
  });
}

LogPump::~LogPump() {
  if (thread_.joinable()) thread_.join();
}

std::string LogPump::LastLine() const {
  std::lock_guard lock(last_->mu);
  return last_->text;
}

}  // namespace op::stack
