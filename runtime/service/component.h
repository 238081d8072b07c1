#pragma once
// One part of a service's runtime with a lifecycle, the way userver's
// components are: built from configuration (no I/O, may throw
// config::ConfigError), started in a fixed order, stopped in the reverse.
//
// Service (service.h) owns the components and is the only caller of
// Start/Stop, all on the main thread. Start() may block (waiting for a
// dependency) and throws StartupError when the service cannot run; Stop()
// must not throw (it logs), because every later component still has to stop.
#include <stdexcept>
#include <string>

namespace op {

class Component {
 public:
  virtual ~Component() = default;
  virtual const char* Name() const = 0;
  virtual void Start() {}
  virtual void Stop() {}
};

// Start-up cannot continue: a dependency is unreachable, the port is taken,
// a migration fails. The process exits 1 with this message.
class StartupError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A bad command line. The process exits 2, as for a configuration error.
class UsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace op
