// What bounds a Lua state: its memory, for its whole life (an allocator that refuses to go past
// the limit), and the work of each call: a budget of instructions counted by a count hook, to
// which the C functions whose work is not made of instructions (pattern matching, string.rep,
// table.move, sorting...) and every byte allocated are charged, and a time limit checked on the
// way. Past either, every coroutine of the state keeps failing at its next instruction until the
// call is over, so that pcall cannot catch its way out.
//
// The Governor is the allocator's `ud`: lua_getallocf finds it from any thread of the state.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>

#include "script/lua.hpp"

namespace smppd::script {
struct ScriptContext;
}

namespace smppd::script::detail {

enum class Overrun : uint8_t { none, instructions, time };

struct Governor {
  // The state's memory, for its whole life.
  std::size_t memory_limit = 0;
  std::size_t memory_used = 0;

  // The call in progress (or the top level of a script being compiled).
  uint64_t instruction_limit = 0;
  uint64_t spent = 0;                                // instructions, plus the charges
  std::chrono::steady_clock::duration time_limit{};  // zero: none
  std::chrono::steady_clock::time_point deadline{};
  Overrun overrun = Overrun::none;
  const ScriptContext* context = nullptr;  // during a route() call only
};

// The count hook fires every kHookQuantum instructions (fewer when the budget is smaller).
inline constexpr int kHookQuantum = 1000;
// Memory allocated is charged one unit of the budget per kBytesPerUnit bytes: building a string of
// 1 MiB costs as much as 32,768 instructions.
inline constexpr std::size_t kBytesPerUnit = 32;

// The lua_Alloc of every state; `ud` is its Governor.
void* allocate(void* ud, void* block, std::size_t old_size, std::size_t new_size) noexcept;

Governor& governor_of(lua_State* L);

// Starts a budget on L (a state's main thread): nothing spent, the deadline from now, the count
// hook set.
void begin_budget(lua_State* L);

// Charges `units` of work done by a C function, and raises the budget's error (a Lua error) if the
// budget or the time is spent. Call it before the work, with only trivially destructible objects
// in the frame.
void charge(lua_State* L, uint64_t units);

// What the budget's error says when an overrun ended a call.
const char* overrun_text(Overrun overrun);

}  // namespace smppd::script::detail
