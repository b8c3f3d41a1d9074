// Feeds the CDR files (cdr.hpp) from what the store commits: after each successful commit the
// group commit hands over the ids of the messages whose outcome became final in it; a thread
// of its own reads their rows back and writes their CDRs. Nothing on the message path waits
// for it; a CDR is written only for what is durably final.
#pragma once

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <span>
#include <thread>
#include <vector>

#include "store/cdr.hpp"
#include "store/cdr_export.hpp"
#include "store/store.hpp"

namespace smppd::store {

class CdrFeed {
 public:
  // `tags`: the upstreams' tags as configured now, written into each CDR; empty: none.
  CdrFeed(Store& store, CdrWriterOptions options, RenderMessageId render,
          UpstreamTagsLookup tags = {});
  ~CdrFeed();
  CdrFeed(const CdrFeed&) = delete;
  CdrFeed& operator=(const CdrFeed&) = delete;

  // The messages of a committed batch that are done (WriteBatch::done_ids). Never blocks long;
  // beyond kMaxPending ids waiting, the surplus is counted as dropped (`smppd cdr export`
  // writes them from the store at any time).
  void add(std::span<const uint64_t> ids);
  // Writes what was handed over, then stops.
  void stop();

  static constexpr std::size_t kMaxPending = 1'000'000;
  uint64_t written() const { return written_.load(); }
  uint64_t dropped() const { return dropped_.load(); }
  const CdrWriter& writer() const { return writer_; }

 private:
  void run();

  Store& store_;
  CdrWriter writer_;
  RenderMessageId render_;
  UpstreamTagsLookup tags_;
  std::mutex mutex_;
  std::condition_variable cv_;
  std::vector<uint64_t> pending_;
  bool stopping_ = false;
  std::atomic<uint64_t> written_{0};
  std::atomic<uint64_t> dropped_{0};
  std::thread thread_;
};

}  // namespace smppd::store
