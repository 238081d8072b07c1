#pragma once
// The stack's terminal: every program's log lines, one prefixed and coloured
// line each, JSON log lines made readable.
//
// Threads: Say may be called from any thread (one mutex orders the lines);
// each LogPump copies one child's output on a thread of its own.
#include <memory>
#include <mutex>
#include <string>
#include <thread>

namespace op::stack {

void Say(const std::string& who, const std::string& line);
// One JSON log line as "12:00:01.234 INFO  started port=8081 ..."; anything else as is.
std::string Pretty(const std::string& line);
// Writes a block (the banner) without interleaving with log lines.
void Print(const std::string& block);

// Copies what a child writes to `fd` to the terminal under `label`, until
// the child closes it; keeps the last line for a one-line failure message.
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
