#include "router/router.hpp"

#include <gtest/gtest.h>

#include <random>
#include <set>

#include "config/loader.hpp"

using namespace smppd;
using namespace smppd::router;
using namespace std::chrono;

namespace {

constexpr std::string_view kHead = R"(listeners:
  - type: smpp
    address: :2775
upstreams:
  - {name: a, type: simulator}
  - {name: b, type: simulator}
  - {name: c, type: simulator}
  - {name: d, type: simulator}
  - {name: backup, type: simulator}
clients:
  - {system_id: client-a, password: p}
  - {system_id: client-b, password: p}
  - {system_id: forced, password: p, upstream: d}
mnp: {enabled: true, xconnect: {url: "http://mnp.test/"}}
)";

// A configuration with these routes (YAML, starting "routes:").
std::shared_ptr<const config::Config> load(std::string_view routes) {
  // Routes only: the scripts they name need not exist (files_test.cpp checks files).
  auto r = config::load_config_string(std::string(kHead) + std::string(routes), "test.yaml",
                                      config::process_env, {.check_files = false});
  std::string errors;
  for (const auto& e : r.errors) errors += e.to_string() + "\n";
  EXPECT_TRUE(r.ok()) << errors;
  return r.config ? r.config : std::make_shared<config::Config>();
}

system_clock::time_point at(int y, unsigned mo, unsigned d, int h = 0, int mi = 0, int s = 0) {
  return sys_days(year{y} / month{mo} / day{d}) + hours(h) + minutes(mi) + seconds(s);
}

const auto kNow = at(2026, 11, 27, 14);

MessageFacts to(std::string_view destination, uint8_t ton = 0) {
  MessageFacts m;
  m.destination_addr = destination;
  m.dest_addr_ton = ton;
  return m;
}

// The upstream a message goes to, "-" when none.
std::string upstream(const Router& router, const MessageFacts& m,
                     system_clock::time_point now = kNow) {
  Decision d = router.route(m, now);
  EXPECT_EQ(d.matched(), !d.upstream.empty());
  return d.matched() ? std::string(d.upstream) : "-";
}

}  // namespace

TEST(Router, FirstMatchInConfigurationOrderWins) {
  auto config = load(R"(routes:
  - {name: vodacom, match: {destination_addr: "+25884*"}, upstream: a}
  - {name: mozambique, match: {destination_addr: "+258*"}, upstream: b}
  - {name: narrower-but-later, match: {destination_addr: "+2588212*"}, upstream: d}
  - {name: default, match: {destination_addr: "*"}, upstream: c, failover: backup}
)");
  Router router(*config);
  ASSERT_EQ(router.size(), 4u);
  Decision d = router.route(to("+258841234567"), kNow);
  EXPECT_EQ(d.route_index, 0u);
  EXPECT_EQ(d.route_name, "vodacom");
  EXPECT_EQ(d.upstream, "a");
  EXPECT_TRUE(d.failover.empty());
  EXPECT_FALSE(d.forced_by_client);
  // The first match, not the longest prefix.
  EXPECT_EQ(upstream(router, to("+258821234567")), "b");
  d = router.route(to("+27821234567"), kNow);
  EXPECT_EQ(d.route_name, "default");
  EXPECT_EQ(d.upstream, "c");
  EXPECT_EQ(d.failover, "backup");

  // A catch-all first shadows everything after it.
  auto shadowed = load(R"(routes:
  - {match: {destination_addr: "*"}, upstream: c}
  - {match: {destination_addr: "+25884*"}, upstream: a}
)");
  Router first_all(*shadowed);
  d = first_all.route(to("+258841234567"), kNow);
  EXPECT_EQ(d.route_index, 0u);
  EXPECT_EQ(d.route_name, "route-0");
}

TEST(Router, NoMatchingRouteMeansNoUpstream) {
  auto config = load(R"(routes:
  - {match: {destination_addr: "+258*"}, upstream: a}
)");
  Router router(*config);
  Decision d = router.route(to("+27821234567"), kNow);
  EXPECT_FALSE(d.matched());
  EXPECT_EQ(d.route_index, Decision::kNoRoute);
  EXPECT_TRUE(d.upstream.empty());
  Router empty(std::span<const config::RouteConfig>{}, std::span<const config::ClientConfig>{});
  EXPECT_FALSE(empty.route(to("+27821234567"), kNow).matched());
}

