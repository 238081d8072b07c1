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

namespace op::http {

// The loop the calling thread is running inside RunLoop(); nullptr elsewhere.
boost::asio::io_context* CurrentLoop();
// io.run() on the calling thread, marked as that thread's loop meanwhile.
void RunLoop(boost::asio::io_context& io);

// What a connection's I/O runs on: a strand of one loop, so its socket, timer
// and parser are touched by one thread at a time. Named as the concrete type:
// a socket with the default type-erased executor copies the strand onto the
// heap every time an operation takes its executor (six times per proxied
// request, measured with heaptrack).
using Strand = boost::asio::strand<boost::asio::io_context::executor_type>;
using StrandSocket = boost::asio::basic_stream_socket<boost::asio::ip::tcp, Strand>;
using StrandTimer = boost::asio::basic_waitable_timer<std::chrono::steady_clock,
                                                      boost::asio::wait_traits<std::chrono::steady_clock>, Strand>;

}  // namespace op::http
