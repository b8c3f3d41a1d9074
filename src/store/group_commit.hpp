// Group commit: many writers, one thread that commits. Writers append to the batch of their
// shard (one per worker thread: no lock shared between workers) with a ticket each; the
// committer takes every shard's batch, writes them all in one durable transaction, and hands
// each shard's tickets back — only then may the message path act on them (answer a client
// ESME_ROK, send a message). No transaction per message, and no timer: while one transaction
// is being fsync'd the next one fills, so the wait is at most about two commits, and the
// batches grow with the load.
//
// When a commit fails (disk full, I/O error) the tickets come back with the failure: their new
// messages are not stored (their clients must be refused); every other write is kept and tried
// again, first, with the next commit, `retry_delay` later, so nothing already stored is lost and
// writing resumes by itself when the disk has room again. failing() is true meanwhile.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <span>
#include <thread>
#include <vector>

#include "store/store.hpp"

namespace smppd::store {

struct GroupCommitSettings {
  std::size_t shards = 1;
  std::chrono::milliseconds retry_delay{250};
};

// Counters of the committer, for metrics and benchmarks.
struct GroupCommitStats {
  std::atomic<uint64_t> commits{0};
  std::atomic<uint64_t> writes{0};
  std::atomic<uint64_t> messages{0};
  std::atomic<uint64_t> failures{0};
  std::atomic<uint64_t> commit_micros{0};  // total time in write()
  std::atomic<uint64_t> max_commit_micros{0};
};

template <class Ticket>
class GroupCommit {
 public:
  // On the committer's thread, after each transaction, for each shard that had writes: its
  // tickets in the order written; `failure` when the transaction failed.
  using Committed =
      std::function<void(std::size_t shard, std::vector<Ticket>& tickets, const WriteFailure*)>;
  // Told once when writing fails and once when it works again.
  using Health = std::function<void(const WriteFailure* failure)>;

  GroupCommit(Store& store, GroupCommitSettings settings, Committed committed, Health health = {})
      : store_(store),
        settings_(settings),
        committed_(std::move(committed)),
        health_(std::move(health)),
        shards_(settings.shards == 0 ? 1 : settings.shards),
        taken_(shards_.size()) {}
  GroupCommit(const GroupCommit&) = delete;
  GroupCommit& operator=(const GroupCommit&) = delete;
  ~GroupCommit() { stop(); }

  // On the committer's thread after each successful transaction, with its batches (before the
  // tickets are handed back). Set before start().
  using AfterCommit = std::function<void(std::span<const WriteBatch* const> batches)>;
  void after_commit(AfterCommit f) { after_commit_ = std::move(f); }

  void start() {
    thread_ = std::thread([this] { run(); });
  }

  // Any thread. `fill(WriteBatch&, std::vector<Ticket>&)` appends writes and tickets; it runs
  // under the shard's lock, so it must be short.
  template <class Fill>
  void write(std::size_t shard, Fill&& fill) {
    Shard& s = shards_[shard % shards_.size()];
    bool was_empty;
    {
      std::lock_guard lock(s.mutex);
      was_empty = s.batch.empty() && s.tickets.empty();
      fill(s.batch, s.tickets);
    }
    if (was_empty) wake();
  }

  // Commits what was written, then ends the thread. Tickets written after stop() are never
  // committed.
  void stop() {
    {
      std::lock_guard lock(wake_mutex_);
      if (stopping_) {
        if (thread_.joinable()) thread_.join();
        return;
      }
      stopping_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable()) thread_.join();
  }

  bool failing() const { return failing_.load(std::memory_order_relaxed); }
  const GroupCommitStats& stats() const { return stats_; }
  std::size_t shards() const { return shards_.size(); }

 private:
  struct Shard {
    std::mutex mutex;
    WriteBatch batch;
    std::vector<Ticket> tickets;
  };
  struct Taken {
    WriteBatch batch;
    std::vector<Ticket> tickets;
  };