TEST(Router, EveryConditionOfARouteMustHold) {
  auto config = load(R"(routes:
  - name: complex
    match:
      destination_addr: "+258*"
      source_addr: "ACME*"
      source_addr_ton: 5
      service_type: MKTG
      client: client-a
    upstream: a
  - {name: default, match: {destination_addr: "*"}, upstream: c}
)");
  Router router(*config);
  MessageFacts all = to("+258841234567");
  all.source_addr = "ACME-SHOP";
  all.source_addr_ton = 5;
  all.service_type = "MKTG";
  all.client = "client-a";
  EXPECT_EQ(upstream(router, all), "a");
  auto without = [&](auto change) {
    MessageFacts m = all;
    change(m);
    return upstream(router, m);
  };
  EXPECT_EQ(without([](MessageFacts& m) { m.destination_addr = "+27821234567"; }), "c");
  EXPECT_EQ(without([](MessageFacts& m) { m.source_addr = "OTHER"; }), "c");
  EXPECT_EQ(without([](MessageFacts& m) { m.source_addr_ton = 1; }), "c");
  EXPECT_EQ(without([](MessageFacts& m) { m.service_type = ""; }), "c");
  EXPECT_EQ(without([](MessageFacts& m) { m.client = "client-b"; }), "c");
  EXPECT_EQ(without([](MessageFacts& m) { m.client = ""; }), "c");
}

TEST(Router, PatternKinds) {
  auto config = load(R"(routes:
  - {name: exact, match: {destination_addr: "+258841234567"}, upstream: a}
  - {name: prefix, match: {destination_addr: "+25884*"}, upstream: b}
  - {name: sender, match: {source_addr: "PREMIUM"}, upstream: d}
  - {name: any, match: {destination_addr: "*"}, upstream: c}
)");
  Router router(*config);
  EXPECT_EQ(upstream(router, to("+258841234567")), "a");
  EXPECT_EQ(upstream(router, to("+2588412345678")), "b");  // longer: no longer exact
  EXPECT_EQ(upstream(router, to("+25884123456")), "b");
  EXPECT_EQ(upstream(router, to("+25884")), "b");  // the prefix itself
  EXPECT_EQ(upstream(router, to("+2588")), "c");
  EXPECT_EQ(upstream(router, to("")), "c");  // "*" matches even an empty address
  MessageFacts m = to("+27821234567");
  m.source_addr = "PREMIUM";
  EXPECT_EQ(upstream(router, m), "d");
  m.source_addr = "PREMIUM2";
  EXPECT_EQ(upstream(router, m), "c");
  m.source_addr = "premium";  // case-sensitive
  EXPECT_EQ(upstream(router, m), "c");
}

TEST(Router, NonDigitCharactersInPatterns) {
  auto config = load(R"(routes:
  - {match: {destination_addr: "INFO*"}, upstream: a}
  - {match: {destination_addr: "INFO-2"}, upstream: b}
  - {match: {destination_addr: "12#*"}, upstream: d}
)");
  Router router(*config);
  EXPECT_EQ(upstream(router, to("INFO-2")), "a");
  EXPECT_EQ(upstream(router, to("INF")), "-");
  EXPECT_EQ(upstream(router, to("12#5")), "d");
  EXPECT_EQ(upstream(router, to("12*5")), "-");
}

TEST(Router, PlusMeansInternationalWhateverThePduWrites) {
  auto config = load(R"(routes:
  - {name: intl, match: {destination_addr: "+258*"}, upstream: a}
  - {name: plain, match: {destination_addr: "258*"}, upstream: b}
  - {name: intl-exact, match: {destination_addr: "+27821234567"}, upstream: d}
  - {name: any-intl, match: {destination_addr: "+*"}, upstream: c}
)");
  Router router(*config);
  // A pattern with '+': the address written with '+' at any TON, or TON 1 without '+'.
  EXPECT_EQ(upstream(router, to("+258841234567", 0)), "a");
  EXPECT_EQ(upstream(router, to("+258841234567", 1)), "a");
  EXPECT_EQ(upstream(router, to("+258841234567", 2)), "a");
  EXPECT_EQ(upstream(router, to("258841234567", 1)), "a");
  // Not international (TON 0 unknown, 2 national): the pattern without '+' takes them.
  EXPECT_EQ(upstream(router, to("258841234567", 0)), "b");
  EXPECT_EQ(upstream(router, to("258841234567", 2)), "b");
  EXPECT_EQ(upstream(router, to("27821234567", 1)), "d");
  EXPECT_EQ(upstream(router, to("+27821234567", 0)), "d");
  EXPECT_EQ(upstream(router, to("27821234567", 0)), "-");
  EXPECT_EQ(upstream(router, to("4420", 1)), "c");  // "+*": every international number
  EXPECT_EQ(upstream(router, to("4420", 0)), "-");

  // A pattern without '+' looks only at the digits: '+' in the PDU or TON 1 do not matter.
  auto plain_only = load(R"(routes:
  - {match: {destination_addr: "258*"}, upstream: b}
  - {match: {source_addr: "1555*"}, upstream: d}
)");
  Router plain(*plain_only);
  EXPECT_EQ(upstream(plain, to("+258841234567", 0)), "b");
  EXPECT_EQ(upstream(plain, to("258841234567", 1)), "b");
  EXPECT_EQ(upstream(plain, to("258841234567", 0)), "b");
  MessageFacts m = to("+27821234567", 1);
  m.source_addr = "+15551234";
  EXPECT_EQ(upstream(plain, m), "d");

  // Source addresses follow the same rules.
  auto by_source = load(R"(routes:
  - {match: {source_addr: "+1555*"}, upstream: a}
)");
  Router source(*by_source);
  m.source_addr = "15551234";
  m.source_addr_ton = 1;
  EXPECT_EQ(upstream(source, m), "a");
  m.source_addr_ton = 0;
  EXPECT_EQ(upstream(source, m), "-");
  m.source_addr = "+15551234";
  EXPECT_EQ(upstream(source, m), "a");
}

