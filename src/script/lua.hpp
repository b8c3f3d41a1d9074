// Lua's C API as the script module uses it: lua.hpp, and small functions in place of the macros
// of lua.h that C++ warnings (old-style casts, conversions) would flag.
//
// Lua reports errors with longjmp. Every function Lua calls here (lua_CFunctions, the hook, the
// allocator) keeps only trivially destructible objects in its frame while it calls the API, and
// nothing in this module throws through Lua.
#pragma once

#include <lua.hpp>

namespace smppd::script::lua {

inline void pop(lua_State* L, int n) {
  lua_settop(L, -n - 1);
}

inline int upvalue(int i) {
  return LUA_REGISTRYINDEX - i;
}

inline void push_function(lua_State* L, lua_CFunction f) {
  lua_pushcclosure(L, f, 0);
}

inline void call(lua_State* L, int nargs, int nresults) {
  lua_callk(L, nargs, nresults, 0, nullptr);
}

inline int pcall(lua_State* L, int nargs, int nresults) {
  return lua_pcallk(L, nargs, nresults, 0, 0, nullptr);
}

inline bool is_none_or_nil(lua_State* L, int index) {
  return lua_type(L, index) <= 0;
}

inline const char* type_name(lua_State* L, int index) {
  return lua_typename(L, lua_type(L, index));
}

// Replaces the value at `index` by the one on top, which is popped.
inline void replace(lua_State* L, int index) {
  lua_copy(L, -1, index);
  pop(L, 1);
}

}  // namespace smppd::script::lua
