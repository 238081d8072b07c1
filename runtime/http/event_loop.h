#pragma once
// Which Asio event loop the calling thread runs. Server threads run their loop
// through RunLoop(), so code on them (an AsyncClient starting an upstream
// call) can keep its I/O on the same loop and thread as the connection that
// asked for it: no hand-off to another thread and back per request.
#include <boost/asio/io_context.hpp>

namespace op::http {

// The loop the calling thread is running inside RunLoop(); nullptr elsewhere.
boost::asio::io_context* CurrentLoop();
// io.run() on the calling thread, marked as that thread's loop meanwhile.
void RunLoop(boost::asio::io_context& io);

}  // namespace op::http
