// Why the middleware refuses a message: shared by the chain and its filters.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace smppd::middleware {

// The status its client gets, the filter and the rule (for the log line and the metric label;
// from the configuration, so a bounded set), and the value that did not pass.
struct Rejection {
  uint32_t command_status = 0;
  std::string_view filter;  // "address_filter", "transform", "protocol"
  std::string rule;         // "destination.blocked +1900*", "rule #2 destination_addr"
  std::string address;      // what did not pass
};

}  // namespace smppd::middleware
