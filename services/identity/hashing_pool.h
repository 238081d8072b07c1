#pragma once
// Where password hashing runs: `threads` threads and a bounded queue. The
// sign-in and sign-up routes hand their work here and return, so a sign-in
// flood fills this queue (then gets 503 at once) instead of every server
// thread: token checks, JWKS and discovery answers stay quick (measured by
// testing/bench/signin_bench).
//
// Threads: Submit from any thread; jobs run on the pool's threads, one at a
// time each; the destructor finishes the queued jobs and joins.
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace op::identity {

class HashingPool {
 public:
  HashingPool(int threads, size_t max_queued);
  ~HashingPool();
  HashingPool(const HashingPool&) = delete;
  HashingPool& operator=(const HashingPool&) = delete;
  // False (and the job is not run) when the queue is full.
  bool Submit(std::function<void()> job);

 private:
  void Run();
  const size_t max_queued_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> queue_;
  bool stop_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace op::identity
