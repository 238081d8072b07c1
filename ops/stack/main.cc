// `bazel run //ops:stack`: the whole platform on one machine.
//
// With no settings it starts, in dependency order: a MariaDB server on a data
// directory that survives restarts (STACK_DATA_DIR, default
// ~/.local/share/orderplatform), the dev Kafka broker (or, with --kafka
// apache, a local 3-node Apache Kafka cluster), the registry, the services,
// the gateway and the dashboard, then Prometheus when installed. It waits for
// each to be ready, prints the URLs, streams every program's log with a
// prefix, restarts whatever exits (MariaDB and Kafka too) with backoff, and
// on Ctrl-C stops everything in reverse order. KAFKA_BOOTSTRAP_SERVERS /
// MYSQL_HOST use external ones instead. `--help` lists the rest.
#include <signal.h>

#include <atomic>
#include <iostream>

#include "ops/stack/options.h"
#include "ops/stack/stack.h"

namespace {
std::atomic<bool> g_stop{false};
void OnSignal(int) { g_stop = true; }
}  // namespace

int main(int argc, char** argv) {
  try {
    auto options = op::stack::ParseOptions(argc, argv);
    if (options.help) {
      std::cout << op::stack::HelpText();
      return 0;
    }
    op::stack::Stack stack(std::move(options));
    struct sigaction sa {};
    sa.sa_handler = OnSignal;
    sigaction(SIGINT, &sa, nullptr);
    sigaction(SIGTERM, &sa, nullptr);
    signal(SIGPIPE, SIG_IGN);
    return stack.Run(g_stop);
  } catch (const op::stack::UsageError& e) {
    std::cerr << "stack: " << e.what() << std::endl;
    return 1;
  }
}
