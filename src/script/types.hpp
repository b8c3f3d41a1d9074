// What a routing script is given and what it answers: plain values, filled by the caller (the
// router) from the message and its client, read during one ScriptState::route() call only (the
// views and pointers need to live that long, no longer).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace smppd::script {

// The message, as the script's `msg` (the same names: msg.source_addr, msg.dest_addr_ton...).
struct ScriptMessage {
  std::string_view source_addr;
  uint8_t source_addr_ton = 0;
  uint8_t source_addr_npi = 0;
  std::string_view destination_addr;
  uint8_t dest_addr_ton = 0;
  uint8_t dest_addr_npi = 0;
  std::string_view service_type;
  uint8_t data_coding = 0;
  uint8_t esm_class = 0;
  uint8_t registered_delivery = 0;
  // The text in UTF-8 when the message's was decoded (msg.text is nil otherwise).
  std::optional<std::string_view> text;
  uint32_t parts = 1;  // msg.parts: of a long message
};

// Tags as the configuration has them (upstreams[].tags, clients[].tags).
using ScriptTags = std::map<std::string, std::string>;

// ctx.upstreams[name]: { name = ..., healthy = true|false, tags = { key = value, ... } }.
struct ScriptUpstream {
  std::string_view name;
  bool healthy = true;
  const ScriptTags* tags = nullptr;  // nullptr: no tags
};

// ctx.mnp, the number portability answer for the destination: { mcc = "643", mnc = "01",
// is_ported = true }; a field the lookup did not give is nil.
struct ScriptMnp {
  std::string_view mcc;  // empty: unknown
  std::string_view mnc;  // empty: unknown
  std::optional<bool> is_ported;
};

// The script's `ctx`. ctx.client_id, ctx.client_tier (both strings, maybe empty),
// ctx.client_tags (a table, maybe empty), ctx.upstreams (by name, see ScriptUpstream), ctx.mnp
// (nil without an answer).
struct ScriptContext {
  std::string_view client_id;
  std::string_view client_tier;
  const ScriptTags* client_tags = nullptr;  // nullptr: no tags
  std::span<const ScriptUpstream> upstreams;
  std::optional<ScriptMnp> mnp;
  // What os.time() and os.date() without a time argument give during the call, so that
  // `smppd route test --at` and tests see a script at a chosen instant; empty: the clock.
  std::optional<std::chrono::system_clock::time_point> now;
};

// What route() made of one call. Without a target the caller goes on with the next route; the
// target is whatever name the script returned (the caller checks it is a route or an upstream).
struct ScriptDecision {
  std::optional<std::string> target;
  // Why there is no decision when the script failed: its error with file:line, a wrong return
  // value, an overrun, a script that did not compile. Empty when the script returned nil.
  std::optional<std::string> error;
  // The call ran out of its instruction budget or its time (error says which).
  bool budget_exceeded = false;
};

// What bounds one state (ScriptState).
struct ScriptLimits {
  // Everything the state holds, its libraries (about 20 KiB) included. Past it allocations fail
  // and the call that made them fails with "not enough memory".
  std::size_t memory_bytes = std::size_t{16} << 20;
  // Per call: Lua instructions, plus a unit per 32 bytes allocated and per step of pattern
  // matching or element a table function goes over. The design's example script takes a few
  // dozen.
  uint64_t instructions = 1'000'000;
  // Per call, checked between instructions (every 1,000) and in long C functions: the backstop
  // for instructions that each take long (concatenating long strings). Zero: none.
  std::chrono::microseconds time{std::chrono::milliseconds(50)};
};

}  // namespace smppd::script
