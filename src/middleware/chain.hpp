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
//  - transform: rules that rewrite the message (transform.hpp); it may become several parts.
//  - protocol: version_mapping (protocol.hpp).
// `auth` (binds are authenticated by the listener), `rate_limit` (a client's rate_limit is
// applied by the gateway for every face) and `metrics` (always on) have nothing to do here.
// The message is rewritten in place: routing, and the upstream, see what the chain made of it.
//
// Pure: no sockets, no logging, no clock; built once per configuration (a reload builds a new
// one), then read by every thread.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.hpp"
#include "core/string_map.hpp"
#include "middleware/protocol.hpp"
#include "middleware/rejection.hpp"
#include "middleware/transform.hpp"
#include "smpp/pdu.hpp"
#include "smpp/version.hpp"

namespace smppd::middleware {

// What the chain says of one message.
struct Verdict {
  std::optional<Rejection> rejection;
  // The logger's level for this message, when the chain has a logger (before a rejection, so
  // that refused messages are logged too).
  std::optional<config::LogLevel> log_level;
  // What transform and protocol did beyond rewriting the request: more parts, skipped rules.
  Rewrite rewrite;
};

// What the chain needs to know of where a message comes from and how it can go on.
struct MessageContext {
  smpp::Version client_version = smpp::Version::v34;  // the version its client bound with
  // The caller can send the request as several parts (upstream::Pool::submit with parts); false
  // when it keeps one PDU (store and forward): a long text then goes in message_payload.
  bool parts_allowed = true;
};

class Chain {
 public:
  explicit Chain(const config::Config& config);

  // Nothing to do for any message: the message path skips the chain.
  bool empty() const { return empty_; }
  // A transform reads or writes the text: a long message must be seen whole.
  bool about_text() const { return about_text_; }

  // A client's submit_sm, data_sm or submit_multi, rewritten in place by transform and protocol
  // (another PDU goes on untouched). On a rejection the request may be half rewritten: it is
  // answered, not sent.
  Verdict run(smpp::Pdu& request, std::string_view client,
              const MessageContext& context = {}) const;

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
  enum class Step : uint8_t { address_filter, logger, transform, protocol };
  std::optional<Rejection> filter_addresses(const smpp::Pdu& request,
                                            const ClientRules& rules) const;

  std::vector<Step> steps_;
  // One per `transform` / `protocol` entry, in the order of their steps.
  std::vector<std::unique_ptr<Transform>> transforms_;
  std::vector<std::unique_ptr<Protocol>> protocols_;
  config::LogLevel log_level_ = config::LogLevel::info;
  StringMap<ClientRules> clients_;
  std::vector<std::string> order_;
  bool empty_ = true;
  bool about_text_ = false;
};

}  // namespace smppd::middleware
