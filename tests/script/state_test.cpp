#include "script/state.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <ctime>
#include <string>
#include <thread>
#include <vector>

using namespace smppd::script;
using namespace std::chrono_literals;

namespace {

std::string example_script() {
  const auto read = ScriptSource::read(SMPPD_SCRIPT_DATA "/design_example.lua");
  EXPECT_EQ(read.error, "");
  return read.source ? read.source->code() : "";
}

// An instant at `hour`:30 local time today (os.date("*t") reads local time).
std::chrono::system_clock::time_point local_time(int hour) {
  std::time_t now = std::time(nullptr);
  std::tm local{};
  localtime_r(&now, &local);
  local.tm_hour = hour;
  local.tm_min = 30;
  local.tm_sec = 0;
  local.tm_isdst = -1;
  return std::chrono::system_clock::from_time_t(std::mktime(&local));
}

ScriptMessage message_to(std::string_view destination) {
  ScriptMessage msg;
  msg.destination_addr = destination;
  msg.dest_addr_ton = 1;
  msg.source_addr = "ACME";
  return msg;
}

ScriptDecision run(const std::string& code, const ScriptMessage& msg = {},
                   const ScriptContext& ctx = {}) {
  ScriptState state;
  return state.route(*ScriptSource::from_string("test.lua", code), msg, ctx);
}

// The target, or what went wrong.
std::string outcome(const ScriptDecision& d) {
  if (d.target) return *d.target;
  if (d.error) return "error: " + *d.error;
  return "none";
}

}  // namespace

TEST(ScriptState, DesignExample) {
  const auto source = ScriptSource::from_string("routing.lua", example_script());
  ScriptState state;
  ScriptContext premium;
  premium.client_id = "client-a";
  premium.client_tier = "premium";
  premium.now = local_time(12);
  EXPECT_EQ(outcome(state.route(*source, message_to("+258841234567"), premium)), "mz-direct");
  // Premium, but not Mozambique: the time decides.
  EXPECT_EQ(outcome(state.route(*source, message_to("+27821234567"), premium)), "default");

  ScriptContext standard;
  standard.client_id = "client-b";
  standard.client_tier = "standard";
  standard.now = local_time(12);
  EXPECT_EQ(outcome(state.route(*source, message_to("+258841234567"), standard)), "default");
  standard.now = local_time(23);
  EXPECT_EQ(outcome(state.route(*source, message_to("+258841234567"), standard)), "night-rates");
  standard.now = local_time(3);
  EXPECT_EQ(outcome(state.route(*source, message_to("+258841234567"), standard)), "night-rates");
  EXPECT_EQ(state.compilations(), 1u);
}

TEST(ScriptState, TheMessageFields) {
  ScriptMessage msg;
  msg.source_addr = "ACME";
  msg.source_addr_ton = 5;
  msg.source_addr_npi = 0;
  msg.destination_addr = "258841234567";
  msg.dest_addr_ton = 1;
  msg.dest_addr_npi = 1;
  msg.service_type = "CMT";
  msg.data_coding = 8;
  msg.esm_class = 0x40;
  msg.registered_delivery = 1;
  msg.text = "Olá";
  msg.parts = 3;
  const auto d = run(R"(
    function route(msg, ctx)
      local out = {}
      for _, k in ipairs({"source_addr", "source_addr_ton", "source_addr_npi", "destination_addr",
                          "dest_addr_ton", "dest_addr_npi", "service_type", "data_coding",
                          "esm_class", "registered_delivery", "text", "parts"}) do
        local v = msg[k]
        out[#out + 1] = k .. "=" .. tostring(v) .. ":" .. (math.type(v) or type(v))
      end
      return table.concat(out, " ")
    end)",
                     msg);
  EXPECT_EQ(outcome(d),
            "source_addr=ACME:string source_addr_ton=5:integer source_addr_npi=0:integer "
            "destination_addr=258841234567:string dest_addr_ton=1:integer dest_addr_npi=1:integer "
            "service_type=CMT:string data_coding=8:integer esm_class=64:integer "
            "registered_delivery=1:integer text=Olá:string parts=3:integer");
}

