#pragma once
// Structured logs: one JSON object per line with timestamp, level, service,
// instance, thread, message, the current trace/correlation/order ids (from a
// thread-local LogContext) and any extra fields.
//
//   op::log::Info("order accepted", {{"totalCents", 4498}});
//   op::log::LogContext ctx({{"orderId", id}, {"correlationId", cid}});
#include <nlohmann/json.hpp>

#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>

namespace op::log {

enum class Level { kDebug, kInfo, kWarn, kError };

// Sets who is logging and where lines go (stdout unless `out` is given, tests
// capture). Safe to call again; without it lines say service "unknown".
void Init(std::string service, std::string instance, Level level = Level::kInfo,
          std::ostream* out = nullptr);
std::optional<Level> ParseLevel(std::string_view s);
void SetLevel(Level level);
bool Enabled(Level level);

void Write(Level level, std::string_view msg, const nlohmann::json& fields = nullptr);
inline void Debug(std::string_view m, const nlohmann::json& f = nullptr) { if (Enabled(Level::kDebug)) Write(Level::kDebug, m, f); }
inline void Info(std::string_view m, const nlohmann::json& f = nullptr) { Write(Level::kInfo, m, f); }
inline void Warn(std::string_view m, const nlohmann::json& f = nullptr) { Write(Level::kWarn, m, f); }
inline void Error(std::string_view m, const nlohmann::json& f = nullptr) { Write(Level::kError, m, f); }

// Adds fields to every line this thread writes while it lives; nests.
class LogContext {
 public:
  explicit LogContext(const nlohmann::json& fields);
  LogContext(nlohmann::json::initializer_list_t fields) : LogContext(nlohmann::json(fields)) {}
  ~LogContext();
  LogContext(const LogContext&) = delete;
  LogContext& operator=(const LogContext&) = delete;
  static const nlohmann::json& Current();

 private:
  nlohmann::json saved_;
};

}  // namespace op::log