TEST(Router, ClientForcedUpstreamWinsOverRoutes) {
  auto config = load(R"(routes:
  - {match: {client: forced}, upstream: a}
  - {match: {destination_addr: "+258*"}, upstream: b}
)");
  Router router(*config);
  MessageFacts m = to("+258841234567");
  m.client = "forced";
  Decision d = router.route(m, kNow);
  EXPECT_TRUE(d.matched());
  EXPECT_TRUE(d.forced_by_client);
  EXPECT_EQ(d.upstream, "d");
  EXPECT_EQ(d.route_index, Decision::kNoRoute);
  EXPECT_TRUE(d.route_name.empty());
  // Even where no route would match.
  m.destination_addr = "+27821234567";
  EXPECT_EQ(upstream(router, m), "d");
  // Other clients, and messages without a client, go through the routes.
  m.destination_addr = "+258841234567";
  m.client = "client-a";
  d = router.route(m, kNow);
  EXPECT_FALSE(d.forced_by_client);
  EXPECT_EQ(d.upstream, "b");
  m.client = "";
  EXPECT_EQ(upstream(router, m), "b");
  m.client = "forcedx";
  EXPECT_EQ(upstream(router, m), "b");
}

TEST(Router, ServiceTypeAndSourceTon) {
  auto config = load(R"(routes:
  - {match: {service_type: MKTG}, upstream: a}
  - {match: {source_addr_ton: 5}, upstream: b}
  - {match: {source_addr_ton: 0}, upstream: d}
)");
  Router router(*config);
  MessageFacts m = to("+258841234567");
  m.service_type = "MKTG";
  m.source_addr_ton = 5;
  EXPECT_EQ(upstream(router, m), "a");
  m.service_type = "mktg";
  EXPECT_EQ(upstream(router, m), "b");
  m.service_type = "";
  EXPECT_EQ(upstream(router, m), "b");
  m.source_addr_ton = 0;
  EXPECT_EQ(upstream(router, m), "d");
  m.source_addr_ton = 1;
  EXPECT_EQ(upstream(router, m), "-");
}

TEST(Router, ScheduleInsideOutsideAndAcrossMidnight) {
  auto config = load(R"(routes:
  - name: night
    match:
      destination_addr: "*"
      schedule: {timezone: Africa/Maputo, hours: "22:00-06:00"}
    upstream: a
  - name: office
    match:
      schedule: {hours: "09:00-17:00"}
    upstream: b
  - {name: day, match: {destination_addr: "*"}, upstream: c}
)");
  Router router(*config);
  const MessageFacts m = to("+258841234567");
  // Maputo is UTC+2 all year.
  EXPECT_EQ(upstream(router, m, at(2026, 11, 27, 19, 59, 59)), "c");  // 21:59:59 local
  EXPECT_EQ(upstream(router, m, at(2026, 11, 27, 20, 0, 0)), "a");    // 22:00
  EXPECT_EQ(upstream(router, m, at(2026, 11, 27, 22, 0, 0)), "a");    // 00:00
  EXPECT_EQ(upstream(router, m, at(2026, 11, 28, 3, 59, 59)), "a");   // 05:59:59
  EXPECT_EQ(upstream(router, m, at(2026, 11, 28, 4, 0, 0)), "c");     // 06:00: the end is out
  // "office" in UTC (the default zone): from 09:00 up to 17:00.
  EXPECT_EQ(upstream(router, m, at(2026, 11, 27, 8, 59, 59)), "c");
  EXPECT_EQ(upstream(router, m, at(2026, 11, 27, 9, 0, 0)), "b");
  EXPECT_EQ(upstream(router, m, at(2026, 11, 27, 16, 59, 59)), "b");
  EXPECT_EQ(upstream(router, m, at(2026, 11, 27, 17, 0, 0)), "c");
  // Sub-second instants count by the second they are in.
  EXPECT_EQ(upstream(router, m, at(2026, 11, 27, 16, 59, 59) + milliseconds(999)), "b");
  // A copy keeps working without the original (its zones are shared, not borrowed).
  auto original = std::make_unique<Router>(*config);
  const Router copy = *original;
  original.reset();
  EXPECT_EQ(upstream(copy, m, at(2026, 11, 27, 20, 0, 0)), "a");
}

