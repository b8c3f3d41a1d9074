// Routing scripts (Lua 5.4): a script defines `route(msg, ctx)`, which returns the name of a
// route or an upstream, or nil for "go on with the next route" (types.hpp has what msg and ctx
// hold). It runs in a sandbox (sandbox.hpp) within limits of memory, instructions and time
// (types.hpp, ScriptLimits); whatever goes wrong is a ScriptDecision without a target and with
// the error's text, never an exception or a crash: the caller falls back to the next route,
// counts the error and logs it (rate-limited).
//
// Threads: a ScriptState is one Lua state, used by one thread at a time; a worker owns one per
// script it runs (a state holds one compiled script). ScriptSources are shared by all.
//
//   auto read = ScriptSource::read(route.script);       // at (re)load: bytes + a generation
//   if (auto error = check_script(*read.source)) ...    // `smppd validate`, reload
//   // on a worker, per message:
//   ScriptDecision d = state.route(*source, msg, ctx);  // compiles when the generation changes
//
// No I/O and no logging: the file is read by ScriptSource::read, and errors are values.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "script/source.hpp"
#include "script/types.hpp"

namespace smppd::script {

class ScriptState {
 public:
  explicit ScriptState(ScriptLimits limits = {});
  ~ScriptState();
  ScriptState(ScriptState&&) noexcept;
  ScriptState& operator=(ScriptState&&) noexcept;
  ScriptState(const ScriptState&) = delete;
  ScriptState& operator=(const ScriptState&) = delete;

  // Calls route(msg, ctx) of `source`. When this state holds another generation (or none), it
  // first compiles `source` in a fresh Lua state: its top level runs once, and its globals live
  // on from call to call until the next generation. A script that does not compile gives its
  // error on every call, without compiling again. After a call that ran out of memory, the next
  // one starts from a fresh state.
  ScriptDecision route(const ScriptSource& source, const ScriptMessage& msg,
                       const ScriptContext& ctx);

  // Compiles `source` now unless it is the generation held (a reload may warm states up);
  // the error route() would give, or nothing.
  std::optional<std::string> prepare(const ScriptSource& source);

  uint64_t generation() const;      // of the script held, or 0
  std::size_t memory_used() const;  // by the Lua state, in bytes
  uint64_t compilations() const;    // how many times a script was compiled here

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Whether a script can serve: it compiles, its top level runs within `limits` and it defines a
// function `route`. The error says where, with the file as named: "routing.lua:12: unexpected
// symbol near 'x'", "routing.lua:3: attempt to call a nil value (global 'print')",
// "routing.lua: defines no function 'route'". The path form reads the file first
// ("routing.lua: cannot be opened: No such file or directory"). Any file may be given: a binary
// chunk is refused, not loaded.
std::optional<std::string> check_script(const ScriptSource& source, ScriptLimits limits = {});
std::optional<std::string> check_script(const std::string& path);

}  // namespace smppd::script
