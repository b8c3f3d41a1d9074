// Which client a mobile-originated message (deliver_sm from an upstream, not a receipt) goes to:
// the `mo_routes` of the configuration, compiled once like the routes (router.hpp).
//
// mo_routes are tried in configuration order and the first whose conditions all hold wins:
// destination_addr (often a short code) and source_addr are address patterns with the same '+'
// and TON rules as routes (pattern.hpp); upstream is the name of the upstream the message came
// from, compared exactly. No match: no client (the gateway decides what to answer the SMSC).
#pragma once

#include <cstdint>
#include <limits>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.hpp"
#include "router/prefix_table.hpp"

namespace smppd::router {

struct MoFacts {
  std::string_view destination_addr;
  uint8_t dest_addr_ton = 0;
  std::string_view source_addr;
  uint8_t source_addr_ton = 0;
  std::string_view upstream;  // the upstream the deliver_sm arrived from
};

// The views point into the MoRouter, valid as long as it lives.
struct MoDecision {
  static constexpr std::size_t kNoRoute = std::numeric_limits<std::size_t>::max();

  std::size_t route_index = kNoRoute;
  std::string_view route_name;
  std::string_view client;  // a client system_id

  bool matched() const { return route_index != kNoRoute; }
};

class MoRouter {
 public:
  // Throws std::invalid_argument for a pattern the configuration loader rejects.
  explicit MoRouter(const config::Config& config);
  explicit MoRouter(std::span<const config::MoRouteConfig> routes);

  MoDecision route(const MoFacts& m) const;

  std::size_t size() const { return routes_.size(); }

 private:
  struct CompiledRoute {
    std::string name;
    std::string client;
    std::optional<config::AddressPattern> source;
    std::optional<std::string> upstream;
  };

  std::vector<CompiledRoute> routes_;
  PrefixTable table_;
};

}  // namespace smppd::router