TEST(ScriptState, NoTextIsNil) {
  EXPECT_EQ(outcome(run("function route(msg) return tostring(msg.text) .. msg.parts end")), "nil1");
}

TEST(ScriptState, TheContext) {
  const ScriptTags client_tags = {{"billing_id", "12345"}};
  const ScriptTags eu = {{"region", "eu"}, {"tier", "premium"}};
  const std::vector<ScriptUpstream> upstreams = {
      {"carrier-a", true, &eu}, {"carrier-b", false, nullptr}, {"backup", true, nullptr}};
  ScriptContext ctx;
  ctx.client_id = "client-a";
  ctx.client_tier = "premium";
  ctx.client_tags = &client_tags;
  ctx.upstreams = upstreams;
  const auto d = run(R"(
    function route(msg, ctx)
      local names = {}
      for name, u in pairs(ctx.upstreams) do
        names[#names + 1] = name .. (u.healthy and "+" or "-") .. u.name
      end
      table.sort(names)
      return table.concat({ctx.client_id, ctx.client_tier, ctx.client_tags.billing_id,
                           tostring(ctx.upstreams["carrier-a"].healthy),
                           tostring(ctx.upstreams["carrier-b"].healthy),
                           ctx.upstreams["carrier-a"].tags.region,
                           tostring(next(ctx.upstreams.backup.tags)),
                           tostring(ctx.upstreams.nowhere), tostring(ctx.mnp),
                           table.concat(names, ",")}, " ")
    end)",
                     {}, ctx);
  EXPECT_EQ(outcome(d),
            "client-a premium 12345 true false eu nil nil nil "
            "backup+backup,carrier-a+carrier-a,carrier-b-carrier-b");
}

TEST(ScriptState, EmptyContext) {
  EXPECT_EQ(outcome(run(R"(
    function route(msg, ctx)
      return "[" .. ctx.client_id .. "][" .. ctx.client_tier .. "]" .. tostring(next(ctx.client_tags))
             .. tostring(next(ctx.upstreams)) .. tostring(ctx.mnp)
    end)")),
            "[][]nilnilnil");
}

TEST(ScriptState, TheNumberPortabilityAnswer) {
  const std::string script = R"(
    function route(msg, ctx)
      return tostring(ctx.mnp.mcc) .. "/" .. tostring(ctx.mnp.mnc) .. "/" .. tostring(ctx.mnp.is_ported)
    end)";
  ScriptContext ctx;
  ctx.mnp = ScriptMnp{"643", "01", true};
  EXPECT_EQ(outcome(run(script, {}, ctx)), "643/01/true");
  ctx.mnp = ScriptMnp{"", "02", std::nullopt};
  EXPECT_EQ(outcome(run(script, {}, ctx)), "nil/02/nil");
}

TEST(ScriptState, EachCallHasFreshTables) {
  const std::vector<ScriptUpstream> upstreams = {{"a", true, nullptr}};
  ScriptContext ctx;
  ctx.upstreams = upstreams;
  const auto source = ScriptSource::from_string("test.lua", R"(
    function route(msg, ctx)
      local seen = tostring(msg.mark) .. tostring(ctx.upstreams.a.mark) .. tostring(ctx.upstreams.b)
      msg.mark = 1
      ctx.upstreams.a.mark = 2
      ctx.upstreams.b = 3
      return seen
    end)");
  ScriptState state;
  EXPECT_EQ(outcome(state.route(*source, {}, ctx)), "nilnilnil");
  EXPECT_EQ(outcome(state.route(*source, {}, ctx)), "nilnilnil");
}

