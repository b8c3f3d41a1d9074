#include "script/state.hpp"

#include <chrono>
#include <cstdio>
#include <string_view>
#include <utility>

#include "script/arguments.hpp"
#include "script/governor.hpp"
#include "script/lua.hpp"
#include "script/sandbox.hpp"

namespace smppd::script {

namespace {

// A name longer than this is not a route's or an upstream's.
constexpr std::size_t kMaxTargetBytes = 1024;

constexpr std::string_view kByteOrderMark = "\xEF\xBB\xBF";

struct CallArguments {
  const ScriptMessage* msg;
  const ScriptContext* ctx;
  int route;  // registry reference
};

// route(msg, ctx), protected by the caller; leaves its one result.
int call_route(lua_State* L) {
  const auto* args = static_cast<const CallArguments*>(lua_touserdata(L, 1));
  lua_rawgeti(L, LUA_REGISTRYINDEX, args->route);
  detail::push_message(L, *args->msg);
  detail::push_context(L, *args->ctx);
  detail::begin_budget(L);  // what the script does, not the making of its arguments
  lua::call(L, 2, 1);
  return 1;
}

// The global `route` (read raw: the script may have given _G a metatable): a registry reference
// to it, or nil and its type's name.
int find_route(lua_State* L) {
  lua_rawgeti(L, LUA_REGISTRYINDEX, LUA_RIDX_GLOBALS);
  lua_pushstring(L, "route");
  const int type = lua_rawget(L, -2);
  if (type != LUA_TFUNCTION) {
    lua_pushnil(L);
    lua_pushstring(L, lua_typename(L, type));
    return 2;
  }
  lua_pushinteger(L, luaL_ref(L, LUA_REGISTRYINDEX));
  lua_pushnil(L);
  return 2;
}

std::string number_text(lua_State* L, int index) {
  if (lua_isinteger(L, index) != 0) return std::to_string(lua_tointegerx(L, index, nullptr));
  char text[64];
  std::snprintf(text, sizeof text, "%.14g", lua_tonumberx(L, index, nullptr));
  return text;
}

std::string milliseconds(std::chrono::microseconds time) {
  char text[32];
  std::snprintf(text, sizeof text, "%g ms", static_cast<double>(time.count()) / 1000);
  return text;
}

}  // namespace

struct ScriptState::Impl {
  ScriptLimits limits;
  detail::Governor governor;
  lua_State* L = nullptr;
  uint64_t generation = 0;             // of the script held, or that failed to compile
  std::optional<std::string> failure;  // why `generation` did not compile
  bool stale = false;                  // start from a fresh state before the next call
  int route = LUA_NOREF;
  std::string name;        // the script's file, as errors name it
  std::string short_name;  // the same as Lua writes it in messages: "..." and the end if long
  uint64_t compilations = 0;

  explicit Impl(ScriptLimits l) : limits(l) {}
  ~Impl() { close(); }
  Impl(const Impl&) = delete;
  Impl& operator=(const Impl&) = delete;

  void close() {
    if (L == nullptr) return;
    lua_close(L);
    L = nullptr;
  }

  // Every error starts with the file, in full: Lua's messages name it as short_name, and
  // error("...", 0) not at all.
  std::string located(std::string message) const {
    const auto starts_with = [&message](const std::string& file) {
      return message.size() > file.size() && message.compare(0, file.size(), file) == 0 &&
             message[file.size()] == ':';
    };
    if (starts_with(name)) return message;
    if (starts_with(short_name)) return message.replace(0, short_name.size(), name);
    return name + ": " + message;
  }

  // The error on top of the stack after `status`, with `what` for an overrun ("route()").
  std::string error_text(int status, std::string_view what) const {
    switch (governor.overrun) {
      case detail::Overrun::instructions:
        return name + ": " + std::string(what) + " ran past its instruction budget (" +
               std::to_string(limits.instructions) + ")";
      case detail::Overrun::time:
        return name + ": " + std::string(what) + " ran past its time limit (" +
               milliseconds(limits.time) + ")";
      case detail::Overrun::none:
        break;
    }
    if (status == LUA_ERRMEM)
      return name + ": not enough memory (the script's limit is " +
             std::to_string(limits.memory_bytes) + " bytes)";
    switch (lua_type(L, -1)) {
      case LUA_TSTRING: {
        std::size_t length = 0;
        const char* text = lua_tolstring(L, -1, &length);
        return located(std::string(text, length));
      }
      case LUA_TNUMBER:  // error(42): converted here, without allocating in the state
        return name + ": " + number_text(L, -1);
      default:
        return name + ": (error object is a " + lua::type_name(L, -1) + " value)";
    }
  }

  const std::optional<std::string>& fail(std::string text) {
    failure = std::move(text);
    close();
    return failure;
  }

