// The Lua scripts of routes (routes[].script) as the router's ScriptRunner: each script file is
// read once per configuration (a reload reads it again: a new generation, which every worker's
// state compiles at its next call), and each worker thread calls it in a Lua state of its own
// (script/state.hpp: sandboxed, bounded in memory, instructions and time).
//
// A call gets `msg` (the message's fields, its text decoded to UTF-8 when it has text, its
// number of parts) and `ctx` (the client's system_id, tier and tags; every upstream's health and
// tags; the MNP answer when routing asked for one). Whatever goes wrong in a script (an error,
// an overrun, a name that is neither a route nor an upstream) sends the message on to the next
// route: it is counted (smppd_route_script_errors_total{route,kind}) and logged, aggregated.
//
// Threads: built once per snapshot of the configuration, then run() from any thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.hpp"
#include "core/counters.hpp"
#include "core/string_map.hpp"
#include "router/router.hpp"
#include "script/source.hpp"
#include "script/types.hpp"

namespace smppd::gateway {

// The text of a message for scripts, transforms and the gRPC events (submit_sm, submit_multi,
// data_sm, deliver_sm): short_message (without its UDH) or
// message_payload, decoded by data_coding to UTF-8 (what does not decode is replaced); nothing
// for binary data_coding.
std::optional<std::string> message_text(const smpp::Pdu& pdu);

// Whether a script file's text serves (it compiles, its top level runs, it defines route()):
// its error ("/etc/smppd/routing.lua:12: unexpected symbol near 'y'") or nothing. What
// `smppd validate`, the start and a reload give the loader (config::LoadOptions::check_script).
std::optional<std::string> check_route_script(const std::string& path, const std::string& code);

class RouteScripts final : public router::ScriptRunner {
 public:
  // Whether an upstream is healthy now (the gateway's pools); called per script call.
  using Health = std::function<bool(std::string_view upstream)>;

  // Reads the script of every route of `config` that has one (a file that cannot be read gives
  // its error on every call). `counters`: null for none (the CLI).
  RouteScripts(std::shared_ptr<const config::Config> config, Counters* counters, Health health);
  ~RouteScripts() override;

  router::ScriptAnswer run(std::size_t route_index, const router::MessageFacts& m,
                           std::chrono::system_clock::time_point now) const override;
  void unknown_target(std::size_t route_index, std::string_view target) const override;

  // Calls and failures so far (for tests and the management API).
  uint64_t calls() const { return calls_.load(std::memory_order_relaxed); }
  uint64_t failures() const { return failures_.load(std::memory_order_relaxed); }

 private:
  struct Script {
    std::string route;  // the route's name
    std::shared_ptr<const script::ScriptSource> source;  // null: read_error
    std::string read_error;
    CounterId calls, errors, overruns, unknown;
  };
  struct Client {
    std::string tier;
    const script::ScriptTags* tags = nullptr;
  };
  struct Upstream {
    std::string name;
    const script::ScriptTags* tags = nullptr;
  };
  void failed(const Script& s, CounterId id, std::string_view what) const;

  std::shared_ptr<const config::Config> config_;  // the tags point into it
  Counters* counters_;
  Health health_;
  std::vector<int32_t> by_route_;  // route index -> scripts_, -1 for none
  std::vector<Script> scripts_;
  StringMap<Client> clients_;
  std::vector<Upstream> upstreams_;
  mutable std::atomic<uint64_t> calls_{0};
  mutable std::atomic<uint64_t> failures_{0};
};

}  // namespace smppd::gateway
