#include "script/arguments.hpp"

#include <algorithm>
#include <string_view>

#include "script/governor.hpp"

namespace smppd::script::detail {

namespace {

// Its address keys the metatable of ctx.upstreams in the registry.
const char kUpstreamsMetatable = 0;

void push_string(lua_State* L, std::string_view value) {
  lua_pushlstring(L, value.data(), value.size());
}

void set_string(lua_State* L, const char* key, std::string_view value) {
  push_string(L, value);
  lua_setfield(L, -2, key);
}

void set_integer(lua_State* L, const char* key, lua_Integer value) {
  lua_pushinteger(L, value);
  lua_setfield(L, -2, key);
}

void set_boolean(lua_State* L, const char* key, bool value) {
  lua_pushboolean(L, value ? 1 : 0);
  lua_setfield(L, -2, key);
}

void push_tags(lua_State* L, const ScriptTags* tags) {
  const auto size = tags == nullptr ? 0 : tags->size();
  lua_createtable(L, 0, static_cast<int>(std::min<std::size_t>(size, 1024)));
  if (tags == nullptr) return;
  for (const auto& [key, value] : *tags) {
    push_string(L, key);
    push_string(L, value);
    lua_rawset(L, -3);
  }
}

void push_upstream(lua_State* L, const ScriptUpstream& upstream) {
  lua_createtable(L, 0, 3);
  set_string(L, "name", upstream.name);
  set_boolean(L, "healthy", upstream.healthy);
  push_tags(L, upstream.tags);
  lua_setfield(L, -2, "tags");
}

// __index of ctx.upstreams (t, name): the upstream's entry, kept in t for the rest of the call.
int upstreams_index(lua_State* L) {
  const Governor& g = governor_of(L);
  if (g.context == nullptr || lua_type(L, 2) != LUA_TSTRING) return 0;
  std::size_t length = 0;
  const char* key = lua_tolstring(L, 2, &length);
  const std::string_view name(key, length);
  const auto& upstreams = g.context->upstreams;
  const auto found = std::find_if(upstreams.begin(), upstreams.end(),
                                  [name](const ScriptUpstream& u) { return u.name == name; });
  if (found == upstreams.end()) return 0;
  push_upstream(L, *found);
  lua_pushvalue(L, 2);
  lua_pushvalue(L, -2);
  lua_rawset(L, 1);
  return 1;
}

int upstreams_next(lua_State* L) {
  lua_settop(L, 2);
  if (lua_next(L, 1) != 0) return 2;
  lua_pushnil(L);
  return 1;
}

// __pairs of ctx.upstreams (t): every entry made, then a plain traversal.
int upstreams_pairs(lua_State* L) {
  const Governor& g = governor_of(L);
  if (g.context != nullptr) {
    for (const ScriptUpstream& upstream : g.context->upstreams) {
      push_string(L, upstream.name);
      const bool made = lua_rawget(L, 1) != LUA_TNIL;
      lua::pop(L, 1);
      if (made) continue;
      push_string(L, upstream.name);
      push_upstream(L, upstream);
      lua_rawset(L, 1);
    }
  }
  lua::push_function(L, upstreams_next);
  lua_pushvalue(L, 1);
  lua_pushnil(L);
  return 3;
}

}  // namespace

int open_arguments(lua_State* L) {
  lua_createtable(L, 0, 3);
  lua::push_function(L, upstreams_index);
  lua_setfield(L, -2, "__index");
  lua::push_function(L, upstreams_pairs);
  lua_setfield(L, -2, "__pairs");
  set_boolean(L, "__metatable", false);
  lua_rawsetp(L, LUA_REGISTRYINDEX, &kUpstreamsMetatable);
  return 0;
}

void push_message(lua_State* L, const ScriptMessage& msg) {
  lua_createtable(L, 0, 12);
  set_string(L, "source_addr", msg.source_addr);
  set_integer(L, "source_addr_ton", msg.source_addr_ton);
  set_integer(L, "source_addr_npi", msg.source_addr_npi);
  set_string(L, "destination_addr", msg.destination_addr);
  set_integer(L, "dest_addr_ton", msg.dest_addr_ton);
  set_integer(L, "dest_addr_npi", msg.dest_addr_npi);
  set_string(L, "service_type", msg.service_type);
  set_integer(L, "data_coding", msg.data_coding);
  set_integer(L, "esm_class", msg.esm_class);
  set_integer(L, "registered_delivery", msg.registered_delivery);
  if (msg.text) set_string(L, "text", *msg.text);
  set_integer(L, "parts", msg.parts);
}

void push_context(lua_State* L, const ScriptContext& ctx) {
  lua_createtable(L, 0, 5);
  set_string(L, "client_id", ctx.client_id);
  set_string(L, "client_tier", ctx.client_tier);
  push_tags(L, ctx.client_tags);
  lua_setfield(L, -2, "client_tags");
  lua_createtable(L, 0, 0);
  lua_rawgetp(L, LUA_REGISTRYINDEX, &kUpstreamsMetatable);
  lua_setmetatable(L, -2);
  lua_setfield(L, -2, "upstreams");
  if (ctx.mnp) {
    lua_createtable(L, 0, 3);
    if (!ctx.mnp->mcc.empty()) set_string(L, "mcc", ctx.mnp->mcc);
    if (!ctx.mnp->mnc.empty()) set_string(L, "mnc", ctx.mnp->mnc);
    if (ctx.mnp->is_ported) set_boolean(L, "is_ported", *ctx.mnp->is_ported);
    lua_setfield(L, -2, "mnp");
  }
}

}  // namespace smppd::script::detail