  const std::optional<std::string>& compile(const ScriptSource& source) {
    close();
    ++compilations;
    generation = source.generation();
    failure.reset();
    stale = false;
    route = LUA_NOREF;
    name = source.name();
    short_name = name;
    governor = detail::Governor{};
    governor.memory_limit = limits.memory_bytes;
    governor.instruction_limit = limits.instructions;
    governor.time_limit = limits.time;

    L = lua_newstate(detail::allocate, &governor);
    if (L == nullptr)
      return fail(name + ": cannot make a Lua state within " + std::to_string(limits.memory_bytes) +
                  " bytes");
    for (lua_CFunction open : {detail::open_sandbox, detail::open_arguments}) {
      lua::push_function(L, open);
      if (const int status = lua::pcall(L, 0, 0); status != LUA_OK)
        return fail(error_text(status, "the sandbox"));
    }

    const std::string chunk = "@" + name;
    if (luaL_loadbufferx(L, "", 0, chunk.c_str(), "t") == LUA_OK) {
      lua_Debug ar;
      lua_getinfo(L, ">S", &ar);
      short_name = ar.short_src;
    } else {
      lua::pop(L, 1);
    }

    std::string_view code = source.code();
    if (code.starts_with(kByteOrderMark)) code.remove_prefix(kByteOrderMark.size());
    if (const int status = luaL_loadbufferx(L, code.data(), code.size(), chunk.c_str(), "t");
        status != LUA_OK)
      return fail(error_text(status, "the script"));
    detail::begin_budget(L);
    // An overrun caught by the script (coroutine.resume returns it) is an overrun all the same.
    if (const int status = lua::pcall(L, 0, 0);
        status != LUA_OK || governor.overrun != detail::Overrun::none)
      return fail(error_text(status, "the top level of the script"));

    lua::push_function(L, find_route);
    if (const int status = lua::pcall(L, 0, 2); status != LUA_OK)
      return fail(error_text(status, "the script"));
    if (lua_isnil(L, -2)) {
      std::string type = lua_tolstring(L, -1, nullptr);
      return fail(name + ": defines no function 'route'" +
                  (type == "nil" ? "" : " (route is a " + type + " value)"));
    }
    route = static_cast<int>(lua_tointegerx(L, -2, nullptr));
    lua_settop(L, 0);
    return failure;
  }

  ScriptDecision call(const ScriptMessage& msg, const ScriptContext& ctx) {
    ScriptDecision decision;
    CallArguments args{&msg, &ctx, route};
    governor.overrun = detail::Overrun::none;
    governor.context = &ctx;
    lua::push_function(L, call_route);
    lua_pushlightuserdata(L, &args);
    const int status = lua::pcall(L, 1, 1);
    governor.context = nullptr;
    // An overrun caught by the script (coroutine.resume returns it) is an overrun all the same.
    if (status != LUA_OK || governor.overrun != detail::Overrun::none) {
      decision.error = error_text(status, "route()");
      decision.budget_exceeded = governor.overrun != detail::Overrun::none;
      // The state may be full of what the script keeps: start afresh.
      if (status == LUA_ERRMEM) stale = true;
    } else {
      switch (lua_type(L, -1)) {
        case LUA_TNIL:
          break;
        case LUA_TSTRING: {
          std::size_t length = 0;
          const char* target = lua_tolstring(L, -1, &length);
          if (length == 0) {
            decision.error = name + ": route() returned an empty string";
          } else if (length > kMaxTargetBytes) {
            decision.error = name + ": route() returned a string of " + std::to_string(length) +
                             " bytes, not a route or upstream name";
          } else {
            decision.target.emplace(target, length);
          }
          break;
        }
        default:
          decision.error = name + ": route() returned a " + lua::type_name(L, -1) +
                           " value; it must return a route or upstream name (a string) or nil";
      }
    }
    lua_settop(L, 0);
    return decision;
  }
};

ScriptState::ScriptState(ScriptLimits limits) : impl_(std::make_unique<Impl>(limits)) {}
ScriptState::~ScriptState() = default;
ScriptState::ScriptState(ScriptState&&) noexcept = default;
ScriptState& ScriptState::operator=(ScriptState&&) noexcept = default;

ScriptDecision ScriptState::route(const ScriptSource& source, const ScriptMessage& msg,
                                  const ScriptContext& ctx) {
  if (const auto& failure = prepare(source)) return ScriptDecision{{}, failure, false};
  return impl_->call(msg, ctx);
}

std::optional<std::string> ScriptState::prepare(const ScriptSource& source) {
  Impl& s = *impl_;
  if (s.generation != source.generation() || s.stale) return s.compile(source);
  return s.failure;
}

uint64_t ScriptState::generation() const {
  return impl_->generation;
}

std::size_t ScriptState::memory_used() const {
  return impl_->governor.memory_used;
}

uint64_t ScriptState::compilations() const {
  return impl_->compilations;
}

std::optional<std::string> check_script(const ScriptSource& source, ScriptLimits limits) {
  ScriptState state(limits);
  return state.prepare(source);
}

std::optional<std::string> check_script(const std::string& path) {
  const auto read = ScriptSource::read(path);
  if (read.source == nullptr) return read.error;
  return check_script(*read.source);
}

}  // namespace smppd::script
