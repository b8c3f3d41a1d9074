// Routes with a Lua script (routes[].script): the router asks the gateway's RouteScripts, which
// runs the real interpreter (script/) on files written here.
#include "gateway/route_scripts.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <thread>

#include "config/loader.hpp"
#include "core/counters.hpp"
#include "router/router.hpp"
#include "smpp/pdu.hpp"
#include "smpp/text.hpp"

using namespace smppd;
using namespace std::chrono;

namespace {

class RouteScriptsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char name[] = "/tmp/smppd-route-scripts-XXXXXX";
    ASSERT_NE(::mkdtemp(name), nullptr);
    dir_ = name;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string write(const std::string& file, const std::string& code) {
    const std::string path = dir_ + "/" + file;
    std::ofstream(path) << code;
    return path;
  }

  // A configuration whose route 'lua' (first) runs `script`; the routes after it: mz-direct
  // (999*, upstream a, failover backup) and default (upstream c).
  std::shared_ptr<const config::Config> load(const std::string& script,
                                             const std::string& extra_routes = "") {
    const std::string path = write("routing.lua", script);
    const std::string yaml = R"(listeners:
  - {type: smpp, address: ":2775"}
upstreams:
  - {name: a, type: simulator, tags: {cost_per_sms: "0.010", region: mz}}
  - {name: b, type: simulator}
  - {name: c, type: simulator}
  - {name: backup, type: simulator}
clients:
  - {system_id: gold, password: p, tier: premium, tags: {team: ops}}
  - {system_id: plain, password: p}
routes:
  - {name: lua, match: {destination_addr: "*"}, script: )" + path + R"(, failover: backup}
)" + extra_routes + R"(  - {name: mz-direct, match: {destination_addr: "999*"}, upstream: a, failover: backup}
  - {name: default, match: {destination_addr: "*"}, upstream: c}
)";
    auto r = config::load_config_string(yaml, "test.yaml", config::process_env, {},
                                        gateway::check_route_script);
    std::string errors;
    for (const auto& e : r.errors) errors += e.to_string() + "\n";
    EXPECT_TRUE(r.ok()) << errors;
    return r.config ? r.config : std::make_shared<config::Config>();
  }

  std::string dir_;
};

router::MessageFacts facts(std::string_view to, std::string_view client,
                           const smpp::Pdu* pdu = nullptr) {
  router::MessageFacts m;
  m.destination_addr = to;
  m.client = client;
  m.message = pdu;
  return m;
}

smpp::Pdu submit(std::string_view to, std::string_view utf8) {
  smpp::SubmitSm sm;
  sm.destination_addr.assign(to);
  const smpp::EncodedText e = smpp::encode_text(utf8);
  sm.data_coding = e.data_coding;
  sm.short_message.assign(e.bytes);
  return smpp::make_pdu(1, std::move(sm));
}

const auto kNow = sys_days(year{2026} / 12 / 7) + hours(14);

// The design's example: premium clients' 258 traffic to mz-direct; else on.
constexpr const char* kExample = R"(
function route(msg, ctx)
  if ctx.client_tier == "premium" and ctx.client_tags.team == "ops" then
    if msg.destination_addr:match("^258") then return "mz-direct" end
  end
  if msg.text == "to b" then return "b" end
  if msg.text == "Привет" then return "a" end
  return nil
end
)";