TEST(Router, ScheduleWindowEdges) {
  EXPECT_TRUE(in_window(0, 0, 0));  // equal start and end: the whole day
  EXPECT_TRUE(in_window(1439, 600, 600));
  EXPECT_TRUE(in_window(1439, 0, 1440));  // 00:00-24:00
  EXPECT_TRUE(in_window(0, 0, 1440));
  EXPECT_TRUE(in_window(1320, 1320, 360));
  EXPECT_FALSE(in_window(360, 1320, 360));
  EXPECT_FALSE(in_window(1319, 1320, 360));
  EXPECT_TRUE(in_window(540, 540, 1020));
  EXPECT_FALSE(in_window(1020, 540, 1020));
  EXPECT_FALSE(in_window(539, 540, 1020));
}

TEST(Router, ScheduleFollowsDaylightSavingTime) {
  auto config = load(R"(routes:
  - name: lisbon-morning
    match:
      schedule: {timezone: Europe/Lisbon, hours: "08:00-09:00"}
    upstream: a
  - name: new-york-office
    match:
      schedule: {timezone: America/New_York, hours: "09:00-17:00"}
    upstream: b
)");
  Router router(*config);
  const MessageFacts m = to("+351912345678");
  // Lisbon: WET (UTC+0) until 2026-03-29 01:00 UTC, then WEST (UTC+1).
  EXPECT_EQ(upstream(router, m, at(2026, 3, 28, 8, 30)), "a");   // 08:30 WET
  EXPECT_EQ(upstream(router, m, at(2026, 3, 30, 8, 30)), "-");   // 09:30 WEST
  EXPECT_EQ(upstream(router, m, at(2026, 3, 30, 7, 30)), "a");   // 08:30 WEST
  EXPECT_EQ(upstream(router, m, at(2026, 10, 26, 8, 30)), "a");  // back on WET
  // New York: EST (UTC-5) until 2026-03-08 07:00 UTC, then EDT (UTC-4). 13:30 UTC is 08:30 EST
  // on the Saturday before and 09:30 EDT on the Monday after.
  EXPECT_EQ(upstream(router, m, at(2026, 3, 7, 13, 30)), "-");
  EXPECT_EQ(upstream(router, m, at(2026, 3, 9, 13, 30)), "b");
  // At the transition itself: 06:59:59 UTC is 01:59:59 EST, 07:00:00 is 03:00 EDT.
  EXPECT_EQ(
      local_minute(*TimeZone::load("America/New_York"), floor<seconds>(at(2026, 3, 8, 6, 59, 59))),
      1 * 60 + 59);
  EXPECT_EQ(local_minute(*TimeZone::load("America/New_York"), floor<seconds>(at(2026, 3, 8, 7))),
            3 * 60);
}

TEST(Router, ScriptRoutesWithoutARunnerAndMnpRoutesWithoutAnAnswerDoNotMatch) {
  auto config = load(R"(routes:
  - {name: lua, match: {destination_addr: "*"}, script: /etc/smppd/routing.lua}
  - {name: vodacom-direct, match: {mnc: "01"}, upstream: a}
  - {name: default, match: {destination_addr: "*"}, upstream: c}
)");
  Router router(*config);
  Decision d = router.route(to("+258841234567"), kNow);
  EXPECT_EQ(d.route_name, "default");
  EXPECT_EQ(d.upstream, "c");
  // (The gateway gives the runner and the answer: tests/gateway/route_scripts_test.cpp,
  // RoutesByTheMnpAnswer below.)
}