  void wake() {
    {
      std::lock_guard lock(wake_mutex_);
      pending_ = true;
    }
    cv_.notify_one();
  }

  // Takes every shard's writes; false when there were none.
  bool take() {
    bool any = false;
    for (std::size_t i = 0; i < shards_.size(); ++i) {
      Shard& s = shards_[i];
      Taken& t = taken_[i];
      std::lock_guard lock(s.mutex);
      if (s.batch.empty() && s.tickets.empty()) continue;
      std::swap(s.batch, t.batch);
      std::swap(s.tickets, t.tickets);
      any = true;
    }
    return any;
  }

  void run() {
    std::vector<const WriteBatch*> batches;
    for (;;) {
      bool stopping;
      {
        std::unique_lock lock(wake_mutex_);
        if (carry_.empty()) {
          cv_.wait(lock, [&] { return pending_ || stopping_; });
        } else {
          // A failed commit: try again after a pause (or at once when stopping).
          cv_.wait_for(lock, settings_.retry_delay, [&] { return stopping_; });
        }
        pending_ = false;
        stopping = stopping_;
      }
      const bool any = take();
      if (!any && carry_.empty()) {
        if (stopping) return;
        continue;
      }
      batches.clear();
      if (!carry_.empty()) batches.push_back(&carry_);
      std::size_t writes = carry_.size(), messages = 0;
      for (Taken& t : taken_) {
        if (t.batch.empty()) continue;
        batches.push_back(&t.batch);
        writes += t.batch.size();
        messages += t.batch.new_messages();
      }
      const auto started = std::chrono::steady_clock::now();
      std::optional<WriteFailure> failure = store_.write(batches);
      const auto micros = static_cast<uint64_t>(
          std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() -
                                                                started)
              .count());
      stats_.commit_micros.fetch_add(micros, std::memory_order_relaxed);
      if (micros > stats_.max_commit_micros.load(std::memory_order_relaxed)) {
        stats_.max_commit_micros.store(micros, std::memory_order_relaxed);
      }
      if (failure) {
        stats_.failures.fetch_add(1, std::memory_order_relaxed);
        // Keep everything but the new messages, whose clients are refused below.
        for (Taken& t : taken_) {
          if (!t.batch.empty()) carry_.append(t.batch);
        }
        carry_.drop_new_messages();
        if (!failing_.exchange(true) && health_) health_(&*failure);
      } else {
        if (after_commit_) after_commit_(batches);
        carry_.clear();
        stats_.commits.fetch_add(1, std::memory_order_relaxed);
        stats_.writes.fetch_add(writes, std::memory_order_relaxed);
        stats_.messages.fetch_add(messages, std::memory_order_relaxed);
        if (failing_.exchange(false) && health_) health_(nullptr);
      }
      for (std::size_t i = 0; i < taken_.size(); ++i) {
        Taken& t = taken_[i];
        if (!t.tickets.empty()) committed_(i, t.tickets, failure ? &*failure : nullptr);
        t.tickets.clear();
        t.batch.clear();
      }
      if (stopping) {
        // What was written while this commit ran gets one more pass; with the disk still
        // failing at the exit, what is carried is lost with the process — but every message it
        // concerns was stored before, and a restart resumes it.
        if (!carry_.empty() || shards_empty()) return;
      }
    }
  }

  bool shards_empty() {
    for (Shard& s : shards_) {
      std::lock_guard lock(s.mutex);
      if (!s.batch.empty() || !s.tickets.empty()) return false;
    }
    return true;
  }

  Store& store_;
  GroupCommitSettings settings_;
  Committed committed_;
  Health health_;
  AfterCommit after_commit_;
  std::vector<Shard> shards_;
  std::vector<Taken> taken_;
  WriteBatch carry_;  // writes of a failed commit, tried again first
  std::mutex wake_mutex_;
  std::condition_variable cv_;
  bool pending_ = false;
  bool stopping_ = false;
  std::atomic<bool> failing_{false};
  GroupCommitStats stats_;
  std::thread thread_;
};

}  // namespace smppd::store
