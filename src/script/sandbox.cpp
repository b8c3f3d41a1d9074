#include "script/sandbox.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <span>
#include <string_view>

#include "script/governor.hpp"
#include "script/patterns.hpp"
#include "script/types.hpp"

namespace smppd::script::detail {

namespace {

using namespace std::string_view_literals;

constexpr std::string_view kGlobals[] = {
    "assert"sv, "collectgarbage"sv, "error"sv,     "getmetatable"sv, "ipairs"sv, "next"sv,
    "pairs"sv,  "pcall"sv,          "rawequal"sv,  "rawget"sv,       "rawlen"sv, "rawset"sv,
    "select"sv, "setmetatable"sv,   "tonumber"sv,  "tostring"sv,     "type"sv,   "xpcall"sv,
    "_G"sv,     "_VERSION"sv,       "coroutine"sv, "math"sv,         "os"sv,     "string"sv,
    "table"sv,  "utf8"sv,
};
constexpr std::string_view kString[] = {
    "byte"sv,  "char"sv, "find"sv,     "format"sv, "gmatch"sv,  "gsub"sv, "len"sv,    "lower"sv,
    "match"sv, "pack"sv, "packsize"sv, "rep"sv,    "reverse"sv, "sub"sv,  "unpack"sv, "upper"sv,
};
constexpr std::string_view kTable[] = {
    "concat"sv, "insert"sv, "move"sv, "pack"sv, "remove"sv, "sort"sv, "unpack"sv,
};
constexpr std::string_view kCoroutine[] = {
    "create"sv, "isyieldable"sv, "resume"sv, "running"sv, "status"sv, "yield"sv,
};
constexpr std::string_view kMath[] = {
    "abs"sv, "acos"sv,       "asin"sv, "atan"sv,      "ceil"sv, "cos"sv,    "deg"sv,
    "exp"sv, "floor"sv,      "fmod"sv, "huge"sv,      "log"sv,  "max"sv,    "maxinteger"sv,
    "min"sv, "mininteger"sv, "modf"sv, "pi"sv,        "rad"sv,  "random"sv, "randomseed"sv,
    "sin"sv, "sqrt"sv,       "tan"sv,  "tointeger"sv, "type"sv, "ult"sv,
};
constexpr std::string_view kOs[] = {"clock"sv, "date"sv, "difftime"sv, "time"sv};

// Keeps in the table at `index` only the fields named.
void keep_only(lua_State* L, int index, std::span<const std::string_view> names) {
  index = lua_absindex(L, index);
  lua_pushnil(L);
  while (lua_next(L, index) != 0) {
    lua::pop(L, 1);  // the value; the key stays for lua_next
    bool keep = false;
    if (lua_type(L, -1) == LUA_TSTRING) {
      std::size_t length = 0;
      const char* key = lua_tolstring(L, -1, &length);
      keep = std::find(names.begin(), names.end(), std::string_view(key, length)) != names.end();
    }
    if (!keep) {  // clearing a field while traversing is allowed
      lua_pushvalue(L, -1);
      lua_pushnil(L);
      lua_rawset(L, index);
    }
  }
}

// Runs the library function a wrapper stands for (its upvalue 1) in the wrapper's own frame, so
// that its errors name the script's line and the function as the script called it.
int call_original(lua_State* L) {
  return lua_tocfunction(L, lua::upvalue(1))(L);
}

// Replaces field `name` of the table on top by `wrapper`, with the original as its upvalue.
void wrap(lua_State* L, const char* name, lua_CFunction wrapper) {
  lua_getfield(L, -1, name);
  lua_pushcclosure(L, wrapper, 1);
  lua_setfield(L, -2, name);
}

// How many elements first..last are.
uint64_t count_of(lua_Integer first, lua_Integer last) {
  if (last < first) return 0;
  const uint64_t n = static_cast<uint64_t>(last) - static_cast<uint64_t>(first);
  return n == std::numeric_limits<uint64_t>::max() ? n : n + 1;
}

int checked_setmetatable(lua_State* L) {
  if (lua_type(L, 2) == LUA_TTABLE) {
    lua_pushstring(L, "__gc");
    const bool finalizer = lua_rawget(L, 2) != LUA_TNIL;
    lua::pop(L, 1);
    if (finalizer) return luaL_error(L, "metatables with __gc are not allowed in scripts");
  }
  return call_original(L);
}

// After f's error, xpcall's handler runs protected, from xpcall.
int finish_xpcall(lua_State* L, int status, lua_KContext extra) {
  if (status == LUA_OK || status == LUA_YIELD) return lua_gettop(L) - static_cast<int>(extra);
  lua_pushvalue(L, 2);   // the handler
  lua_rotate(L, -2, 1);  // under the error
  lua::pcall(L, 1, 1);   // what it returns, or its own error
  lua_pushboolean(L, 0);
  lua_rotate(L, -2, 1);
  return 2;
}

// xpcall(f, msgh, ...) as pcall(f, ...) whose error goes through msgh once f is unwound. Lua runs
// the handler where the error was raised, and an error raised by the count hook is raised inside
// the hook, where hooks are off: a handler that loops would never be stopped. Without the debug
// library a handler cannot look at the stack it was raised in, so nothing else differs.
int unwound_xpcall(lua_State* L) {
  const int n = lua_gettop(L);
  luaL_checktype(L, 2, LUA_TFUNCTION);
  lua_pushboolean(L, 1);  // the first result
  lua_pushvalue(L, 1);    // f
  lua_rotate(L, 3, 2);    // both under f's arguments
  const int status = lua_pcallk(L, n - 2, LUA_MULTRET, 0, 2, finish_xpcall);
  return finish_xpcall(L, status, 2);
}

int count_garbage(lua_State* L) {
  const char* option = luaL_optlstring(L, 1, "collect", nullptr);
  if (std::strcmp(option, "count") != 0)
    return luaL_error(L, "collectgarbage(\"%s\") is not allowed in scripts (\"count\" is)", option);
  const int kib = lua_gc(L, LUA_GCCOUNT);
  const int bytes = lua_gc(L, LUA_GCCOUNTB);
  lua_pushnumber(L, static_cast<lua_Number>(kib) + static_cast<lua_Number>(bytes) / 1024);
  return 1;
}

// string.rep(s, n, sep): refused beyond the memory limit; the repetitions charged, since
// string.rep("", 1e15) allocates nothing and loops all the same.
constexpr uint64_t kRepetitionsPerUnit = 16;
int bounded_rep(lua_State* L) {
  std::size_t length = 0;
  std::size_t separator = 0;
  luaL_checklstring(L, 1, &length);
  const lua_Integer n = luaL_checkinteger(L, 2);
  luaL_optlstring(L, 3, "", &separator);
  if (n > 0) {
    const Governor& g = governor_of(L);
    const auto count = static_cast<uint64_t>(n);
    const uint64_t unit = length + separator;
    if (unit != 0 && count > g.memory_limit / unit)
      return luaL_error(L,
                        "string.rep: the result would be larger than the memory limit (%I bytes)",
                        static_cast<lua_Integer>(g.memory_limit));
    charge(L, count / kRepetitionsPerUnit);  // the bytes are charged as they are allocated
  }
  return call_original(L);
}

// table.move(a1, f, e, t [, a2]): moving nils into a table allocates nothing.
int charged_move(lua_State* L) {
  charge(L, count_of(luaL_checkinteger(L, 2), luaL_checkinteger(L, 3)));
  return call_original(L);
}

// A table function whose range is the arguments at `from` and `from` + 1 ([i [, j]], by default
// 1 and the list's length): the range is made explicit, so the length (__len) is taken once, and
// charged. What is not a table goes to the original, which refuses it.
int charged_range(lua_State* L, int from) {
  if (lua_type(L, 1) != LUA_TTABLE) return call_original(L);
  const lua_Integer first = luaL_optinteger(L, from, 1);
  const lua_Integer last =
      lua::is_none_or_nil(L, from + 1) ? luaL_len(L, 1) : luaL_checkinteger(L, from + 1);
  charge(L, count_of(first, last));
  lua_settop(L, from + 1);
  lua_pushinteger(L, first);
  lua::replace(L, from);
  lua_pushinteger(L, last);
  lua::replace(L, from + 1);
  return call_original(L);
}

// table.concat(list [, sep [, i [, j]]]).
int charged_concat(lua_State* L) { return charged_range(L, 3); }

// table.unpack(list [, i [, j]]).
int charged_unpack(lua_State* L) { return charged_range(L, 2); }

// table.sort(list [, comp]): n log n comparisons (a Lua comparator is counted by the hook too).
// The original takes the length again: a __len with side effects sees two calls.
int charged_sort(lua_State* L) {
  if (lua_type(L, 1) == LUA_TTABLE) {
    const lua_Integer n = luaL_len(L, 1);
    if (n > 1) {
      const double comparisons = static_cast<double>(n) * std::log2(static_cast<double>(n));
      charge(L, comparisons >= 1.8e19 ? std::numeric_limits<uint64_t>::max()
                                      : static_cast<uint64_t>(comparisons));
    }
  }
  return call_original(L);
}

// table.insert(list, pos, value) moves the elements pos..#list up; appending moves none.
int charged_insert(lua_State* L) {
  if (lua_type(L, 1) == LUA_TTABLE && lua_gettop(L) == 3)
    charge(L, count_of(luaL_checkinteger(L, 2), luaL_len(L, 1)));
  return call_original(L);
}

// table.remove(list [, pos]) moves the elements after pos down.
int charged_remove(lua_State* L) {
  if (lua_type(L, 1) == LUA_TTABLE) {
    const lua_Integer size = luaL_len(L, 1);
    charge(L, count_of(luaL_optinteger(L, 2, size), size));
  }
  return call_original(L);
}

// What goes over its first argument, a string, without allocating as much (string.pack,
// packsize and unpack read their format; utf8.len and offset, tonumber scan the string): one unit
// per kBytesPerUnit bytes, as if it were allocated.
int charged_by_length(lua_State* L) {
  if (lua_type(L, 1) == LUA_TSTRING) charge(L, lua_rawlen(L, 1) / kBytesPerUnit);
  return call_original(L);
}

// What pushes a result per element (string.byte, utf8.codepoint over a range): one unit each,
// once pushed.
int charged_by_results(lua_State* L) {
  const int results = call_original(L);
  charge(L, static_cast<uint64_t>(results));
  return results;
}

// The instant the call chose (ScriptContext::now), in seconds since the epoch.
bool chosen_now(lua_State* L, lua_Integer& seconds) {
  const Governor& g = governor_of(L);
  if (g.context == nullptr || !g.context->now) return false;
  seconds = std::chrono::floor<std::chrono::seconds>(g.context->now->time_since_epoch()).count();
  return true;
}

// os.time([table])
int os_time(lua_State* L) {
  lua_Integer seconds = 0;
  if (lua::is_none_or_nil(L, 1) && chosen_now(L, seconds)) {
    lua_pushinteger(L, seconds);
    return 1;
  }
  return call_original(L);
}

// os.date([format [, time]])
int os_date(lua_State* L) {
  if (lua_type(L, 1) == LUA_TSTRING) charge(L, lua_rawlen(L, 1));  // a strftime per conversion
  lua_Integer seconds = 0;
  if (lua::is_none_or_nil(L, 2) && chosen_now(L, seconds)) {
    lua_settop(L, 1);  // the format, or nil for "%c"
    lua_pushinteger(L, seconds);
  }
  return call_original(L);
}

// Opens a library as a global, leaves it on the stack.
void open(lua_State* L, const char* name, lua_CFunction opener) {
  luaL_requiref(L, name, opener, 1);
}

}  // namespace

int open_sandbox(lua_State* L) {
  open(L, LUA_GNAME, luaopen_base);
  wrap(L, "setmetatable", checked_setmetatable);
  wrap(L, "tonumber", charged_by_length);
  lua::push_function(L, count_garbage);
  lua_setfield(L, -2, "collectgarbage");
  lua::push_function(L, unwound_xpcall);
  lua_setfield(L, -2, "xpcall");
  lua::pop(L, 1);

  open(L, LUA_STRLIBNAME, luaopen_string);
  keep_only(L, -1, kString);
  set_pattern_functions(L);
  wrap(L, "rep", bounded_rep);
  for (const char* name : {"pack", "packsize", "unpack"}) wrap(L, name, charged_by_length);
  wrap(L, "byte", charged_by_results);
  lua::pop(L, 1);

  open(L, LUA_TABLIBNAME, luaopen_table);
  keep_only(L, -1, kTable);
  wrap(L, "move", charged_move);
  wrap(L, "concat", charged_concat);
  wrap(L, "unpack", charged_unpack);
  wrap(L, "sort", charged_sort);
  wrap(L, "insert", charged_insert);
  wrap(L, "remove", charged_remove);
  lua::pop(L, 1);

  open(L, LUA_MATHLIBNAME, luaopen_math);
  keep_only(L, -1, kMath);  // Debian's build adds Lua 5.2's (atan2, pow...): the same everywhere
  lua::pop(L, 1);
  open(L, LUA_UTF8LIBNAME, luaopen_utf8);
  wrap(L, "len", charged_by_length);
  wrap(L, "offset", charged_by_length);
  wrap(L, "codepoint", charged_by_results);
  lua::pop(L, 1);

  open(L, LUA_COLIBNAME, luaopen_coroutine);
  keep_only(L, -1, kCoroutine);
  lua::pop(L, 1);

  open(L, LUA_OSLIBNAME, luaopen_os);
  keep_only(L, -1, kOs);
  wrap(L, "time", os_time);
  wrap(L, "date", os_date);
  lua::pop(L, 1);

  // The strings' metatable (its __index is the string table) cannot be read or replaced.
  lua_pushstring(L, "");
  lua_getmetatable(L, -1);
  lua_pushboolean(L, 0);
  lua_setfield(L, -2, "__metatable");
  lua::pop(L, 2);

  // Last, the globals: print, warn, load, dofile... go.
  lua_rawgeti(L, LUA_REGISTRYINDEX, LUA_RIDX_GLOBALS);
  keep_only(L, -1, kGlobals);
  lua::pop(L, 1);
  return 0;
}

}  // namespace smppd::script::detail
