// Test helper: what this process's epoll sets wait for on a descriptor, read from
// /proc/self/fdinfo (each epoll descriptor lists its targets as "tfd: FD events: MASK ...").
#pragma once

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>

namespace smppd::testing {

// nullopt: the descriptor is in no epoll set.
inline std::optional<uint32_t> epoll_events_of(int fd) {
  std::optional<uint32_t> events;
  for (const auto& entry : std::filesystem::directory_iterator("/proc/self/fdinfo")) {
    std::ifstream in(entry.path());
    std::string line;
    while (std::getline(in, line)) {
      if (line.rfind("tfd:", 0) != 0) continue;
      std::istringstream fields(line);
      std::string tfd, events_key, mask;
      int target = -1;
      fields >> tfd >> target >> events_key >> mask;
      if (target == fd && events_key == "events:") {
        events = events.value_or(0) | static_cast<uint32_t>(std::stoul(mask, nullptr, 16));
      }
    }
  }
  return events;
}

}  // namespace smppd::testing
