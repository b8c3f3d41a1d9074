// Transform rules (src/middleware/transform): what a rule's match costs per message with
// std::regex, with Boost.Regex, and with the literal-prefix check the middleware runs before its
// Boost.Regex; and the whole `transform` step with the design's three rules on messages that
// match none of them and all of them (bench/README.md, "Transform rules").
#include <benchmark/benchmark.h>

#include <boost/regex.hpp>

#include <regex>
#include <string>
#include <vector>

#include "middleware/chain.hpp"
#include "smpp/text.hpp"

namespace {

using namespace smppd;

// Destinations as clients send them: a third national numbers the design's rule rewrites
// ("^8[0-9]{8}$"), the rest international numbers it leaves.
std::vector<std::string> numbers() {
  std::vector<std::string> out;
  for (int i = 0; i < 1024; ++i) {
    out.push_back(i % 3 == 0 ? "84" + std::to_string(1000000 + i)
                             : "4917" + std::to_string(10000000 + i));
  }
  return out;
}

constexpr const char* kPattern = "^8[0-9]{8}$";

void BM_StdRegex(benchmark::State& state) {
  const std::regex re(kPattern);
  const auto n = numbers();
  std::size_t i = 0, hits = 0;
  for (auto _ : state) {
    hits += std::regex_match(n[i++ & 1023], re);
  }
  benchmark::DoNotOptimize(hits);
}
BENCHMARK(BM_StdRegex);

void BM_BoostRegex(benchmark::State& state) {
  const boost::regex re(kPattern, boost::regex::perl);
  const auto n = numbers();
  std::size_t i = 0, hits = 0;
  for (auto _ : state) {
    hits += boost::regex_match(n[i++ & 1023], re);
  }
  benchmark::DoNotOptimize(hits);
}
BENCHMARK(BM_BoostRegex);

void BM_PrefixThenBoostRegex(benchmark::State& state) {
  const boost::regex re(kPattern, boost::regex::perl);
  const auto lp = middleware::literal_prefix(kPattern);
  const auto n = numbers();
  std::size_t i = 0, hits = 0;
  for (auto _ : state) {
    const std::string& s = n[i++ & 1023];
    hits += s.starts_with(lp.prefix) && boost::regex_match(s, re);
  }
  benchmark::DoNotOptimize(hits);
}
BENCHMARK(BM_PrefixThenBoostRegex);

config::Config design_chain() {
  config::Config c;
  config::MiddlewareConfig t;
  t.type = config::MiddlewareType::transform;
  t.rules = {
      {{{"client", "client-a"}}, {{"source_addr", "CLIENT-A"}, {"source_addr_ton", "5"}}, {}},
      {{{"destination_addr", "^8[0-9]{8}$"}},
       {},
       {{"destination_addr", "+258${destination_addr}"}}},
      {{{"service_type", "MKTG"}},
       {},
       {{"short_message", "${short_message} Reply STOP to opt out."}}}};
  c.middleware = {t};
  return c;
}

smpp::Pdu message(bool matching) {
  smpp::SubmitSm sm;
  sm.source_addr.assign("SHOP");
  sm.destination_addr.assign(matching ? "841234567" : "4917000000001");
  sm.service_type.assign(matching ? "MKTG" : "");
  sm.short_message.assign(smpp::utf8_to_gsm7("Your order 4711 has shipped.").bytes);
  return smpp::make_pdu(1, sm);
}

void BM_TransformStep(benchmark::State& state) {
  const bool matching = state.range(0) != 0;
  const middleware::Chain chain(design_chain());
  const smpp::Pdu original = message(matching);
  for (auto _ : state) {
    smpp::Pdu p = original;  // the copy is part of the figure (a PDU is ~600 bytes inline)
    auto v = chain.run(p, matching ? "client-a" : "bob");
    benchmark::DoNotOptimize(v);
  }
}
BENCHMARK(BM_TransformStep)->Arg(0)->Arg(1)->ArgName("all_rules_match");

}  // namespace

BENCHMARK_MAIN();