TEST_F(RouteScriptsTest, TheScriptNamesARouteOrAnUpstreamOrGoesOn) {
  auto config = load(kExample);
  Counters counters;
  gateway::RouteScripts scripts(config, &counters, nullptr);
  const router::Router router(*config);
  ASSERT_TRUE(router.has_scripts());

  // A route by name: its upstream and failover, and its name.
  router::Decision d = router.route(facts("258841234567", "gold"), kNow, &scripts);
  EXPECT_EQ(d.route_name, "mz-direct");
  EXPECT_EQ(d.upstream, "a");
  EXPECT_EQ(d.failover, "backup");
  EXPECT_TRUE(d.by_script);
  // nil: the next routes, as if the script route were not there.
  d = router.route(facts("258841234567", "plain"), kNow, &scripts);
  EXPECT_EQ(d.route_name, "default");
  EXPECT_FALSE(d.by_script);
  d = router.route(facts("999123", "plain"), kNow, &scripts);
  EXPECT_EQ(d.route_name, "mz-direct");
  // An upstream by name: the script route's own name and failover.
  const smpp::Pdu to_b = submit("441234", "to b");
  d = router.route(facts("441234", "plain", &to_b), kNow, &scripts);
  EXPECT_EQ(d.route_name, "lua");
  EXPECT_EQ(d.upstream, "b");
  EXPECT_EQ(d.failover, "backup");
  // The text is decoded whatever its coding (UCS-2 here).
  const smpp::Pdu cyrillic = submit("441234", "Привет");
  ASSERT_EQ(cyrillic.as<smpp::SubmitSm>()->data_coding, 0x08);
  EXPECT_EQ(router.route(facts("441234", "plain", &cyrillic), kNow, &scripts).upstream, "a");
  // Without a runner the script route never matches.
  EXPECT_EQ(router.route(facts("258841234567", "gold"), kNow).route_name, "default");
  EXPECT_EQ(scripts.calls(), 5u);
  EXPECT_EQ(scripts.failures(), 0u);
  EXPECT_EQ(counters.get("smppd_route_script_calls_total", {{"route", "lua"}}), 5u);
}

TEST_F(RouteScriptsTest, FailuresGoOnToTheNextRouteAndAreCountedByKind) {
  auto config = load(R"(
function route(msg, ctx)
  local t = msg.text
  if t == "loop" then while true do end end
  if t == "error" then error("asked to fail") end
  if t == "io" then return io.open("/etc/passwd") end
  if t == "os" then os.execute("true") end
  if t == "require" then require("socket") end
  if t == "nothing" then return "no-such-route" end
  if t == "table" then return {} end
  return "b"
end
)");
  Counters counters;
  gateway::RouteScripts scripts(config, &counters, nullptr);
  const router::Router router(*config);
  for (const char* text : {"loop", "error", "io", "os", "require", "nothing", "table"}) {
    const smpp::Pdu pdu = submit("441234", text);
    const router::Decision d = router.route(facts("441234", "plain", &pdu), kNow, &scripts);
    EXPECT_EQ(d.route_name, "default") << text;
    EXPECT_EQ(d.upstream, "c") << text;
  }
  const smpp::Pdu fine = submit("441234", "fine");
  EXPECT_EQ(router.route(facts("441234", "plain", &fine), kNow, &scripts).upstream, "b");
  EXPECT_EQ(scripts.failures(), 7u);
  auto errors = [&](const char* kind) {
    return counters.get("smppd_route_script_errors_total", {{"route", "lua"}, {"kind", kind}});
  };
  EXPECT_EQ(errors("budget"), 1u);
  EXPECT_EQ(errors("error"), 5u);  // error, io, os, require, a table returned
  EXPECT_EQ(errors("unknown_target"), 1u);

  // explain() says what the script did.
  const smpp::Pdu boom = submit("441234", "error");
  const router::Explanation e = router.explain(facts("441234", "plain", &boom), kNow, &scripts);
  ASSERT_FALSE(e.checks.empty());
  EXPECT_NE(e.checks[0].reason.find("failed: "), std::string::npos) << e.checks[0].reason;
  EXPECT_NE(e.checks[0].reason.find("asked to fail"), std::string::npos) << e.checks[0].reason;
  EXPECT_EQ(e.decision.route_name, "default");
  const router::Explanation n =
      router.explain(facts("441234", "plain", &fine), kNow, &scripts);
  EXPECT_NE(n.checks[0].reason.find("returned 'b' (an upstream)"), std::string::npos)
      << n.checks[0].reason;
}