TEST(ScriptState, UpstreamsAreOnlyThoseOfTheCall) {
  const auto source = ScriptSource::from_string("test.lua", R"(
    function route(msg, ctx)
      kept = kept or ctx.upstreams  -- a script that keeps the table sees the current call's
      return tostring(kept.a and kept.a.healthy) .. tostring(kept.b and kept.b.healthy)
    end)");
  ScriptState state;
  const std::vector<ScriptUpstream> first = {{"a", true, nullptr}};
  const std::vector<ScriptUpstream> second = {{"b", false, nullptr}};
  ScriptContext ctx;
  ctx.upstreams = first;
  EXPECT_EQ(outcome(state.route(*source, {}, ctx)), "truenil");
  ctx.upstreams = second;
  EXPECT_EQ(outcome(state.route(*source, {}, ctx)), "truefalse");  // "a" was made in the first
}

TEST(ScriptState, NilIsNoDecisionWithoutError) {
  for (const char* script :
       {"function route() return nil end", "function route() end", "function route() return end"}) {
    const auto d = run(script);
    EXPECT_FALSE(d.target) << script;
    EXPECT_FALSE(d.error) << script;
    EXPECT_FALSE(d.budget_exceeded) << script;
  }
}

TEST(ScriptState, WrongReturnValuesAreErrors) {
  struct Case {
    const char* returned;
    const char* error;
  };
  for (const Case& c : {
           Case{"42",
                "test.lua: route() returned a number value; it must return a route or "
                "upstream name (a string) or nil"},
           Case{"{}",
                "test.lua: route() returned a table value; it must return a route or "
                "upstream name (a string) or nil"},
           Case{"false",
                "test.lua: route() returned a boolean value; it must return a route or "
                "upstream name (a string) or nil"},
           Case{"route",
                "test.lua: route() returned a function value; it must return a route "
                "or upstream name (a string) or nil"},
           Case{"''", "test.lua: route() returned an empty string"},
           Case{"('x'):rep(1025)",
                "test.lua: route() returned a string of 1025 bytes, not a "
                "route or upstream name"},
       }) {
    const auto d = run(std::string("function route() return ") + c.returned + " end");
    EXPECT_FALSE(d.target) << c.returned;
    EXPECT_EQ(d.error.value_or(""), c.error);
    EXPECT_FALSE(d.budget_exceeded);
  }
}

TEST(ScriptState, TheFirstOfSeveralValues) {
  EXPECT_EQ(outcome(run("function route() return 'a', 'b' end")), "a");
}

TEST(ScriptState, ErrorsSayWhere) {
  EXPECT_EQ(outcome(run("function route()\n  error('no route for you')\nend")),
            "error: test.lua:2: no route for you");
  EXPECT_EQ(outcome(run("function route(msg)\n\n  return msg.nothing.deeper\nend")),
            "error: test.lua:3: attempt to index a nil value (field 'nothing')");
  EXPECT_EQ(outcome(run("function route(msg)\n  return msg.destination_addr:nope()\nend")),
            "error: test.lua:2: attempt to call a nil value (method 'nope')");
  EXPECT_EQ(outcome(run("function route()\n  return string.rep()\nend")),
            "error: test.lua:2: bad argument #1 to 'rep' (string expected, got no value)");
  EXPECT_EQ(outcome(run("function route()\n  return ('x'):find('%')\nend")),
            "error: test.lua:2: malformed pattern (ends with '%')");
  EXPECT_EQ(outcome(run("function route() error({}) end")),
            "error: test.lua: (error object is a table value)");
  EXPECT_EQ(outcome(run("function route() error(42) end")), "error: test.lua: 42");
  EXPECT_EQ(outcome(run("function route() error(1.5) end")), "error: test.lua: 1.5");
  EXPECT_EQ(outcome(run("function route() error('plain', 0) end")), "error: test.lua: plain");
}

