// The daemon's threads: one io_context per thread, each with the sessions it runs. A session
// lives on one thread for its whole life, so nothing in it needs a lock; new connections are
// spread over the threads round robin.
#pragma once

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

#include <atomic>
#include <chrono>
#include <memory>
#include <optional>
#include <thread>
#include <vector>

#include "session/session.hpp"

namespace smppd::server {

namespace asio = boost::asio;

class WorkerPool {
 public:
  explicit WorkerPool(std::size_t threads);
  ~WorkerPool();

  std::size_t size() const { return workers_.size(); }
  asio::io_context& context(std::size_t i) { return workers_[i]->context; }
  // Touch only on that worker's thread.
  session::SessionList& sessions(std::size_t i) { return workers_[i]->sessions; }
  // The worker for the next connection.
  std::size_t pick() { return next_.fetch_add(1, std::memory_order_relaxed) % workers_.size(); }

  void start();
  // Lets each thread end once its work is done (no more keep-alive).
  void release();
  // Waits for the threads; after `deadline`, stops whatever still runs. True if they ended
  // on their own.
  bool join(std::chrono::milliseconds deadline);

 private:
  struct Worker {
    asio::io_context context{1};
    std::optional<asio::executor_work_guard<asio::io_context::executor_type>> guard;
    session::SessionList sessions;
    std::thread thread;
  };
  std::vector<std::unique_ptr<Worker>> workers_;
  std::atomic<std::size_t> next_{0};
  std::atomic<std::size_t> running_{0};
};

}  // namespace smppd::server
