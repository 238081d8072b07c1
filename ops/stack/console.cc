#include "ops/stack/console.h"

#include <unistd.h>

#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <map>

namespace op::stack {
namespace {

std::mutex g_out;
std::string g_log_dir;    // set once, before any pump starts
bool g_verbose = true;

constexpr size_t kMaxLogBytes = 20u << 20;

// One program's log file, rotated once past kMaxLogBytes. Used by its pump's thread only.
class LogFile {
 public:
  explicit LogFile(const std::string& label) {
    if (g_log_dir.empty()) return;
    path_ = g_log_dir + "/" + label + ".log";
    Open();
  }
  void Write(const std::string& line) {
    if (!out_.is_open()) return;
    out_ << line << '\n';
    out_.flush();
    written_ += line.size() + 1;
    if (written_ < kMaxLogBytes) return;
    out_.close();
    std::error_code ec;
    std::filesystem::rename(path_, path_ + ".1", ec);
    Open();
  }

 private:
  void Open() {
    out_.open(path_, std::ios::app);
    std::error_code ec;
    auto size = std::filesystem::file_size(path_, ec);
    written_ = ec ? 0 : size_t(size);
  }
  std::string path_;
  std::ofstream out_;
  size_t written_ = 0;
};

const char* Color(const std::string& name) {
  static const std::map<std::string, const char*> c = {
      {"order-service", "\033[36m"}, {"payment-service", "\033[33m"}, {"inventory-service", "\033[32m"},
      {"notification-service", "\033[35m"}, {"api-gateway", "\033[31m"}, {"dashboard", "\033[36m"},
      {"service-registry", "\033[37m"}, {"prometheus", "\033[33m"}, {"mariadb", "\033[34m"}, {"kafka", "\033[34m"}};
  auto it = c.find(name);
  return isatty(1) ? (it == c.end() ? "\033[37m" : it->second) : "";
}

}  // namespace

void SetConsole(const std::string& log_dir, bool verbose) {
  g_log_dir = log_dir;
  g_verbose = verbose;
  if (!log_dir.empty()) std::filesystem::create_directories(log_dir);
}

const std::string& LogDir() { return g_log_dir; }

bool Notable(const std::string& raw) {
  auto j = nlohmann::json::parse(raw, nullptr, false);
  if (!j.is_discarded() && j.is_object() && j.contains("msg")) {
    const std::string level = j.value("level", "info"), msg = j.value("msg", "");
    if (level == "warn" || level == "error") return true;
    return msg == "starting" || msg == "started" || msg == "stopping" || msg == "stopped";
  }
  if (!raw.empty() && raw[0] == '%') return false;  // librdkafka's own lines: the file has them
  // Other programs' own formats: log4j (Kafka), MariaDB's, logfmt (Prometheus).
  for (const char* word : {" WARN ", " ERROR ", " FATAL ", "[Warning]", "[ERROR]", "level=warn", "level=error", "Exception"})
    if (raw.find(word) != std::string::npos) return true;
  return false;
}

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
    LogFile file(label);
    auto emit = [&](const std::string& raw) {
      const std::string line = Pretty(raw);
      file.Write(line);
      if (g_verbose || Notable(raw)) Say(label, line);
      return line;
    };
    std::string buf;
    char chunk[4096];
    ssize_t n;
    while ((n = ::read(fd, chunk, sizeof chunk)) > 0) {
      buf.append(chunk, size_t(n));
      for (size_t nl; (nl = buf.find('\n')) != std::string::npos;) {
        const std::string raw = buf.substr(0, nl);
        buf.erase(0, nl + 1);
        const std::string line = emit(raw);
        if (!line.empty() && line[0] != '%') {  // librdkafka's own noise lines start with %
          std::lock_guard lock(last->mu);
          last->text = line;
        }
      }
    }
    if (!buf.empty()) emit(buf);
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