TEST_F(RouteScriptsTest, ContextHasTagsHealthAndTheMnpAnswer) {
  auto config = load(R"(
function route(msg, ctx)
  local a = ctx.upstreams["a"]
  if msg.text == "health" then
    if a.healthy then return "a" else return "b" end
  end
  if msg.text == "tags" and a.tags.region == "mz" and next(ctx.upstreams["b"].tags) == nil then
    return "a"
  end
  if msg.text == "mnp" then
    if ctx.mnp == nil then return "c" end
    if ctx.mnp.is_ported and ctx.mnp.mnc == "03" then return "b" end
    return "a"
  end
  if msg.text == "clock" and os.date("!%H", os.time()) == "14" then return "b" end
  return nil
end
)");
  std::atomic<bool> a_up{true};
  gateway::RouteScripts scripts(config, nullptr,
                                [&](std::string_view name) { return name != "a" || a_up.load(); });
  const router::Router router(*config);
  auto upstream_for = [&](std::string_view text, const router::MnpFacts* mnp = nullptr) {
    const smpp::Pdu pdu = submit("258841234567", text);
    router::MessageFacts m = facts("258841234567", "plain", &pdu);
    m.mnp = mnp;
    return std::string(router.route(m, kNow, &scripts).upstream);
  };
  EXPECT_EQ(upstream_for("health"), "a");
  a_up = false;
  EXPECT_EQ(upstream_for("health"), "b");
  EXPECT_EQ(upstream_for("tags"), "a");
  EXPECT_EQ(upstream_for("mnp"), "c");
  const router::MnpFacts ported{"643", "03", true};
  EXPECT_EQ(upstream_for("mnp", &ported), "b");
  const router::MnpFacts home{"643", "01", false};
  EXPECT_EQ(upstream_for("mnp", &home), "a");
  // os.time() is the decision's instant (14:00 UTC here), so that `route test --at` holds.
  EXPECT_EQ(upstream_for("clock"), "b");
}

TEST_F(RouteScriptsTest, EachThreadHasItsStateAndAReloadCompilesTheNewText) {
  // Globals live on per thread: each thread counts its own calls.
  auto config = load(R"(
calls = 0
function route(msg, ctx)
  calls = calls + 1
  if calls == 3 then return "b" end
  return "a"
end
)");
  gateway::RouteScripts scripts(config, nullptr, nullptr);
  const router::Router router(*config);
  auto run_three = [&] {
    std::string seen;
    for (int i = 0; i < 3; ++i) seen += router.route(facts("1", "plain"), kNow, &scripts).upstream;
    return seen;
  };
  std::string other;
  std::thread t([&] { other = run_three(); });
  const std::string here = run_three();
  t.join();
  EXPECT_EQ(here, "aab");
  EXPECT_EQ(other, "aab");

  // The file changes and a new configuration is loaded (a reload): the next call compiles it.
  auto next = load("function route(msg, ctx) return 'c' end\n");
  gateway::RouteScripts reloaded(next, nullptr, nullptr);
  const router::Router next_router(*next);
  EXPECT_EQ(next_router.route(facts("1", "plain"), kNow, &reloaded).upstream, "c");
}

TEST_F(RouteScriptsTest, AScriptThatDoesNotServeFailsTheConfiguration) {
  write("broken.lua", "function route(msg, ctx)\n  return = 1\nend\n");
  const std::string yaml = "listeners:\n  - {type: smpp, address: \":2775\"}\nupstreams:\n"
                           "  - {name: a, type: simulator}\nroutes:\n"
                           "  - {name: lua, script: " + dir_ + "/broken.lua}\n";
  auto r = config::load_config_string(yaml, "test.yaml", config::process_env, {},
                                      gateway::check_route_script);
  ASSERT_FALSE(r.ok());
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.errors[0].line, 6);
  EXPECT_NE(r.errors[0].message.find("broken.lua:2: unexpected symbol near '='"),
            std::string::npos)
      << r.errors[0].message;
  // Without the check (tools that only look at routes), it loads.
  EXPECT_TRUE(config::load_config_string(yaml, "test.yaml").ok());
  // One that defines no route().
  write("broken.lua", "x = 1\n");
  r = config::load_config_string(yaml, "test.yaml", config::process_env, {},
                                 gateway::check_route_script);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.errors[0].message.find("defines no function 'route'"), std::string::npos)
      << r.errors[0].message;
}

TEST_F(RouteScriptsTest, AnUnreadableScriptFailsEveryCallAndRoutingGoesOn) {
  auto config = load("function route() return 'a' end\n");
  std::filesystem::remove(dir_ + "/routing.lua");
  gateway::RouteScripts scripts(config, nullptr, nullptr);
  const router::Router router(*config);
  EXPECT_EQ(router.route(facts("1", "plain"), kNow, &scripts).upstream, "c");
  EXPECT_EQ(scripts.failures(), 1u);
}

}  // namespace
