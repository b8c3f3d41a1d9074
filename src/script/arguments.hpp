// The `msg` and `ctx` tables a route() call is given, made afresh for each call (a script that
// changes them changes nothing for the next message). ctx.upstreams is filled as the script
// reads it: an entry is made when it is first indexed, all of them when it is traversed with
// pairs(), so that a script that never looks at the upstreams does not pay for them.
#pragma once

#include "script/lua.hpp"
#include "script/types.hpp"

namespace smppd::script::detail {

// A lua_CFunction that registers what the tables need in a new state. Call it protected.
int open_arguments(lua_State* L);

// Push one table each. They raise on a lack of memory: call them from a protected function. The
// context must stay in the Governor (governor.hpp) for as long as the script may read
// ctx.upstreams.
void push_message(lua_State* L, const ScriptMessage& msg);
void push_context(lua_State* L, const ScriptContext& ctx);

}  // namespace smppd::script::detail
