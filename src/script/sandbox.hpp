// The environment a script runs in: Lua's libraries reduced to what cannot reach outside the
// state, with the C functions whose work grows with an argument (a count, a range, a string they
// scan without allocating) charged to the call's budget (governor.hpp). What is left (upper,
// sub, format...) allocates what it makes, which is charged, or is an instruction (comparing
// or concatenating long strings): one C call is bounded by the memory limit, and many by the time
// limit.
//
// What a script has:
//  - base: assert, error, getmetatable, ipairs, next, pairs, pcall, rawequal, rawget, rawlen,
//    rawset, select, setmetatable (a metatable with __gc is refused: finalizers run with hooks
//    off, where no budget stops them), tonumber (charged for the string it reads), tostring,
//    type, _G, _VERSION, collectgarbage("count") only, and xpcall, whose handler runs once the
//    error has unwound (Lua runs it where the error is raised, which for the budget's error is
//    inside the count hook, hooks off again);
//  - string (not string.dump; patterns charged per step, patterns.hpp; string.rep refused past the
//    memory limit and charged per repetition; pack, packsize, unpack charged for their format,
//    byte for its results); the strings' metatable is protected (getmetatable("") is false);
//  - table (concat, move, unpack, sort, insert and remove charged for the elements they go over),
//    math (Lua 5.4's functions, not the 5.2 ones some builds add), utf8 (len, offset and
//    codepoint charged for what they go over);
//  - coroutine without wrap and close: in Lua 5.4.4 both reset a coroutine with
//    lua_resetthread, which does not count the C stack its __close handlers use (fixed in 5.4.5:
//    nested deeply enough, they crash the process);
//  - os.clock, os.date, os.difftime, os.time; os.date and os.time without a time give the call's
//    ScriptContext::now when it has one.
// Not there: io, debug, package, require, load, loadfile, dofile, print, warn, and the rest of os
// (execute, exit, getenv, remove, rename, setlocale, tmpname).
#pragma once

#include "script/lua.hpp"

namespace smppd::script::detail {

// A lua_CFunction that sets the sandbox up in a new state (governor.hpp's allocator). Call it
// protected: it raises on a lack of memory.
int open_sandbox(lua_State* L);

}  // namespace smppd::script::detail