TEST(Router, RoutesByTheMnpAnswer) {
  auto config = load(R"(routes:
  - {name: vodacom-ported-in, match: {mcc: "655", mnc: "01", is_ported: true}, upstream: a}
  - {name: vodacom, match: {mcc: "655", mnc: "01"}, upstream: b}
  - {name: three-digit, match: {mcc: "310", mnc: "001"}, upstream: b}
  - {name: not-ported, match: {destination_addr: "+27*", is_ported: false}, upstream: c}
  - {name: default, match: {destination_addr: "*"}, upstream: d}
)");
  Router router(*config);
  EXPECT_TRUE(router.needs_mnp());
  auto with = [](MessageFacts m, const MnpFacts* answer) {
    m.mnp = answer;
    return m;
  };
  const MnpFacts ported_in{"655", "01", true};
  const MnpFacts vodacom{"655", "01", false};
  const MnpFacts mtn{"655", "10", false};
  const MnpFacts three_digits{"310", "001", false};
  const MnpFacts two_digits{"310", "01", false};
  const MnpFacts fallback{"", "", false};  // the lookup fell back: not ported, no network
  EXPECT_EQ(upstream(router, with(to("+27821234567"), &ported_in)), "a");
  EXPECT_EQ(upstream(router, with(to("+27821234567"), &vodacom)), "b");
  EXPECT_EQ(upstream(router, with(to("+27831234567"), &mtn)), "c");
  EXPECT_EQ(upstream(router, with(to("+13101234567"), &three_digits)), "b");
  // "01" and "001" are different networks.
  EXPECT_EQ(upstream(router, with(to("+13101234567"), &two_digits)), "d");
  // The fallback matches is_ported: false only, never a network.
  EXPECT_EQ(upstream(router, with(to("+27821234567"), &fallback)), "c");
  EXPECT_EQ(upstream(router, with(to("+25882123456"), &fallback)), "d");
  // No answer at all (none asked for, or the destination is not a number): no MNP route.
  EXPECT_EQ(upstream(router, to("+27821234567")), "d");

  // explain() says what the answer was against what the route wanted.
  Explanation e = router.explain(with(to("+27831234567"), &mtn), kNow);
  ASSERT_EQ(e.checks.size(), 4u);
  EXPECT_EQ(e.checks[0].reason, "mnc=01 but the MNP answer is 10");
  EXPECT_EQ(e.checks[1].reason, "mnc=01 but the MNP answer is 10");
  EXPECT_EQ(e.checks[2].reason, "mcc=310 but the MNP answer is 655");
  EXPECT_EQ(e.checks[3].reason,
            "destination_addr '+27831234567' matches '+27*'; is_ported=false: the MNP answer is "
            "655/10, not ported");
  e = router.explain(with(to("+27821234567"), &vodacom), kNow);
  EXPECT_EQ(e.checks[0].reason, "is_ported=true but the MNP answer is not ported");
  EXPECT_EQ(e.checks[1].reason, "mcc=655 mnc=01: the MNP answer is 655/01, not ported");
  e = router.explain(with(to("+27821234567"), &fallback), kNow);
  EXPECT_EQ(e.checks[0].reason,
            "mcc=655 mnc=01 is_ported=true but the MNP answer names no network (the lookup fell "
            "back to not ported)");
  EXPECT_EQ(e.checks[3].reason,
            "destination_addr '+27821234567' matches '+27*'; is_ported=false: the MNP answer is "
            "a fallback (not ported, network unknown)");
  e = router.explain(to("+27821234567"), kNow);
  EXPECT_EQ(e.checks[0].reason, "mcc=655 mnc=01 is_ported=true but there is no MNP answer");
  EXPECT_EQ(e.checks[3].reason, "is_ported=false but there is no MNP answer");
  EXPECT_EQ(e.decision.route_name, "default");

  auto plain = load(R"(routes:
  - {match: {destination_addr: "*"}, upstream: a}
)");
  EXPECT_FALSE(Router(*plain).needs_mnp());
  EXPECT_EQ(describe(config->routes[0].match), "mcc=655 mnc=01 is_ported=true");
}

TEST(Router, DescribeListsTheConditions) {
  auto config = load(R"(routes:
  - name: complex
    match:
      destination_addr: "+258*"
      source_addr_ton: 5
      client: client-a
      schedule: {timezone: Africa/Maputo, hours: "22:00-06:00"}
    upstream: a
  - {match: {}, upstream: c}
)");
  EXPECT_EQ(describe(config->routes[0].match),
            "destination_addr=+258* source_addr_ton=5 client=client-a "
            "schedule=22:00-06:00 Africa/Maputo");
  EXPECT_EQ(describe(config->routes[1].match), "(every message)");
}

