#include "server/workers.hpp"

#include "core/log.hpp"

namespace smppd::server {

WorkerPool::WorkerPool(std::size_t threads) {
  if (threads == 0) threads = 1;
  for (std::size_t i = 0; i < threads; ++i) {
    auto w = std::make_unique<Worker>();
    w->guard.emplace(w->context.get_executor());
    workers_.push_back(std::move(w));
  }
}

WorkerPool::~WorkerPool() {
  for (auto& w : workers_) {
    w->guard.reset();
    w->context.stop();
  }
  for (auto& w : workers_) {
    if (w->thread.joinable()) w->thread.join();
  }
}

void WorkerPool::start() {
  for (auto& w : workers_) {
    running_.fetch_add(1);
    w->thread = std::thread([this, ctx = &w->context] {
      try {
        ctx->run();
      } catch (const std::exception& e) {
        log::critical("worker thread stopped by an exception: {}", e.what());
      }
      running_.fetch_sub(1);
    });
  }
}

void WorkerPool::release() {
  for (auto& w : workers_) {
    asio::post(w->context, [w = w.get()] { w->guard.reset(); });
  }
}

bool WorkerPool::join(std::chrono::milliseconds deadline) {
  const auto until = std::chrono::steady_clock::now() + deadline;
  while (running_.load() > 0 && std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  const bool clean = running_.load() == 0;
  if (!clean) {
    for (auto& w : workers_) w->context.stop();
  }
  for (auto& w : workers_) {
    if (w->thread.joinable()) w->thread.join();
  }
  return clean;
}

}  // namespace smppd::server
