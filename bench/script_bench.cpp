// Lua routing scripts: route() calls a second on one core, for the design's example script
// (tests/script/data/design_example.lua), bench/README.md "Lua routing scripts".
//
// Each call makes the `msg` and `ctx` tables afresh, runs the script under its budget and reads
// its answer. "Premium" returns at dest:match("^%+258"); "standard" goes on to os.date("*t");
// "many upstreams" is "standard" with 20 upstreams and client tags in ctx, which the script does
// not read (ctx.upstreams is filled only when read).
#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include "config/loader.hpp"
#include "gateway/route_scripts.hpp"
#include "router/router.hpp"
#include "script/state.hpp"
#include "smpp/pdu.hpp"

namespace {

using namespace smppd::script;

std::shared_ptr<const ScriptSource> example() {
  auto read = ScriptSource::read(SMPPD_SCRIPT_DATA "/design_example.lua");
  if (!read.source) throw std::runtime_error(read.error);
  return read.source;
}

void run(benchmark::State& bench, const ScriptContext& ctx) {
  const auto source = example();
  ScriptState state;
  ScriptMessage msg;
  msg.source_addr = "ACME";
  msg.source_addr_ton = 5;
  msg.destination_addr = "+258841234567";
  msg.dest_addr_ton = 1;
  msg.dest_addr_npi = 1;
  msg.text = "Your code is 123456";
  benchmark::IterationCount decided = 0;
  for (auto _ : bench) {
    const ScriptDecision d = state.route(*source, msg, ctx);
    decided += d.target.has_value();
    benchmark::DoNotOptimize(d);
  }
  if (decided != bench.iterations()) bench.SkipWithError("a call made no decision");
  bench.SetItemsProcessed(bench.iterations());
  bench.counters["state_KiB"] = static_cast<double>(state.memory_used()) / 1024;
}

void BM_DesignExamplePremium(benchmark::State& bench) {
  ScriptContext ctx;
  ctx.client_id = "client-a";
  ctx.client_tier = "premium";
  run(bench, ctx);
}
BENCHMARK(BM_DesignExamplePremium);

void BM_DesignExampleStandard(benchmark::State& bench) {
  ScriptContext ctx;
  ctx.client_id = "client-b";
  ctx.client_tier = "standard";
  run(bench, ctx);
}
BENCHMARK(BM_DesignExampleStandard);

void BM_DesignExampleStandardManyUpstreams(benchmark::State& bench) {
  const ScriptTags client_tags = {{"billing_id", "12345"}, {"region", "eu"}};
  const ScriptTags upstream_tags = {{"region", "eu"}, {"tier", "premium"}, {"cost", "0.01"}};
  std::vector<std::string> names;
  for (int i = 0; i < 20; ++i) names.push_back("carrier-" + std::to_string(i));
  std::vector<ScriptUpstream> upstreams;
  for (const auto& name : names) upstreams.push_back({name, true, &upstream_tags});
  ScriptContext ctx;
  ctx.client_id = "client-b";
  ctx.client_tier = "standard";
  ctx.client_tags = &client_tags;
  ctx.upstreams = upstreams;
  ctx.mnp = ScriptMnp{"258", "84", false};
  run(bench, ctx);
}
BENCHMARK(BM_DesignExampleStandardManyUpstreams);

// The whole decision as the gateway makes it: Router::route with the daemon's RouteScripts, a
// submit_sm whose GSM text is decoded for msg.text, 20 upstreams whose health is asked per call
// and client tags; the script is the design's example (a standard client: it reads the clock).
void BM_RouterWithScriptStandard(benchmark::State& bench) {
  std::string yaml = "listeners:\n  - {type: smpp, address: \":2775\"}\nupstreams:\n";
  for (int i = 0; i < 20; ++i) {
    yaml += "  - {name: carrier-" + std::to_string(i) +
            ", type: simulator, tags: {region: eu, tier: premium, cost: \"0.01\"}}\n";
  }
  yaml += "  - {name: mz-direct, type: simulator}\n  - {name: night-rates, type: simulator}\n"
          "  - {name: default, type: simulator}\n"
          "clients:\n  - {system_id: client-b, password: p, tier: standard, "
          "tags: {billing_id: \"12345\", region: eu}}\n"
          "routes:\n  - {name: lua, match: {destination_addr: \"*\"}, script: " SMPPD_SCRIPT_DATA
          "/design_example.lua}\n";
  auto loaded = smppd::config::load_config_string(yaml, "bench.yaml");
  if (!loaded.ok()) {
    bench.SkipWithError(loaded.errors.front().to_string().c_str());
    return;
  }
  const smppd::router::Router router(*loaded.config);
  const smppd::gateway::RouteScripts scripts(loaded.config, nullptr,
                                             [](std::string_view) { return true; });
  smpp::SubmitSm sm;
  sm.source_addr.assign("ACME");
  sm.source_addr_ton = 5;
  sm.destination_addr.assign("+258841234567");
  sm.dest_addr_ton = 1;
  sm.short_message.assign(std::string_view("Your code is 123456"));
  const smpp::Pdu pdu = smpp::make_pdu(1, std::move(sm));
  smppd::router::MessageFacts m;
  m.destination_addr = "+258841234567";
  m.dest_addr_ton = 1;
  m.source_addr = "ACME";
  m.source_addr_ton = 5;
  m.client = "client-b";
  m.message = &pdu;
  benchmark::IterationCount decided = 0;
  for (auto _ : bench) {
    const smppd::router::Decision d = router.route(m, std::chrono::system_clock::now(), &scripts);
    decided += d.matched();
    benchmark::DoNotOptimize(d);
  }
  if (decided != bench.iterations()) bench.SkipWithError("a call made no decision");
  bench.SetItemsProcessed(bench.iterations());
}
BENCHMARK(BM_RouterWithScriptStandard);

}  // namespace

BENCHMARK_MAIN();
