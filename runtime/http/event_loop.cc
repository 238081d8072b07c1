#include "runtime/http/event_loop.h"

namespace op::http {
namespace {
thread_local boost::asio::io_context* current_loop = nullptr;
}

boost::asio::io_context* CurrentLoop() { return current_loop; }

void RunLoop(boost::asio::io_context& io) {
  auto* outer = current_loop;
  current_loop = &io;
  try {
    io.run();
  } catch (...) {
    current_loop = outer;
    throw;
  }
  current_loop = outer;
}

}  // namespace op::http
