#pragma once
// Which Asio event loop the calling thread runs. Server threads run their loop
// through RunLoop(), so code on them (an AsyncClient starting an upstream
// call) can keep its I/O on the same loop and thread as the connection that
// asked for it: no hand-off to another thread and back per request.
#include <boost/asio/basic_waitable_timer.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/strand.hpp>

#include <chrono>
#include <type_traits>

namespace op::http {

// The loop the calling thread is running inside RunLoop(); nullptr elsewhere.
boost::asio::io_context* CurrentLoop();
// io.run() on the calling thread, marked as that thread's loop meanwhile.
void RunLoop(boost::asio::io_context& io);

// What a connection's I/O runs on. Several threads running one loop need a
// strand per connection, so its socket, timer and parser are touched by one
// thread at a time. A loop run by one thread serialises everything already:
// there the connection uses the loop's own executor, because a strand costs a
// lock and an extra trip through the loop's queue on every completion (a
// measurable share of the gateway's throughput: docs/benchmarks.md).
// Named as concrete types: a socket with the default type-erased executor
// copies the strand onto the heap every time an operation takes its executor
// (six times per proxied request, measured with heaptrack).
using LoopExecutor = boost::asio::io_context::executor_type;
using Strand = boost::asio::strand<LoopExecutor>;
template <class Executor>
using Socket = boost::asio::basic_stream_socket<boost::asio::ip::tcp, Executor>;
template <class Executor>
using Timer = boost::asio::basic_waitable_timer<std::chrono::steady_clock,
                                                boost::asio::wait_traits<std::chrono::steady_clock>, Executor>;

// A new connection's executor on `io`: a fresh strand, or the loop's own.
template <class Executor>
Executor ConnectionExecutor(boost::asio::io_context& io) {
  if constexpr (std::is_same_v<Executor, Strand>) {
    return boost::asio::make_strand(io);
  } else {
    return io.get_executor();
  }
}

}  // namespace op::http