TEST(Router, ExplainGivesEachRouteAndWhy) {
  auto config = load(R"(routes:
  - {name: za, match: {destination_addr: "+27*"}, upstream: a}
  - {name: intl-only, match: {destination_addr: "+258*"}, upstream: a}
  - {name: vip, match: {destination_addr: "258*", client: client-b}, upstream: b}
  - {name: mnp, match: {mnc: "01"}, upstream: b}
  - name: night
    match:
      schedule: {timezone: Africa/Maputo, hours: "22:00-06:00"}
    upstream: d
  - {name: marketing, match: {service_type: MKTG}, upstream: d}
  - {name: alpha, match: {source_addr_ton: 5}, upstream: d}
  - {name: main, match: {destination_addr: "258*", client: client-a}, upstream: c, failover: backup}
  - {name: default, match: {destination_addr: "*"}, upstream: a}
)");
  Router router(*config);
  MessageFacts m = to("258841234567", 0);
  m.client = "client-a";
  m.source_addr_ton = 1;
  Explanation e = router.explain(m, kNow);
  EXPECT_TRUE(e.forced.empty());
  ASSERT_EQ(e.checks.size(), 8u);  // stops at the winner
  auto reason = [&](std::size_t i) { return e.checks[i].reason; };
  for (std::size_t i = 0; i < 7; ++i) EXPECT_FALSE(e.checks[i].matched) << i;
  EXPECT_EQ(e.checks[0].name, "za");
  EXPECT_EQ(reason(0), "destination_addr '258841234567' does not match '+27*'");
  EXPECT_EQ(reason(1),
            "destination_addr '258841234567' (TON 0, no '+') is not an international number, "
            "which '+258*' requires");
  EXPECT_EQ(reason(2), "client 'client-a' is not 'client-b'");
  EXPECT_EQ(reason(3), "mnc=01 but there is no MNP answer");
  EXPECT_EQ(reason(4), "schedule 22:00-06:00 Africa/Maputo: local time 16:00 is outside");
  EXPECT_EQ(reason(5), "service_type '' is not 'MKTG'");
  EXPECT_EQ(reason(6), "source_addr_ton 1 is not 5");
  EXPECT_TRUE(e.checks[7].matched);
  EXPECT_EQ(e.checks[7].index, 7u);
  EXPECT_EQ(reason(7), "destination_addr '258841234567' matches '258*'; client 'client-a'");
  EXPECT_EQ(e.decision.route_name, "main");
  EXPECT_EQ(e.decision.upstream, "c");
  EXPECT_EQ(e.decision.failover, "backup");

  // The night route at night: its reason says why it held.
  e = router.explain(m, at(2026, 11, 27, 21, 10));
  ASSERT_EQ(e.checks.size(), 5u);
  EXPECT_EQ(e.checks[4].reason, "schedule 22:00-06:00 Africa/Maputo: local time 23:10 is inside");

  // No route: every route with its reason, no decision.
  auto none = load(R"(routes:
  - {match: {destination_addr: "+27*"}, upstream: a}
  - {match: {}, script: /x.lua}
)");
  Router nothing(*none);
  e = nothing.explain(to("+258841234567"), kNow);
  EXPECT_FALSE(e.decision.matched());
  ASSERT_EQ(e.checks.size(), 2u);
  // A script route without a runner (tests/gateway/route_scripts_test.cpp has it with one).
  EXPECT_EQ(e.checks[1].reason, "no conditions: matches every message; script /x.lua not run (no Lua here)");

  // Forced: no route is tried.
  m.client = "forced";
  e = router.explain(m, kNow);
  EXPECT_TRUE(e.decision.forced_by_client);
  EXPECT_EQ(e.decision.upstream, "d");
  EXPECT_TRUE(e.checks.empty());
  EXPECT_EQ(e.forced,
            "client 'forced' has upstream 'd' (clients[].upstream), which wins over every route");

  auto unconditional = load(R"(routes:
  - {match: {}, upstream: a}
)");
  Router all(*unconditional);
  m.client = "client-a";
  e = all.explain(m, kNow);
  EXPECT_EQ(e.checks.at(0).reason, "no conditions: matches every message");
}

TEST(Router, InvalidInputFromOutsideTheLoaderThrows) {
  config::RouteConfig bad;
  bad.name = "bad";
  bad.upstream = "a";
  bad.match.destination_addr = "25*8";
  EXPECT_THROW(Router(std::span(&bad, 1), {}), std::invalid_argument);
  bad.match.destination_addr = "258*";
  bad.match.schedule = std::make_shared<config::Schedule>(
      config::Schedule{"Mars/Olympus_Mons", "22:00-06:00", 1320, 360});
  EXPECT_THROW(Router(std::span(&bad, 1), {}), std::invalid_argument);
  bad.match.schedule->timezone = "Africa/Maputo";
  EXPECT_NO_THROW(Router(std::span(&bad, 1), {}));
}

