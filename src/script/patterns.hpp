// string.find, string.match, string.gmatch and string.gsub for scripts, with Lua 5.4's patterns
// (manual, section 6.4.1) and results, but with their work charged to the call's budget
// (governor.hpp).
//
// Lua's own matcher backtracks without limit inside one C call, where no count hook can stop it:
// ("a"):rep(200):match("a*a*a*a*b") runs for minutes, and a script may well match the text of a
// message a client chose. Here every step of matching (and of a plain find) is charged, so such a
// match ends with the budget. Tests compare these functions with Lua's on the same inputs.
#pragma once

#include "script/lua.hpp"

namespace smppd::script::detail {

// Sets find, match, gmatch and gsub in the table on top of the stack. The state's allocator must
// be governor.hpp's.
void set_pattern_functions(lua_State* L);

}  // namespace smppd::script::detail
