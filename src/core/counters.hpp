// Named counters with labels: connections, binds, refusals, and per message (client, upstream,
// status). Names and labels follow Prometheus (`smppd_messages_total{client="a",...}`), so the
// metrics endpoint can expose a snapshot as it is.
//
// Made for the message path: each thread adds to its own shard (a lock nobody else takes
// except a snapshot), the key is built in a per-thread buffer, and a counter allocates only the
// first time it is seen. No lock is shared by all sessions.
#pragma once

#include <array>
#include <cstdint>
#include <initializer_list>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace smppd {

using Label = std::pair<std::string_view, std::string_view>;

class Counters {
 public:
  void add(std::string_view name, std::initializer_list<Label> labels, uint64_t n = 1);
  uint64_t get(std::string_view name, std::initializer_list<Label> labels) const;
  // Every counter as "name{labels}" and its value (summed over threads), sorted by key.
  std::vector<std::pair<std::string, uint64_t>> snapshot() const;

  static std::string key(std::string_view name, std::initializer_list<Label> labels);

 private:
  static void append_key(std::string& out, std::string_view name,
                         std::initializer_list<Label> labels);
  struct Shard {
    mutable std::mutex mutex;
    std::unordered_map<std::string, uint64_t> values;
  };
  static constexpr std::size_t kShards = 16;
  std::array<Shard, kShards> shards_;
};

}  // namespace smppd
