#include "runtime/logging/log.h"

#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <mutex>
#include <thread>

#include "runtime/core/time_format.h"

namespace op::log {

namespace {

struct State {
  std::mutex mu;
  std::string service = "unknown";
  std::string instance = "unknown";
  std::shared_ptr<spdlog::logger> logger;
};

State& S() {
  static State* s = [] {
    auto* st = new State;  // leaked on purpose: logging must outlive static destructors
    st->logger = std::make_shared<spdlog::logger>("op", std::make_shared<spdlog::sinks::stdout_sink_mt>());
    st->logger->set_pattern("%v");
    return st;
  }();
  return *s;
}

std::atomic<int> g_level{static_cast<int>(Level::kInfo)};
// The live LogContexts of this thread, outermost first (scoped objects: they
// end in the reverse order they began).
thread_local std::vector<const LogContext::Fields*> t_context;

const char* Name(Level l) {
  switch (l) {
    case Level::kDebug: return "debug";
    case Level::kInfo: return "info";
    case Level::kWarn: return "warn";
    case Level::kError: return "error";
  }
  return "info";
}

}  // namespace

void Init(std::string service, std::string instance, Level level, std::ostream* out) {
  State& s = S();
  std::lock_guard lock(s.mu);
  s.service = std::move(service);
  s.instance = std::move(instance);
  spdlog::sink_ptr sink;
  if (out) sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(*out, /*force_flush=*/true);
  else sink = std::make_shared<spdlog::sinks::stdout_sink_mt>();
  auto logger = std::make_shared<spdlog::logger>("op", sink);
  logger->set_pattern("%v");
  logger->flush_on(spdlog::level::info);
  std::atomic_store(&s.logger, logger);
  g_level = static_cast<int>(level);
}

std::optional<Level> ParseLevel(std::string_view s) {
  if (s == "debug" || s == "DEBUG") return Level::kDebug;
  if (s == "info" || s == "INFO") return Level::kInfo;
  if (s == "warn" || s == "WARN" || s == "warning") return Level::kWarn;
  if (s == "error" || s == "ERROR") return Level::kError;
  return std::nullopt;
}

void SetLevel(Level level) { g_level = static_cast<int>(level); }
Level CurrentLevel() { return static_cast<Level>(g_level.load()); }
const char* LevelName(Level level) {
  switch (level) {
    case Level::kDebug: return "DEBUG";
    case Level::kInfo: return "INFO";
    case Level::kWarn: return "WARN";
    case Level::kError: return "ERROR";
  }
  return "INFO";
}
bool Enabled(Level level) { return static_cast<int>(level) >= g_level.load(std::memory_order_relaxed); }

void Write(Level level, std::string_view msg, const nlohmann::json& fields) {
  if (!Enabled(level)) return;
  State& s = S();
  nlohmann::json line = nlohmann::json::object();
  line["ts"] = FormatRfc3339(std::chrono::system_clock::now());
  line["level"] = Name(level);
  {
    std::lock_guard lock(s.mu);
    line["service"] = s.service;
    line["instance"] = s.instance;
  }
  line["thread"] = std::hash<std::thread::id>{}(std::this_thread::get_id()) % 100000;
  line["msg"] = msg;
  for (const auto* frame : t_context) frame->AddTo(line);
  if (fields.is_object())
    for (auto& [k, v] : fields.items()) line[k] = v;
  auto logger = std::atomic_load(&s.logger);
  // 'replace' keeps a line valid JSON even when a field holds broken UTF-8.
  logger->log(level == Level::kError  ? spdlog::level::err
              : level == Level::kWarn ? spdlog::level::warn
                                      : spdlog::level::info,
              line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

void LogContext::Json::AddTo(nlohmann::json& line) const {
  for (auto& [k, v] : fields.items()) line[k] = v;
}

LogContext::LogContext(nlohmann::json fields) {
  owned_.fields = std::move(fields);
  if ((pushed_ = owned_.fields.is_object())) t_context.push_back(&owned_);
}

LogContext::LogContext(const Fields& fields) : pushed_(true) { t_context.push_back(&fields); }

LogContext::~LogContext() {
  if (pushed_) t_context.pop_back();
}

nlohmann::json LogContext::Current() {
  nlohmann::json out = nlohmann::json::object();
  for (const auto* frame : t_context) frame->AddTo(out);
  return out;
}

}  // namespace op::log