// ---- the compiled table against a plain reading of the rules ----

namespace {

// The rules as written in router.hpp and pattern.hpp, applied one route after the other.
bool reference_pattern(const std::string& pattern, std::string_view address, uint8_t ton) {
  if (pattern == "*") return true;
  std::string_view p = pattern;
  bool want_international = false;
  if (p.front() == '+') {
    want_international = true;
    p.remove_prefix(1);
  }
  const bool plus = !address.empty() && address.front() == '+';
  if (plus) address.remove_prefix(1);
  if (want_international && !plus && ton != 1) return false;
  if (p.back() == '*') return address.substr(0, p.size() - 1) == p.substr(0, p.size() - 1);
  return address == p;
}

// Africa/Maputo is UTC+2 since 1903 with no daylight saving time.
bool reference_schedule(const config::Schedule& s, system_clock::time_point now) {
  const long offset = s.timezone == "Africa/Maputo" ? 2 * 3600 : 0;
  const long seconds_of_day =
      ((duration_cast<seconds>(now.time_since_epoch()).count() + offset) % 86400 + 86400) % 86400;
  const long minute = seconds_of_day / 60;
  if (s.start_minute == s.end_minute) return true;
  if (s.start_minute < s.end_minute) return minute >= s.start_minute && minute < s.end_minute;
  return minute >= s.start_minute || minute < s.end_minute;
}

long reference_route(const std::vector<config::RouteConfig>& routes, const MessageFacts& m,
                     system_clock::time_point now) {
  for (std::size_t i = 0; i < routes.size(); ++i) {
    const auto& r = routes[i].match;
    if (!routes[i].script.empty()) continue;
    if (r.uses_mnp() &&
        (m.mnp == nullptr || (r.mcc && *r.mcc != m.mnp->mcc) || (r.mnc && *r.mnc != m.mnp->mnc) ||
         (r.is_ported && *r.is_ported != m.mnp->is_ported)))
      continue;
    if (r.destination_addr &&
        !reference_pattern(*r.destination_addr, m.destination_addr, m.dest_addr_ton))
      continue;
    if (r.source_addr && !reference_pattern(*r.source_addr, m.source_addr, m.source_addr_ton))
      continue;
    if (r.source_addr_ton && *r.source_addr_ton != m.source_addr_ton) continue;
    if (r.service_type && *r.service_type != m.service_type) continue;
    if (r.client && *r.client != m.client) continue;
    if (r.schedule && !reference_schedule(*r.schedule, now)) continue;
    return static_cast<long>(i);
  }
  return -1;
}

struct Generated {
  std::vector<config::RouteConfig> routes;
  std::vector<std::string> prefixes;  // to build addresses that hit them
};

std::string digits(std::mt19937& rng, int n) {
  std::string s;
  for (int i = 0; i < n; ++i) s += static_cast<char>('0' + rng() % 10);
  return s;
}

Generated generate_routes(std::mt19937& rng, std::size_t count) {
  Generated g;
  const std::vector<std::string> clients = {"client-a", "client-b", "client-c"};
  for (std::size_t i = 0; i < count; ++i) {
    config::RouteConfig r;
    r.name = "r" + std::to_string(i);
    r.upstream = "u" + std::to_string(i % 7);
    const int shape = static_cast<int>(rng() % 100);
    std::string body = digits(rng, 3 + static_cast<int>(rng() % 5));
    if (rng() % 3 == 0 && !g.prefixes.empty()) {
      body = g.prefixes[rng() % g.prefixes.size()] + digits(rng, static_cast<int>(rng() % 3));
    }
    g.prefixes.push_back(body);
    const std::string plus = rng() % 5 ? "+" : "";
    if (shape < 2)
      r.match.destination_addr = "*";
    else if (shape < 4)
      r.match.destination_addr = "+*";
    else if (shape < 10)
      r.match.destination_addr = plus + body + digits(rng, 4);  // exact
    else if (shape < 95)
      r.match.destination_addr = plus + body + "*";
    // else: no destination condition at all
    if (!r.match.destination_addr || shape < 4) {
      // Routes for every destination get more conditions, or they would shadow the rest.
      r.match.client = clients[rng() % clients.size()];
      if (rng() % 2)
        r.match.service_type = "MKTG";
      else
        r.match.schedule = std::make_shared<config::Schedule>(
            config::Schedule{"Africa/Maputo", "", 22 * 60, 6 * 60});
    }
    if (rng() % 10 == 0) r.match.client = clients[rng() % clients.size()];
    if (rng() % 10 == 0) r.match.source_addr = rng() % 2 ? "ACME*" : "+1555*";
    if (rng() % 20 == 0) r.match.source_addr_ton = static_cast<uint8_t>(rng() % 3 == 0 ? 5 : 1);
    if (rng() % 20 == 0) r.match.service_type = "MKTG";
    if (rng() % 25 == 0) {
      const auto start = static_cast<uint16_t>(rng() % 1440);
      const auto end = static_cast<uint16_t>(rng() % 1441);
      r.match.schedule = std::make_shared<config::Schedule>(
          config::Schedule{rng() % 2 ? "UTC" : "Africa/Maputo", "", start, end});
    }
    if (rng() % 40 == 0) {
      if (rng() % 2) r.match.mcc = "655";
      if (rng() % 2) r.match.mnc = rng() % 2 ? "01" : "10";
      if (rng() % 3 == 0 || !r.match.uses_mnp()) r.match.is_ported = rng() % 2 == 0;
    }
    if (rng() % 300 == 0) r.script = "/x.lua";
    g.routes.push_back(std::move(r));
  }
  return g;
}

}  // namespace