TEST(ScriptState, LongFileNamesAreWrittenWhole) {
  const std::string name = "/etc/smppd/scripts/routing/by-country/and-by-client/premium-rules.lua";
  ASSERT_GT(name.size(), 60u);  // Lua would write ".../premium-rules.lua"
  ScriptState state;
  const auto d =
      state.route(*ScriptSource::from_string(name, "function route()\n error('x')\nend"), {}, {});
  EXPECT_EQ(d.error.value_or(""), name + ":2: x");
  const auto syntax = check_script(*ScriptSource::from_string(name, "function route(\n"));
  EXPECT_EQ(syntax.value_or(""), name + ":2: <name> or '...' expected near <eof>");
}

TEST(ScriptState, ReloadByGeneration) {
  const auto first = ScriptSource::from_string("a.lua", R"(
    calls = 0
    function route() calls = calls + 1; return "a" .. calls end)");
  ScriptState state;
  EXPECT_EQ(outcome(state.route(*first, {}, {})), "a1");
  EXPECT_EQ(outcome(state.route(*first, {}, {})), "a2");  // globals live on
  EXPECT_EQ(state.generation(), first->generation());
  EXPECT_EQ(state.compilations(), 1u);

  const auto second = ScriptSource::from_string("b.lua", R"(
    function route() calls = (calls or 100) + 1; return "b" .. calls end)");
  EXPECT_GT(second->generation(), first->generation());
  EXPECT_EQ(outcome(state.route(*second, {}, {})), "b101");  // a fresh state: no `calls`
  EXPECT_EQ(state.compilations(), 2u);

  // The same text read again is a new generation all the same.
  const auto again = ScriptSource::from_string("b.lua", second->code());
  EXPECT_EQ(outcome(state.route(*again, {}, {})), "b101");
  EXPECT_EQ(state.compilations(), 3u);
  // Going back to an older source compiles it again too.
  EXPECT_EQ(outcome(state.route(*first, {}, {})), "a1");
  EXPECT_EQ(state.compilations(), 4u);
}

TEST(ScriptState, AScriptThatDoesNotCompileFailsEveryCallWithoutRecompiling) {
  const auto broken = ScriptSource::from_string("broken.lua", "function route()\n  return (\nend");
  ScriptState state;
  for (int i = 0; i < 3; ++i) {
    const auto d = state.route(*broken, {}, {});
    EXPECT_FALSE(d.target);
    EXPECT_EQ(d.error.value_or(""), "broken.lua:3: unexpected symbol near 'end'");
    EXPECT_FALSE(d.budget_exceeded);
  }
  EXPECT_EQ(state.compilations(), 1u);
  EXPECT_EQ(state.prepare(*broken).value_or(""), "broken.lua:3: unexpected symbol near 'end'");
  EXPECT_EQ(state.memory_used(), 0u);  // its Lua state is gone

  const auto fixed = ScriptSource::from_string("broken.lua", "function route() return 'ok' end");
  EXPECT_EQ(state.prepare(*fixed), std::nullopt);
  EXPECT_EQ(outcome(state.route(*fixed, {}, {})), "ok");
  EXPECT_GT(state.memory_used(), 0u);
}

TEST(ScriptState, NoRouteFunction) {
  EXPECT_EQ(outcome(run("x = 1")), "error: test.lua: defines no function 'route'");
  EXPECT_EQ(outcome(run("route = 'carrier'")),
            "error: test.lua: defines no function 'route' (route is a string value)");
  EXPECT_EQ(outcome(run("local function route() return 'x' end")),
            "error: test.lua: defines no function 'route'");
  // A metatable on _G does not fool it (nor run while it looks).
  EXPECT_EQ(outcome(run("setmetatable(_G, {__index = function() while true do end end})")),
            "error: test.lua: defines no function 'route'");
}

TEST(ScriptState, TopLevelErrors) {
  EXPECT_EQ(outcome(run("local x = nil\nx.y = 1\nfunction route() end")),
            "error: test.lua:2: attempt to index a nil value (local 'x')");
  const auto d = run("while true do end");
  EXPECT_EQ(d.error.value_or(""),
            "test.lua: the top level of the script ran past its instruction budget (1000000)");
}

