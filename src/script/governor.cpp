#include "script/governor.hpp"

#include <cstdlib>
#include <limits>

namespace smppd::script::detail {

namespace {

int quantum(const Governor& g) {
  if (g.instruction_limit >= static_cast<uint64_t>(kHookQuantum)) return kHookQuantum;
  return g.instruction_limit == 0 ? 1 : static_cast<int>(g.instruction_limit);
}

void add(Governor& g, uint64_t units) {
  g.spent = units > std::numeric_limits<uint64_t>::max() - g.spent
                ? std::numeric_limits<uint64_t>::max()
                : g.spent + units;
}

// Sets g.overrun when the budget or the time is spent.
void check(Governor& g) {
  if (g.overrun != Overrun::none) return;
  if (g.spent > g.instruction_limit) {
    g.overrun = Overrun::instructions;
  } else if (g.time_limit.count() > 0 && std::chrono::steady_clock::now() > g.deadline) {
    g.overrun = Overrun::time;
  }
}

[[noreturn]] void raise(lua_State* L, Overrun overrun) {
  luaL_error(L, "%s", overrun_text(overrun));
  std::abort();  // luaL_error does not return
}

// Every kHookQuantum instructions of any coroutine. Once the call has overrun, each thread that
// runs again fails at its next instruction: a pcall that catches the error is left at once.
void count_hook(lua_State* L, lua_Debug*) {
  Governor& g = governor_of(L);
  const int count = lua_gethookcount(L);
  add(g, static_cast<uint64_t>(count));
  check(g);
  if (g.overrun != Overrun::none) {
    if (count != 1) lua_sethook(L, count_hook, LUA_MASKCOUNT, 1);
    raise(L, g.overrun);
  }
  // A coroutine left counting single instructions by an earlier call's overrun.
  if (count != quantum(g)) lua_sethook(L, count_hook, LUA_MASKCOUNT, quantum(g));
}

}  // namespace

void* allocate(void* ud, void* block, std::size_t old_size, std::size_t new_size) noexcept {
  Governor& g = *static_cast<Governor*>(ud);
  // Without a block, old_size is the kind of object Lua is making, not a size.
  const std::size_t old = block == nullptr ? 0 : old_size;
  if (new_size == 0) {
    std::free(block);
    g.memory_used -= old;
    return nullptr;
  }
  if (new_size > old) {
    const std::size_t growth = new_size - old;
    if (growth > g.memory_limit - g.memory_used) {
      // Lua collects garbage and tries once more before it raises "not enough memory".
      return nullptr;
    }
    add(g, growth / kBytesPerUnit);
  }
  // Lua takes a failure to shrink for granted never to happen; realloc does not fail to shrink.
  void* moved = std::realloc(block, new_size);
  if (moved != nullptr) g.memory_used = g.memory_used - old + new_size;
  return moved;
}

Governor& governor_of(lua_State* L) {
  void* ud = nullptr;
  lua_getallocf(L, &ud);
  return *static_cast<Governor*>(ud);
}

void begin_budget(lua_State* L) {
  Governor& g = governor_of(L);
  g.spent = 0;
  g.overrun = Overrun::none;
  g.deadline = std::chrono::steady_clock::now() + g.time_limit;
  lua_sethook(L, count_hook, LUA_MASKCOUNT, quantum(g));
}

void charge(lua_State* L, uint64_t units) {
  Governor& g = governor_of(L);
  add(g, units);
  check(g);
  if (g.overrun != Overrun::none) raise(L, g.overrun);
}

const char* overrun_text(Overrun overrun) {
  switch (overrun) {
    case Overrun::instructions:
      return "instruction budget exceeded";
    case Overrun::time:
      return "time limit exceeded";
    case Overrun::none:
      break;
  }
  return "";
}

}  // namespace smppd::script::detail
