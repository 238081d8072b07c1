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
#include <vector>

namespace op::log {

enum class Level { kDebug, kInfo, kWarn, kError };

// Sets who is logging and where lines go (stdout unless `out` is given, tests
// capture). Safe to call again; without it lines say service "unknown".
void Init(std::string service, std::string instance, Level level = Level::kInfo,
          std::ostream* out = nullptr);
std::optional<Level> ParseLevel(std::string_view s);
void SetLevel(Level level);
Level CurrentLevel();
const char* LevelName(Level level);  // "DEBUG", "INFO", "WARN", "ERROR"
bool Enabled(Level level);

void Write(Level level, std::string_view msg, const nlohmann::json& fields = nullptr);
inline void Debug(std::string_view m, const nlohmann::json& f = nullptr) { if (Enabled(Level::kDebug)) Write(Level::kDebug, m, f); }
inline void Info(std::string_view m, const nlohmann::json& f = nullptr) { Write(Level::kInfo, m, f); }
inline void Warn(std::string_view m, const nlohmann::json& f = nullptr) { Write(Level::kWarn, m, f); }
inline void Error(std::string_view m, const nlohmann::json& f = nullptr) { Write(Level::kError, m, f); }

// Adds fields to every line this thread writes while it lives; nests (an
// inner field of the same name wins). Entering and leaving a context copies
// nothing: the thread keeps a stack of pointers to the live contexts' fields,
// asked for their values only when a line is written (every request and
// event enters a context; most write no line).
class LogContext {
 public:
  // What a context adds to a line.
  class Fields {
   public:
    virtual ~Fields() = default;
    virtual void AddTo(nlohmann::json& line) const = 0;
  };
  explicit LogContext(nlohmann::json fields);
  LogContext(nlohmann::json::initializer_list_t fields) : LogContext(nlohmann::json(fields)) {}
  // Borrows `fields`, which must outlive the context.
  explicit LogContext(const Fields& fields);
  ~LogContext();
  LogContext(const LogContext&) = delete;
  LogContext& operator=(const LogContext&) = delete;
  // This thread's context fields, merged.
  static nlohmann::json Current();

 private:
  struct Json : Fields {
    nlohmann::json fields;
    void AddTo(nlohmann::json& line) const override;
  };
  Json owned_;
  bool pushed_ = false;
};

}  // namespace op::log
