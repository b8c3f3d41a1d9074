#include "store/cdr_feed.hpp"

namespace smppd::store {

CdrFeed::CdrFeed(Store& store, CdrWriterOptions options, RenderMessageId render,
                 UpstreamTagsLookup tags)
    : store_(store),
      writer_(std::move(options)),
      render_(std::move(render)),
      tags_(std::move(tags)) {
  thread_ = std::thread([this] { run(); });
}

CdrFeed::~CdrFeed() { stop(); }

void CdrFeed::add(std::span<const uint64_t> ids) {
  if (ids.empty()) return;
  {
    std::lock_guard lock(mutex_);
    const std::size_t room = pending_.size() < kMaxPending ? kMaxPending - pending_.size() : 0;
    const std::size_t take = std::min(room, ids.size());
    pending_.insert(pending_.end(), ids.begin(), ids.begin() + static_cast<std::ptrdiff_t>(take));
    if (take < ids.size()) dropped_.fetch_add(ids.size() - take, std::memory_order_relaxed);
  }
  cv_.notify_one();
}

void CdrFeed::stop() {
  {
    std::lock_guard lock(mutex_);
    if (stopping_ && !thread_.joinable()) return;
    stopping_ = true;
  }
  cv_.notify_one();
  if (thread_.joinable()) thread_.join();
  writer_.stop();
}

void CdrFeed::run() {
  std::vector<uint64_t> ids;
  CdrRecord r;
  for (;;) {
    {
      std::unique_lock lock(mutex_);
      cv_.wait(lock, [&] { return stopping_ || !pending_.empty(); });
      if (pending_.empty()) return;  // stopping, and everything handed over is written
      ids.swap(pending_);
    }
    for (uint64_t id : ids) {
      const std::optional<StoredMessage> m = store_.message(id);
      if (!m) continue;  // purged meanwhile
      r.message_id = render_(m->id, m->client_version);
      r.client_ref = m->client_ref;
      r.smsc_id = m->smsc_id;
      r.client = m->client;
      r.upstream = m->upstream;
      r.route = m->route;
      r.source = m->source;
      r.destination = m->destination;
      r.parts = m->parts;
      r.data_coding = m->data_coding;
      r.submit_at_ms = m->accepted_at;
      r.done_at_ms = m->done_at;
      r.state = std::string(state_name(m->state));
      r.error = m->error;
      r.upstream_tags.clear();
      if (tags_) tags_(r.upstream, r.upstream_tags);
      if (writer_.write(r)) written_.fetch_add(1, std::memory_order_relaxed);
    }
    ids.clear();
  }
}

}  // namespace smppd::store
