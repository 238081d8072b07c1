#include "ops/stack/units.h"

#include <csignal>

namespace op::stack {

void ProcessUnit::Launch() {
  pump_.reset();  // joins the last run's pump: that child has exited
  op::testing::Process::Options o;
  o.argv = argv_;
  o.pipe_output = true;
  process_ = std::make_unique<op::testing::Process>(o);
  process_->Start();
  pump_ = std::make_unique<LogPump>(process_->OutputFd(), label_);
}

void ProcessUnit::Stop() {
  if (process_) process_->Stop(std::chrono::seconds(20));
}

void ProcessUnit::Signal() {
  if (process_ && process_->Running()) process_->Signal(SIGTERM);
}

bool ProcessUnit::WaitReady(std::chrono::seconds timeout) {
  return op::testing::WaitForHttp(ready_url_, 200, timeout, process_.get());
}

}  // namespace op::stack
