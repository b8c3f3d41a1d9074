// Which upstream a message goes to: the `routes` of the configuration and the clients' forced
// `upstream`, compiled once into an immutable Router. Pure: no I/O and no allocation per decision
// (but for routes with a script, whose runner is the caller's).
//
// The rules:
//  - a client's forced `upstream` (clients[].upstream) wins over every route;
//  - otherwise routes are tried in configuration order and the first whose conditions all hold
//    (AND) wins; a condition that is absent holds;
//  - destination_addr and source_addr are address patterns: "*", "258*", "258841234567", with a
//    leading '+' for international numbers only (router/pattern.hpp has the '+' and TON rules);
//    service_type and client (the bound system_id) compare exactly; source_addr_ton is a number;
//  - schedule holds when the local time of its IANA zone at the decision's instant lies in its
//    hours "HH:MM-HH:MM": from the start (inclusive) to the end (exclusive); a start after the
//    end crosses midnight ("22:00-06:00"); equal start and end mean the whole day;
//  - mcc, mnc and is_ported compare with the number portability answer for destination_addr
//    (MessageFacts::mnp): mcc and mnc as written ("01" is not "001"). Without an answer (none
//    was asked for, the destination is not a number) such a route does not match; the answer
//    of a lookup that fell back (no network, not ported) matches `is_ported: false` only. The
//    gateway looks the number up only when needs_mnp();
//  - a route with a `script` (Lua, routes[].script) whose conditions hold asks its script
//    (ScriptRunner): the name it returns is a route (that route's upstream and failover) or an
//    upstream (with the script route's failover); nil, an error, an overrun or a name that is
//    neither goes on with the next route. Without a runner such a route never matches.
//
// A message no route matches has no upstream: the gateway rejects it with ESME_RINVDSTADR.
#pragma once

#include <chrono>
#include <cstdint>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "config/config.hpp"
#include "core/timezone.hpp"
#include "router/prefix_table.hpp"
#include "smpp/pdu.hpp"

namespace smppd::router {

// The number portability answer for a message's destination (mnp/), when routing asked for
// one: routes match `mcc`, `mnc` and `is_ported` against it. Empty mcc/mnc: not known (the
// lookup fell back to "not ported").
struct MnpFacts {
  std::string_view mcc;
  std::string_view mnc;
  bool is_ported = false;
};

// What routing looks at in a message. Views into the caller's PDU, read during route() only.
struct MessageFacts {
  std::string_view destination_addr;
  uint8_t dest_addr_ton = 0;
  std::string_view source_addr;
  uint8_t source_addr_ton = 0;
  std::string_view service_type;
  std::string_view client;  // the system_id of the bound client; empty when there is none
  // An externally authenticated client's settings (extauth/): its `upstream` is forced as a
  // configured client's is, its tier and tags are what scripts see. Null for others.
  const config::ClientConfig* client_settings = nullptr;
  // The MNP answer for destination_addr; null when none was asked for or none came.
  const MnpFacts* mnp = nullptr;
  // The whole message, for routes with a script (its text, data_coding...); may be null.
  const smpp::Pdu* message = nullptr;
};

// The views point into the Router, valid as long as it lives.
struct Decision {
  static constexpr std::size_t kNoRoute = std::numeric_limits<std::size_t>::max();

  std::size_t route_index = kNoRoute;  // into the routes, in configuration order
  std::string_view route_name;
  std::string_view upstream;
  std::string_view failover;      // empty: none
  bool forced_by_client = false;  // the client's `upstream` decided; route_index is kNoRoute
  bool by_script = false;         // a route's script named the route or upstream

  // False: no upstream, the message is rejected (ESME_RINVDSTADR).
  bool matched() const { return forced_by_client || route_index != kNoRoute; }
};

// One route as explain() saw it.
struct RouteCheck {
  std::size_t index = 0;
  std::string_view name;
  bool matched = false;
  std::string reason;  // the condition that failed, or every condition that held
};

struct Explanation {
  Decision decision;               // the same as route() gives
  std::string forced;              // when a client's forced upstream decided: why
  std::vector<RouteCheck> checks;  // the routes tried, in order, up to the one that matched
};

// What a route's script answered.
struct ScriptAnswer {
  std::optional<std::string> target;  // a route or upstream name; none: go on
  std::string error;                  // why there is none when the script failed
};

// Runs the scripts of routes (routes[].script) for the router, which stays pure: the gateway's
// runner holds a Lua state per thread (gateway/route_scripts.hpp). Called from any thread.
class ScriptRunner {
 public:
  virtual ~ScriptRunner() = default;
  // route(msg, ctx) of the script of route `route_index`, whose conditions hold for `m`.
  virtual ScriptAnswer run(std::size_t route_index, const MessageFacts& m,
                           std::chrono::system_clock::time_point now) const = 0;
  // The script returned a name that is no route with an upstream and no upstream: the router
  // goes on with the next route; the runner counts and logs it.
  virtual void unknown_target(std::size_t route_index, std::string_view target) const = 0;
};

class Router {
 public:
  // Throws std::invalid_argument for what the configuration loader rejects (a bad pattern, an
  // unknown time zone), which a loaded configuration does not contain. Loads each time zone once.
  explicit Router(const config::Config& config);
  // `upstreams`: the names a script may return (beside routes').
  Router(std::span<const config::RouteConfig> routes,
         std::span<const config::ClientConfig> clients,
         std::span<const config::UpstreamConfig> upstreams = {});

