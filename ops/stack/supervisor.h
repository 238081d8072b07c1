#pragma once
// Keeps every program of the stack running: the data layer (MariaDB, the
// Kafka broker or nodes) and the services alike. A unit that stops is started
// again after a backoff (1 s, 2 s, ... 30 s), which starts from 1 s again once
// the unit has run for kHealthyAfter; a unit put on hold (a broker stopped
// from the dashboard) stays down until released.
//
// Threads: Tick runs on the stack's main thread; Hold/Release may come from
// the broker admin server's thread. One mutex serialises them, so a hold
// waits for a restart in progress (the data layer's Launch blocks until the
// program is up) and the other way round.
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "runtime/core/backoff.h"

namespace op::stack {

class Unit {
 public:
  virtual ~Unit() = default;
  virtual const std::string& name() const = 0;
  // Starts it; the data layer's blocks until it serves, and throws when it does not.
  virtual void Launch() = 0;
  virtual bool Running() = 0;
  virtual void Stop() = 0;  // SIGTERM, then SIGKILL after a grace
  // Units of one group (non-empty) stop together: first each is signalled, then waited for.
  virtual const char* group() const { return ""; }
  virtual void Signal() {}  // SIGTERM without waiting
  virtual std::string LastWords() const { return ""; }  // its last log line, to explain a failure
};

class Supervisor {
 public:
  using Clock = std::chrono::steady_clock;
  static constexpr std::chrono::seconds kHealthyAfter{60};

  struct Program {
    std::string name;
    std::string state;  // as State()
    int restarts = 0;   // since the stack started
  };
  // `after_restart` runs (on the supervising thread, the lock held) once the
  // unit is up again after it had stopped.
  Unit& Add(std::unique_ptr<Unit> unit, std::function<void()> after_restart = {});
  void Tick() { Tick(Clock::now()); }
  void Tick(Clock::time_point now);  // tests drive the clock
  // Every unit, in the order added.
  std::vector<Program> Programs();
  // The wait before the unit's next restart, were it to stop now.
  std::chrono::milliseconds NextBackoff(const std::string& name);
  // Stops a unit and keeps it down (false: no such unit); Release lets it start again.
  bool Hold(const std::string& name);
  bool Release(const std::string& name);
  // "UP", "DOWN" (held), "RESTARTING", or "" when there is no such unit.
  std::string State(const std::string& name);
  // Stops the units that `pick` selects (all when empty), the last added
  // first; the next Tick starts them again with no backoff. Only from an
  // after_restart callback (it runs with the lock held).
  void Restart(const std::function<bool(const Unit&)>& pick);
  // The last added first; consecutive units of one group together.
  void StopAll();

 private:
  struct Entry {
    std::unique_ptr<Unit> unit;
    std::function<void()> after_restart;
    int restarts = 0;          // since it last ran healthy: the backoff's attempt
    int total_restarts = 0;    // since the stack started: what the dashboard shows
    std::chrono::steady_clock::time_point restart_at{};  // zero: not scheduled
    std::chrono::steady_clock::time_point up_since{};    // zero: not seen running yet
    bool held = false;
  };
  Entry* FindLocked(const std::string& name);
  std::string StateLocked(Entry& e);
  void TickLocked(Entry& e, std::chrono::steady_clock::time_point now);
  std::mutex mu_;
  std::vector<Entry> entries_;
  const BackoffPolicy backoff_{std::chrono::seconds(1), std::chrono::seconds(30), 2.0, false};
};

}  // namespace op::stack