TEST(Router, TenThousandRoutesAgreeWithALinearReading) {
  std::mt19937 rng(20261127);
  Generated g = generate_routes(rng, 10000);
  const std::vector<config::ClientConfig> no_clients;
  Router router(g.routes, no_clients);
  const std::vector<std::string> sources = {"ACME",     "ACME-SHOP", "+15551234",
                                            "15551234", "OTHER",     ""};
  const std::vector<std::string> clients = {"client-a", "client-b", "client-c", ""};
  int matched = 0;
  int explained_matched = 0;    // explanations that end on the chosen route
  int explained_unmatched = 0;  // explanations where no route holds
  std::set<std::size_t> hit;    // distinct routes chosen
  for (int n = 0; n < 4000; ++n) {
    std::string destination;
    const int kind = static_cast<int>(rng() % 10);
    if (kind < 7)
      destination =
          g.prefixes[rng() % g.prefixes.size()] + digits(rng, static_cast<int>(rng() % 8));
    else
      destination = digits(rng, 5 + static_cast<int>(rng() % 10));
    if (rng() % 2) destination = "+" + destination;
    MessageFacts m;
    m.destination_addr = destination;
    m.dest_addr_ton = static_cast<uint8_t>(rng() % 3);
    m.source_addr = sources[rng() % sources.size()];
    m.source_addr_ton = static_cast<uint8_t>(rng() % 6);
    m.service_type = rng() % 5 == 0 ? "MKTG" : "";
    m.client = clients[rng() % clients.size()];
    // No answer, a fallback, or a network.
    static const MnpFacts answers[] = {
        {"", "", false}, {"655", "01", false}, {"655", "10", true}, {"643", "01", true}};
    const auto pick = rng() % 5;
    m.mnp = pick == 4 ? nullptr : &answers[pick];
    const auto now = at(2026, 11, 27) + seconds(rng() % 86400);
    const long expected = reference_route(g.routes, m, now);
    const Decision d = router.route(m, now);
    ASSERT_EQ(d.matched(), expected >= 0) << destination;
    if (expected >= 0) {
      ++matched;
      hit.insert(d.route_index);
      ASSERT_EQ(d.route_index, static_cast<std::size_t>(expected))
          << destination << " TON " << int(m.dest_addr_ton) << " from " << m.source_addr;
      ASSERT_EQ(d.upstream, g.routes[expected].upstream);
    }
    if (n % 100 == 0) {
      const Explanation e = router.explain(m, now);
      ASSERT_EQ(e.decision.route_index, d.route_index) << destination;
      // The routes it lists fail, but the last one when a route matched, which is the one chosen.
      for (std::size_t i = 0; i + 1 < e.checks.size(); ++i) {
        ASSERT_FALSE(e.checks[i].matched) << destination << ": " << e.checks[i].name;
      }
      if (d.matched()) {
        ASSERT_FALSE(e.checks.empty()) << destination;
        ASSERT_TRUE(e.checks.back().matched) << destination;
        ASSERT_EQ(e.checks.back().index, d.route_index) << destination;
        ++explained_matched;
      } else {
        for (const auto& check : e.checks) ASSERT_FALSE(check.matched) << destination;
        ++explained_unmatched;
      }
    }
  }
  // The generated mix exercises both outcomes.
  EXPECT_GT(matched, 400);
  EXPECT_LT(matched, 3990);
  EXPECT_GT(hit.size(), 500u);
  // explain() was checked on both outcomes.
  EXPECT_GT(explained_matched, 0);
  EXPECT_GT(explained_unmatched, 0);
}