  // `scripts`: runs the routes' scripts; null: routes with a script never match.
  Decision route(const MessageFacts& m, std::chrono::system_clock::time_point now,
                 const ScriptRunner* scripts = nullptr) const;

  // The same decision, with the reason of each route tried. For the CLI and logs, not per message.
  Explanation explain(const MessageFacts& m, std::chrono::system_clock::time_point now,
                      const ScriptRunner* scripts = nullptr) const;

  std::size_t size() const { return routes_.size(); }
  // Whether any route has a script.
  bool has_scripts() const { return has_scripts_; }
  // Some route matches mcc, mnc or is_ported: a message needs its MNP answer to be routed.
  bool needs_mnp() const { return !mnp_conditions_.empty(); }

 private:
  static constexpr uint32_t kNone = std::numeric_limits<uint32_t>::max();

  struct Schedule {
    std::shared_ptr<const TimeZone> zone;  // one per zone name, shared by its routes
    uint16_t start_minute = 0;
    uint16_t end_minute = 0;
    std::string text;  // "22:00-06:00 Africa/Maputo"
  };
  // mcc, mnc, is_ported of a route (few routes have them).
  struct MnpCondition {
    std::string mcc;        // empty: any
    std::string mnc;        // empty: any
    int8_t is_ported = -1;  // -1: either
  };
  // About 110 bytes: what most routes share (upstream names, clients, service types, schedules,
  // reasons) is kept once and named by index, kNone when absent.
  struct CompiledRoute {
    std::string name;
    std::optional<config::AddressPattern> destination;
    uint32_t upstream = kNone;      // strings_
    uint32_t failover = kNone;      // strings_
    uint32_t service_type = kNone;  // strings_
    uint32_t client = kNone;        // strings_
    uint32_t source = kNone;        // sources_
    uint32_t schedule = kNone;      // schedules_
    uint32_t script = kNone;        // strings_: the script's file
    uint32_t mnp = kNone;           // mnp_conditions_
    int16_t source_ton = -1;
    bool only_destination = false;  // no condition beside destination_addr
  };

  // The conditions other than destination_addr.
  bool rest_holds(const CompiledRoute& r, const MessageFacts& m, Address source,
                  std::chrono::sys_seconds now) const;
  // Every condition, with the reason; for explain().
  bool check(const CompiledRoute& r, const MessageFacts& m, std::chrono::sys_seconds now,
             std::string& reason) const;
  const std::string* forced_upstream(std::string_view client) const;
  Decision decision_for(std::size_t index) const;
  // The first route from index `from` on whose conditions (but its script) hold, or kNone.
  uint32_t first_holding(const MessageFacts& m, Address source, std::chrono::sys_seconds now,
                         uint32_t from) const;
  // The decision of script route `index` for the name its script returned; nullopt for a name
  // that is no route with an upstream and no upstream.
  std::optional<Decision> script_decision(std::size_t index, std::string_view target) const;
  std::string_view text(uint32_t index) const {
    return index == kNone ? std::string_view() : std::string_view(strings_[index]);
  }

  std::vector<CompiledRoute> routes_;
  std::vector<std::string> strings_;
  std::vector<config::AddressPattern> sources_;
  std::vector<Schedule> schedules_;
  std::vector<MnpCondition> mnp_conditions_;
  PrefixTable table_;
  std::vector<std::pair<std::string, std::string>> forced_;  // system_id -> upstream, sorted
  std::vector<std::string> upstream_names_;  // sorted: an external client's forced upstream
  // What a script may name: routes (by index) and upstreams (strings_ index | kUpstreamFlag).
  static constexpr uint32_t kUpstreamFlag = 0x80000000u;
  std::map<std::string, uint32_t, std::less<>> targets_;
  bool has_scripts_ = false;
};

// Local minute of the day (0-1439) of `now` in `zone`.
int local_minute(const TimeZone& zone, std::chrono::sys_seconds now);
// Whether the minute of the day lies in [start, end), crossing midnight when start > end; the
// whole day when start == end.
bool in_window(int minute, int start_minute, int end_minute);

// The conditions of a route as one line: "destination_addr=+258* client=client-a"; "(every
// message)" when it has none.
std::string describe(const config::RouteMatch& match);

}  // namespace smppd::router
