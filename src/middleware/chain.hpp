// The middleware chain: what a client's message goes through before it is routed, in the order
// of the configuration's `middleware` list (Envoy's network filters are the model: each filter
// lets the message go on or rejects it with the status the client gets).
//
// Built so far:
//  - address_filter: the client's `addresses` (source and destination, `allowed` and `blocked`
//    patterns as routes write them: "*", "+1900*", "258841234567"): a source not allowed, or
//    blocked, is ESME_RINVSRCADR; a destination, ESME_RINVDSTADR (for submit_multi, any of its
//    SME destinations). A client's `addresses` apply whether or not the list names
//    address_filter (a rule written is a rule kept): the entry only places them in the order.
//  - logger: a line per message at its level (with the fields routing reads).
// `auth` (binds are authenticated by the listener), `rate_limit` (a client's rate_limit is
// applied by the gateway for every face) and `metrics` (always on) have nothing to do here;
// `transform` and `protocol` are not built yet (smppd validate and the log say so).
//
// Pure: no sockets, no logging, no clock; built once per configuration (a reload builds a new
// one), then read by every thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.hpp"
#include "core/string_map.hpp"
#include "smpp/pdu.hpp"

namespace smppd::middleware {

// Why a message is refused: the status its client gets, the filter and the rule (for the log
// line and the metric label; from the configuration, so a bounded set).
struct Rejection {
  uint32_t command_status = 0;
  std::string_view filter;  // "address_filter"
  std::string rule;         // "destination.blocked +1900*"
  std::string address;      // what did not pass
};

// What the chain says of one message.
struct Verdict {
  std::optional<Rejection> rejection;
  // The logger's level for this message, when the chain has a logger (before a rejection, so
  // that refused messages are logged too).
  std::optional<config::LogLevel> log_level;
};

class Chain {
 public:
  explicit Chain(const config::Config& config);

  // Nothing to do for any message: the message path skips the chain.
  bool empty() const { return empty_; }

  // A client's submit_sm, data_sm or submit_multi (another PDU goes on untouched).
  Verdict run(const smpp::Pdu& request, std::string_view client) const;

  // The filters in order, by name (for `smppd route test` and the log at start).
  const std::vector<std::string>& order() const { return order_; }

 private:
  struct Patterns {
    std::vector<std::pair<std::string, config::AddressPattern>> allowed;  // as written, parsed
    std::vector<std::pair<std::string, config::AddressPattern>> blocked;
    bool empty() const { return allowed.empty() && blocked.empty(); }
  };
  struct ClientRules {
    Patterns source;
    Patterns destination;
  };
  enum class Step : uint8_t { address_filter, logger };
  std::optional<Rejection> filter_addresses(const smpp::Pdu& request,
                                            const ClientRules& rules) const;

  std::vector<Step> steps_;
  config::LogLevel log_level_ = config::LogLevel::info;
  StringMap<ClientRules> clients_;
  std::vector<std::string> order_;
  bool empty_ = true;
};

}  // namespace smppd::middleware
