#pragma once
// The stack's terminal and its programs' log files. Every line a program
// writes goes to LOG_DIR/<program>.log (JSON log lines made readable); the
// terminal gets only what a person watching it needs: lifecycle lines
// (starting, started, stopping, stopped), warnings and errors, and the
// stack's own lines. --verbose puts everything on the terminal again.
//
// Threads: Say may be called from any thread (one mutex orders the lines);
// each LogPump copies one child's output on a thread of its own.
#include <memory>
#include <mutex>
#include <string>
#include <thread>

namespace op::stack {

// Where the log files go (created) and whether the terminal shows every line.
// Before the first LogPump; without it every line goes to the terminal.
void SetConsole(const std::string& log_dir, bool verbose);
const std::string& LogDir();

void Say(const std::string& who, const std::string& line);
// Whether a program's raw output line belongs on a quiet terminal.
bool Notable(const std::string& raw_line);
// One JSON log line as "12:00:01.234 INFO  started port=8081 ..."; anything else as is.
std::string Pretty(const std::string& line);
// Writes a block (the banner) without interleaving with log lines.
void Print(const std::string& block);

// Copies what a child writes to `fd` to LOG_DIR/<label>.log and its notable
// lines to the terminal under `label`, until the child closes it; keeps the
// last line for a one-line failure message. A log file past 20 MiB is moved
// to <label>.log.1 (replacing the one before) and started afresh.
class LogPump {
 public:
  LogPump(int fd, std::string label);
  ~LogPump();  // joins: the child must have exited (its end of the pipe closed)
  LogPump(const LogPump&) = delete;
  LogPump& operator=(const LogPump&) = delete;
  std::string LastLine() const;

 private:
  struct Last {
    mutable std::mutex mu;
    std::string text;
  };
  std::shared_ptr<Last> last_ = std::make_shared<Last>();
  std::thread thread_;
};

}  // namespace op::stack
