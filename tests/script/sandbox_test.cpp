// What a script can reach and how far it can go: every way out we could think of.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <string>

#include "script/state.hpp"

using namespace smppd::script;
using namespace std::chrono_literals;

namespace {

// Runs `body` as route()'s, in a fresh state.
ScriptDecision run_body(const std::string& body, ScriptLimits limits = {}) {
  ScriptState state(limits);
  return state.route(
      *ScriptSource::from_string("sandbox.lua", "function route(msg, ctx)\n" + body + "\nend"), {},
      {});
}

std::string outcome(const ScriptDecision& d) {
  if (d.target) return *d.target;
  if (d.error) return "error: " + *d.error;
  return "none";
}

// Runs `body` and says how long it took.
std::chrono::steady_clock::duration timed(const std::string& body, ScriptDecision& d,
                                          ScriptLimits limits = {}) {
  const auto start = std::chrono::steady_clock::now();
  d = run_body(body, limits);
  return std::chrono::steady_clock::now() - start;
}

}  // namespace

TEST(Sandbox, TheGlobalsAndLibrariesAreThese) {
  const auto d = run_body(R"(
    local function keys(t)
      local out = {}
      for k in pairs(t) do out[#out + 1] = k end
      table.sort(out)
      return table.concat(out, " ")
    end
    return table.concat({keys(_G), keys(string), keys(table), keys(os), keys(coroutine),
                         keys(math), keys(utf8)}, "\n")
  )");
  EXPECT_EQ(outcome(d),
            "_G _VERSION assert collectgarbage coroutine error getmetatable ipairs math next os "
            "pairs pcall rawequal rawget rawlen rawset route select setmetatable string table "
            "tonumber tostring type utf8 xpcall\n"
            "byte char find format gmatch gsub len lower match pack packsize rep reverse sub "
            "unpack upper\n"
            "concat insert move pack remove sort unpack\n"
            "clock date difftime time\n"
            "create isyieldable resume running status yield\n"
            "abs acos asin atan ceil cos deg exp floor fmod huge log max maxinteger min "
            "mininteger modf pi rad random randomseed sin sqrt tan tointeger type ult\n"
            "char charpattern codepoint codes len offset");
}

TEST(Sandbox, NoWayOut) {
  struct Case {
    const char* code;
    const char* error;  // after "sandbox.lua:2: "
  };
  for (const Case& c : {
           Case{"io.open('/etc/passwd')", "attempt to index a nil value (global 'io')"},
           Case{"io.write('x')", "attempt to index a nil value (global 'io')"},
           Case{"os.execute('touch /tmp/smppd-escaped')",
                "attempt to call a nil value (field 'execute')"},
           Case{"os.remove('/tmp/x')", "attempt to call a nil value (field 'remove')"},
           Case{"os.rename('/tmp/x', '/tmp/y')", "attempt to call a nil value (field 'rename')"},
           Case{"os.exit(1)", "attempt to call a nil value (field 'exit')"},
           Case{"os.getenv('HOME')", "attempt to call a nil value (field 'getenv')"},
           Case{"os.tmpname()", "attempt to call a nil value (field 'tmpname')"},
           Case{"os.setlocale('C')", "attempt to call a nil value (field 'setlocale')"},
           Case{"require('os')", "attempt to call a nil value (global 'require')"},
           Case{"package.loadlib('libc.so.6', 'system')",
                "attempt to index a nil value (global 'package')"},
           Case{"load('return 1')()", "attempt to call a nil value (global 'load')"},
           Case{"loadstring('return 1')()", "attempt to call a nil value (global 'loadstring')"},
           Case{"loadfile('/etc/passwd')", "attempt to call a nil value (global 'loadfile')"},
           Case{"dofile('/etc/passwd')", "attempt to call a nil value (global 'dofile')"},
           Case{"debug.getregistry()", "attempt to index a nil value (global 'debug')"},
           Case{"debug.sethook()", "attempt to index a nil value (global 'debug')"},
           Case{"string.dump(route)", "attempt to call a nil value (field 'dump')"},
           Case{"('').dump(route)", "attempt to call a nil value (field 'dump')"},
           Case{"print('x')", "attempt to call a nil value (global 'print')"},
           Case{"warn('@on')", "attempt to call a nil value (global 'warn')"},
           Case{"collectgarbage()",
                "collectgarbage(\"collect\") is not allowed in scripts (\"count\" is)"},
           Case{"collectgarbage('stop')",
                "collectgarbage(\"stop\") is not allowed in scripts (\"count\" is)"},
           Case{"collectgarbage('generational')",
                "collectgarbage(\"generational\") is not allowed in scripts (\"count\" is)"},
           Case{"coroutine.wrap(function() end)", "attempt to call a nil value (field 'wrap')"},
           Case{"coroutine.close(coroutine.create(type))",
                "attempt to call a nil value (field 'close')"},
           Case{"setmetatable({}, {__gc = function() while true do end end})",
                "metatables with __gc are not allowed in scripts"},
           Case{"setmetatable('', {})",
                "bad argument #1 to 'setmetatable' (table expected, got string)"},
           Case{"getmetatable('').__index = {}", "attempt to index a boolean value"},
           Case{"setmetatable(ctx.upstreams, {})", "cannot change a protected metatable"},
           Case{"local open = _ENV.io.open", "attempt to index a nil value (global 'io')"},
       }) {
    const auto d = run_body(std::string(c.code) + "\nreturn 'escaped'");
    EXPECT_FALSE(d.target) << c.code;
    EXPECT_EQ(d.error.value_or(""), std::string("sandbox.lua:2: ") + c.error) << c.code;
    EXPECT_FALSE(d.budget_exceeded) << c.code;
  }
}

TEST(Sandbox, WhatIsAllowed) {
  EXPECT_EQ(outcome(run_body(R"(
    local parts = {type(os.date("*t").hour), math.type(os.time()), type(os.clock()),
                   tostring(os.difftime(10, 4)), ("abc"):upper(), string.format("%05.1f", 3.14159),
                   tostring(math.max(1, 5)), tostring(utf8.len("Olá")), type(collectgarbage("count")),
                   tostring(getmetatable("")), select("#", table.unpack({1, 2, 3}))}
    local co = coroutine.create(function(a) local b = coroutine.yield(a + 1) return b * 2 end)
    local _, x = coroutine.resume(co, 1)
    local _, y = coroutine.resume(co, 10)
    parts[#parts + 1] = x .. "," .. y .. "," .. coroutine.status(co)
    local mt = {__index = function(_, k) return k .. "!" end}
    parts[#parts + 1] = setmetatable({}, mt).hey
    local ok, err = pcall(error, "caught")
    parts[#parts + 1] = tostring(ok) .. ":" .. err
    local handled_ok, handled = xpcall(error, function(e) return "handled " .. e end, "x")
    parts[#parts + 1] = tostring(handled_ok) .. "," .. handled
    parts[#parts + 1] = select(2, xpcall(error, function(e) error("again", 0) end, "x"))
    parts[#parts + 1] = select("#", xpcall(function(...) return ... end, type, 1, 2, 3))
    do local closed <close> = setmetatable({}, {__close = function() parts[#parts + 1] = "closed" end}) end
    return table.concat(parts, " ")
  )")),
            "number integer number 6.0 ABC 003.1 5 3 number false 3 2,20,dead hey! false:caught "
            "false,handled x again 4 closed");
}

TEST(Sandbox, BinaryChunksAreNotLoaded) {
  // The start of what luac writes; Lua would load the rest as bytecode.
  const auto error = check_script(*ScriptSource::from_string(
      "compiled.lua", std::string("\x1bLua\x54\x00\x19\x93\r\n\x1a\n\x04\x08\x08", 15)));
  EXPECT_EQ(error.value_or(""), "compiled.lua: attempt to load a binary chunk (mode is 't')");
}

TEST(Sandbox, AnEndlessLoopRunsOutOfBudget) {
  const auto source = ScriptSource::from_string("loop.lua", R"(
    function route(msg)
      if msg.destination_addr == "loop" then while true do end end
      return "fine"
    end)");
  ScriptState state;
  ScriptMessage loop;
  loop.destination_addr = "loop";
  const auto start = std::chrono::steady_clock::now();
  const auto d = state.route(*source, loop, {});
  EXPECT_LT(std::chrono::steady_clock::now() - start, 2s);
  EXPECT_FALSE(d.target);
  EXPECT_TRUE(d.budget_exceeded);
  EXPECT_EQ(d.error.value_or(""), "loop.lua: route() ran past its instruction budget (1000000)");
  // The state goes on serving.
  EXPECT_EQ(state.route(*source, {}, {}).target, "fine");
  EXPECT_EQ(state.compilations(), 1u);
  EXPECT_TRUE(state.route(*source, loop, {}).budget_exceeded);
  EXPECT_EQ(state.route(*source, {}, {}).target, "fine");
}

TEST(Sandbox, TheBudgetIsPerCallAndCountsInstructions) {
  ScriptLimits limits;
  limits.instructions = 10'000;
  const auto source = ScriptSource::from_string("count.lua", R"(
    function route(msg)
      local n = 0
      for i = 1, tonumber(msg.destination_addr) do n = n + 1 end
      return tostring(n)
    end)");
  ScriptState state(limits);
  ScriptMessage msg;
  msg.destination_addr = "1000";  // about 3,000 instructions
  for (int i = 0; i < 10; ++i) EXPECT_EQ(state.route(*source, msg, {}).target, "1000");
  msg.destination_addr = "100000";
  const auto d = state.route(*source, msg, {});
  EXPECT_TRUE(d.budget_exceeded);
  EXPECT_EQ(d.error.value_or(""), "count.lua: route() ran past its instruction budget (10000)");
}

TEST(Sandbox, PcallCannotCatchItsWayOut) {
  for (const char* body : {
           "while true do pcall(function() while true do end end) end",
           "while true do pcall(error, 'x') end",
           "while true do xpcall(function() while true do end end, function() while true do end "
           "end) end",
           "local function f() while true do pcall(f) end end f()",
           "while true do local ok = pcall(string.rep, 'x', 1e6) end",
       }) {
    ScriptDecision d;
    EXPECT_LT(timed(body, d), 3s) << body;
    EXPECT_FALSE(d.target) << body;
    EXPECT_TRUE(d.budget_exceeded) << body << ": " << d.error.value_or("");
  }
}

TEST(Sandbox, CoroutinesShareTheBudget) {
  for (const char* body : {
           // The coroutine's error is caught by resume, and the script carries on...
           "coroutine.resume(coroutine.create(function() while true do end end)) return 'after'",
           // ...or starts another, each within its own count: the budget is the call's.
           "while true do coroutine.resume(coroutine.create(function() while true do end end)) end",
           "local co = coroutine.create(function() while true do coroutine.yield() end end)\n"
           "while true do coroutine.resume(co) end",
           "local function nest(n) local co = coroutine.create(function() nest(n + 1) end)\n"
           "  coroutine.resume(co) while true do end end nest(1)",
       }) {
    ScriptDecision d;
    EXPECT_LT(timed(body, d), 3s) << body;
    EXPECT_FALSE(d.target) << body;
    EXPECT_TRUE(d.budget_exceeded) << body << ": " << d.error.value_or("");
  }
}

TEST(Sandbox, CoroutinesKeptFromAnOverrunCallRunAgainLater) {
  const auto source = ScriptSource::from_string("keep.lua", R"(
    function route(msg)
      if msg.destination_addr == "spin" then
        spinner = coroutine.create(function() while true do end end)
        coroutine.resume(spinner)
      end
      worker = worker or coroutine.create(function() while true do coroutine.yield("work") end end)
      local _, what = coroutine.resume(worker)
      return what
    end)");
  ScriptState state;
  ScriptMessage spin;
  spin.destination_addr = "spin";
  EXPECT_TRUE(state.route(*source, spin, {}).budget_exceeded);
  for (int i = 0; i < 5; ++i) EXPECT_EQ(state.route(*source, {}, {}).target, "work");
}

// Lua 5.4.4 crashes on this (a bug fixed in 5.4.5): coroutine.close is not there.
TEST(Sandbox, NestedCoroutineClosesDoNotCrash) {
  const auto d = run_body(R"(
    local coro = false
    for i = 1, 1000 do
      local previous = coro
      coro = coroutine.create(function()
        local cc <close> = setmetatable({}, {__close = function()
          if previous then assert(coroutine.close(previous)) end
        end})
        coroutine.yield()
      end)
      assert(coroutine.resume(coro))
    end
    coroutine.close(coro)
    return "survived")");
  EXPECT_EQ(outcome(d), "error: sandbox.lua:14: attempt to call a nil value (field 'close')");
}

TEST(Sandbox, DeepRecursionIsAnError) {
  for (const char* body : {
           "local function f(n) return 1 + f(n + 1) end return f(1)",
           "local function f(s) return s:gsub('.', f) end return f('x')",
           "local t = setmetatable({}, {}) getmetatable(t).__index = function(t, k) return t[k] "
           "end "
           "return t.x",
           "local s = {} for i = 1, 300 do s[#s + 1] = '(' end return ('x'):find(table.concat(s))",
       }) {
    ScriptLimits limits;
    limits.instructions = 100'000'000;
    limits.time = 10s;
    const auto d = run_body(body, limits);
    EXPECT_FALSE(d.target) << body << ": " << outcome(d);
    EXPECT_TRUE(d.error) << body;
  }
  // Caught, the overflow is a value like any error.
  EXPECT_EQ(outcome(run_body("local function f() return select(2, pcall(f)) end return f()")),
            "C stack overflow");
}

TEST(Sandbox, MemoryIsBounded) {
  ScriptLimits limits;
  limits.memory_bytes = 4 << 20;
  limits.instructions = 1'000'000'000;
  limits.time = 10s;
  for (const char* body : {
           "local t = {} for i = 1, 1e9 do t[i] = i end",
           "local t = {} for i = 1, 1e9 do t[#t + 1] = {i} end",
           "local s = 'x' while true do s = s .. s end",
           "local t = {} for i = 1, 1e9 do t['k' .. i] = true end",
           "local t = {} while true do t[#t + 1] = coroutine.create(type) end",
           "return table.concat({('x'):rep(3e6), ('y'):rep(3e6)})",
       }) {
    ScriptState state(limits);
    const auto source = ScriptSource::from_string(
        "sandbox.lua", std::string("function route()\n") + body + "\nend");
    const auto d = state.route(*source, {}, {});
    EXPECT_FALSE(d.target) << body;
    EXPECT_FALSE(d.budget_exceeded) << body;
    EXPECT_EQ(d.error.value_or(""),
              "sandbox.lua: not enough memory (the script's limit is 4194304 bytes)")
        << body;
    EXPECT_LE(state.memory_used(), limits.memory_bytes);
  }
}

TEST(Sandbox, StringRepIsBounded) {
  ScriptDecision d;
  // Beyond the memory limit: refused before anything is allocated.
  EXPECT_LT(timed("return ('x'):rep(1e12)", d), 1s);
  EXPECT_EQ(d.error.value_or(""),
            "sandbox.lua:2: string.rep: the result would be larger than the memory limit "
            "(16777216 bytes)");
  EXPECT_EQ(outcome(run_body("return ('ab'):rep(3, '-')")), "ab-ab-ab");
  // Nothing repeated a thousand billion times allocates nothing and would loop all the same.
  EXPECT_LT(timed("return ('x'):rep(1e15, '') .. ('' ):rep(1e15)", d), 1s);
  EXPECT_EQ(d.error.value_or("").substr(0, 14), "sandbox.lua:2:");
  EXPECT_LT(timed("return ('' ):rep(1e15)", d), 1s);
  EXPECT_TRUE(d.budget_exceeded);
  // What fits in the limit, at a price.
  EXPECT_EQ(outcome(run_body("return tostring(#('x'):rep(1e6))")), "1000000");
}

TEST(Sandbox, TableFunctionsPayForWhatTheyGoOver) {
  for (const char* body : {
           "table.move({}, 1, 1e15, 1)",
           "table.move({}, math.mininteger, math.maxinteger, 1)",
           "return table.concat({}, '', 1, 1e15)",
           "return table.concat(setmetatable({}, {__len = function() return 1e15 end}))",
           "table.insert(setmetatable({}, {__len = function() return 1e15 end}), 1, 'x')",
           "table.remove(setmetatable({}, {__len = function() return 1e15 end}), 1)",
           "table.unpack({}, 1, 1e15)",
           "table.sort(setmetatable({}, {__len = function() return 1e15 end}))",
       }) {
    ScriptDecision d;
    EXPECT_LT(timed(body, d), 1s) << body;
    EXPECT_TRUE(d.budget_exceeded) << body << ": " << outcome(d);
  }
  // Ordinary use costs little: appending and removing from the end are free of charge.
  EXPECT_EQ(outcome(run_body(R"(
    local t = {}
    for i = 1, 2000 do table.insert(t, i) end
    for i = 1, 1000 do table.remove(t) end
    table.insert(t, 1, 0)
    table.sort(t, function(a, b) return a > b end)
    return #t .. " " .. t[1] .. " " .. table.concat(t, ",", 1000) .. " " ..
           select("#", table.unpack(t, 1, 100)) .. " " .. #table.move(t, 1, 3, 1, {}))")),
            "1001 1000 1,0 100 3");
}

TEST(Sandbox, StringFunctionsThatScanWithoutAllocatingPay) {
  // Each call goes over megabytes in a few instructions: the hook alone would let a loop of them
  // run for seconds between two looks at the clock.
  for (const char* body : {
           "local f = ('i1'):rep(4e6) for i = 1, 1e9 do string.packsize(f) end",
           "local s = ('x'):rep(4e6) for i = 1, 1e9 do utf8.len(s) end",
           "local s = ('x'):rep(4e6) for i = 1, 1e9 do utf8.offset(s, -1) end",
           "local s = (' '):rep(4e6) .. '1' for i = 1, 1e9 do tonumber(s) end",
           "local s = ('x'):rep(1e5) for i = 1, 1e9 do s:byte(1, -1) end",
           "local s = ('x'):rep(1e5) for i = 1, 1e9 do utf8.codepoint(s, 1, -1) end",
           "local f = ('%c'):rep(1e5) for i = 1, 1e9 do os.date(f) end",
       }) {
    ScriptLimits limits;
    limits.time = std::chrono::hours(1);  // the budget, not the clock, must stop them
    ScriptDecision d;
    EXPECT_LT(timed(body, d, limits), 5s) << body;
    EXPECT_EQ(d.error.value_or(""),
              "sandbox.lua: route() ran past its instruction budget (1000000)")
        << body;
  }
  EXPECT_EQ(outcome(run_body("return select('#', ('abc'):byte(1, -1)) .. utf8.len('Olá') .. "
                             "tonumber(' 12 ') .. string.packsize('i4i8')")),
            "331212");
}

TEST(Sandbox, PatternsThatBacktrackRunOutOfBudget) {
  // Lua's own matcher would take minutes over this, inside one C call.
  for (const char* body : {
           "return (('a'):rep(200)):match('a*a*a*a*a*a*b')",
           "return (('a'):rep(200)):find('.-.-.-.-.-.-b')",
           "return (('a'):rep(5000)):gsub('(a*)*b', 'x')",
           "for w in (('a'):rep(300)):gmatch('a*a*a*a*b') do end",
           "return (('ab'):rep(100000)):find(('ab'):rep(1000) .. 'c', 1, true)",
           "return (('a'):rep(100000)):match('(.*)%1%1x')",
       }) {
    ScriptDecision d;
    EXPECT_LT(timed(body, d), 2s) << body;
    EXPECT_TRUE(d.budget_exceeded) << body << ": " << outcome(d);
  }
}

TEST(Sandbox, AClientsTextCannotStallTheScript) {
  const auto source = ScriptSource::from_string("text.lua", R"(
    function route(msg)
      if msg.text and msg.text:match("^(.-)%s*(.-)%s*(.-)%s*(.-)STOP$") then return "optout" end
      return "default"
    end)");
  ScriptState state;
  ScriptMessage msg;
  msg.text = "Hello, world STOP";
  EXPECT_EQ(state.route(*source, msg, {}).target, "optout");
  const std::string evil(160, ' ');
  msg.text = evil;
  const auto start = std::chrono::steady_clock::now();
  const auto d = state.route(*source, msg, {});
  EXPECT_LT(std::chrono::steady_clock::now() - start, 2s);
  EXPECT_TRUE(d.budget_exceeded);
  msg.text = "Hi";
  EXPECT_EQ(state.route(*source, msg, {}).target, "default");
}

TEST(Sandbox, TheTimeLimitStopsWhatInstructionsDoNotMeasure) {
  ScriptLimits limits;
  limits.instructions = 1'000'000'000'000;  // out of the way
  limits.time = 50ms;
  ScriptDecision d;
  // Few instructions, each copying megabytes.
  EXPECT_LT(timed("local s = ('x'):rep(2e6) for i = 1, 1e6 do local t = s .. i end", d, limits),
            2s);
  EXPECT_TRUE(d.budget_exceeded);
  EXPECT_EQ(d.error.value_or(""), "sandbox.lua: route() ran past its time limit (50 ms)");
  // Comparing long strings allocates nothing.
  EXPECT_LT(timed("local a, b = ('x'):rep(2e6) .. 'a', ('x'):rep(2e6) .. 'b' "
                  "for i = 1, 1e7 do local same = a == b end",
                  d, limits),
            2s);
  EXPECT_TRUE(d.budget_exceeded);
}

TEST(Sandbox, GlobalsCannotReachTheHost) {
  // A script may change its own environment; only its own state sees it.
  const auto source = ScriptSource::from_string("env.lua", R"(
    string.upper = function() return "mine" end
    _G.os = nil
    function route() return ("x"):upper() .. tostring(os) end)");
  ScriptState one;
  EXPECT_EQ(one.route(*source, {}, {}).target, "minenil");
  ScriptState two;
  const auto other = ScriptSource::from_string("other.lua", R"(
    function route() return ("x"):upper() .. type(os) end)");
  EXPECT_EQ(two.route(*other, {}, {}).target, "Xtable");
}