TEST(ScriptState, OsDateAndTimeFollowTheCallsInstant) {
  const auto source = ScriptSource::from_string("time.lua", R"(
    function route()
      return os.time() .. " " .. os.date("!%Y-%m-%d %H:%M:%S") .. " " .. os.date("!*t").hour
             .. " " .. os.date("!%H", 0) .. " " .. os.time({year = 2000, month = 1, day = 1, hour = 12})
    end)");
  ScriptState state;
  ScriptContext ctx;
  ctx.now = std::chrono::sys_days{std::chrono::year{2026} / 11 / 27} + 23h + 30min + 15s;
  std::tm noon{};
  noon.tm_year = 100;
  noon.tm_mday = 1;
  noon.tm_hour = 12;
  noon.tm_isdst = -1;
  const std::string y2k = std::to_string(std::mktime(&noon));
  EXPECT_EQ(outcome(state.route(*source, {}, ctx)), "1795822215 2026-11-27 23:30:15 23 00 " + y2k);

  // Without an instant, the clock.
  const auto before = std::time(nullptr);
  const auto d = state.route(*source, {}, {});
  ASSERT_TRUE(d.target);
  const long long seconds = std::stoll(*d.target);
  EXPECT_GE(seconds, before);
  EXPECT_LE(seconds, std::time(nullptr));
}

TEST(ScriptState, OutOfMemoryStartsAFreshStateForTheNextCall) {
  ScriptLimits limits;
  limits.memory_bytes = 2 << 20;
  limits.instructions = 100'000'000;
  ScriptState state(limits);
  const auto source = ScriptSource::from_string("hog.lua", R"(
    hoard = {}
    function route(msg)
      if msg.destination_addr == "hog" then
        while true do hoard[#hoard + 1] = ("x"):rep(1000) .. #hoard end
      end
      return "fine " .. #hoard
    end)");
  EXPECT_EQ(outcome(state.route(*source, {}, {})), "fine 0");
  const auto d = state.route(*source, message_to("hog"), {});
  EXPECT_FALSE(d.target);
  EXPECT_EQ(d.error.value_or(""),
            "hog.lua: not enough memory (the script's limit is 2097152 bytes)");
  EXPECT_FALSE(d.budget_exceeded);
  EXPECT_LE(state.memory_used(), limits.memory_bytes);
  EXPECT_EQ(outcome(state.route(*source, {}, {})), "fine 0");  // the hoard is gone
  EXPECT_EQ(state.compilations(), 2u);
  EXPECT_LT(state.memory_used(), 200'000u);
}

TEST(ScriptState, AStateTooSmallToStart) {
  ScriptLimits limits;
  limits.memory_bytes = 4096;
  ScriptState state(limits);
  const auto d = state.route(*ScriptSource::from_string("x.lua", "function route() end"), {}, {});
  ASSERT_TRUE(d.error);
  EXPECT_NE(d.error->find("x.lua: "), std::string::npos) << *d.error;
  EXPECT_EQ(state.memory_used(), 0u);
}

TEST(ScriptState, Moves) {
  const auto source =
      ScriptSource::from_string("m.lua", "n = 0 function route() n = n + 1 return 'n' .. n end");
  ScriptState a;
  EXPECT_EQ(outcome(a.route(*source, {}, {})), "n1");
  ScriptState b = std::move(a);
  EXPECT_EQ(outcome(b.route(*source, {}, {})), "n2");
  a = std::move(b);
  EXPECT_EQ(outcome(a.route(*source, {}, {})), "n3");
}

TEST(ScriptState, OneStatePerThreadOneSharedSource) {
  const auto source = ScriptSource::from_string("routing.lua", example_script());
  std::vector<std::thread> threads;
  std::vector<int> right(4, 0);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      ScriptState state;
      ScriptContext ctx;
      ctx.client_tier = "premium";
      for (int i = 0; i < 2000; ++i)
        right[t] += state.route(*source, message_to("+258841234567"), ctx).target == "mz-direct";
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(right, std::vector<int>(4, 2000));
}
