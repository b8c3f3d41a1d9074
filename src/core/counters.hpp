// Named counters with labels, for events that are rare next to messages: connections, binds,
// rejections. Thread safe through one mutex; the message path keeps its own per-thread counts.
// Names and labels follow Prometheus (`smppd_binds_rejected_total{listener="a",reason="b"}`), so
// the metrics endpoint can expose a snapshot as it is.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace smppd {

using Label = std::pair<std::string_view, std::string_view>;

class Counters {
 public:
  void add(std::string_view name, std::initializer_list<Label> labels, uint64_t n = 1);
  uint64_t get(std::string_view name, std::initializer_list<Label> labels) const;
  // Every counter as "name{labels}" and its value, sorted by key.
  std::vector<std::pair<std::string, uint64_t>> snapshot() const;

  static std::string key(std::string_view name, std::initializer_list<Label> labels);

 private:
  mutable std::mutex mutex_;
  std::map<std::string, uint64_t, std::less<>> values_;
};

}  // namespace smppd
