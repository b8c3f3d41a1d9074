#include "cli/route_command.hpp"

#include <CLI/CLI.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <exception>
#include <string_view>

#include "cli/config_load.hpp"
#include "config/config.hpp"
#include "core/instant.hpp"
#include "gateway/gateway.hpp"
#include "gateway/route_scripts.hpp"
#include "middleware/chain.hpp"
#include "router/mo_router.hpp"
#include "router/router.hpp"
#include "smpp/status.hpp"
#include "smpp/text.hpp"
#include "smpp/tlv.hpp"
#include "upstream/balancer.hpp"

namespace smppd::cli {

namespace {

using namespace std::chrono;

struct RouteArgs {
  CLI::App* route = nullptr;
  CLI::App* test = nullptr;
  CLI::App* list = nullptr;
  std::string* config_path = nullptr;
  std::string address;
  std::string client;
  std::string source;
  std::string service_type;
  int ton = 0;
  int source_ton = 0;
  std::string at;
  std::string text;
  std::string mnp;  // --mnp: MCC:MNC[:ported], or "fallback"
};

RouteArgs& args() {
  static RouteArgs a;
  return a;
}

// A price as written: 0.012, 1, 0.0005.
std::string fmt_price(double price) {
  char text[32];
  std::snprintf(text, sizeof text, "%g", price);
  return text;
}

// The message the options describe, as a client's submit_sm (the text in its cheapest coding).
smpp::Pdu message_of(const RouteArgs& a) {
  smpp::SubmitSm sm;
  sm.destination_addr.assign(a.address);
  sm.dest_addr_ton = static_cast<uint8_t>(a.ton);
  sm.source_addr.assign(a.source);
  sm.source_addr_ton = static_cast<uint8_t>(a.source_ton);
  sm.service_type.assign(a.service_type);
  const smpp::EncodedText text = smpp::encode_text(a.text);
  sm.data_coding = text.data_coding;
  if (text.bytes.size() <= 254) {
    sm.short_message.assign(text.bytes);
  } else {
    sm.tlvs.set(smpp::tlv::message_payload, text.bytes);
  }
  return smpp::make_pdu(1, std::move(sm));
}

// The upstream's hosts, each with its price for the destination when it balances by cost, and
// its tags.
void print_upstream(const config::Config& config, std::string_view name,
                    std::string_view destination) {
  const config::UpstreamConfig* u = config.find_upstream(name);
  if (u == nullptr) return;
  if (!u->tags.empty()) {
    std::string tags;
    for (const auto& [k, v] : u->tags) tags += (tags.empty() ? "" : ", ") + k + "=" + v;
    std::printf("  upstream %s tags: %s\n", u->name.c_str(), tags.c_str());
  }
  if (u->load_balancing != config::LoadBalancing::cost_based || u->hosts.empty()) return;
  // The prices are of digits: a '+' is not part of them.
  upstream::Balancer balancer(u->load_balancing, u->hosts);
  std::vector<upstream::Candidate> all(u->hosts.size());
  for (std::size_t i = 0; i < all.size(); ++i) all[i] = {i, true, true, 0};
  const std::optional<std::size_t> cheapest = balancer.pick(all, 0, destination);
  std::printf("  upstream %s balances by cost (cost_based); prices for '%s':\n", u->name.c_str(),
              std::string(destination).c_str());
  for (std::size_t i = 0; i < u->hosts.size(); ++i) {
    const double price = balancer.cost(i, destination);
    const config::HostConfig& host = u->hosts[i];
    std::printf("    host %s (priority %u, weight %u): %s%s\n", host.address.to_string().c_str(),
                host.priority, host.weight,
                std::isinf(price) ? "no price (last resort)" : fmt_price(price).c_str(),
                cheapest && *cheapest == i ? "  <- chosen while every host is up" : "");
  }
}

bool all_digits(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// --mnp as the answer of a lookup: "655:01", "655:01:ported", "fallback" (the lookup failed:
// not ported, network unknown). False when it is none of those.
bool parse_mnp(std::string_view text, router::MnpFacts& out) {
  if (text == "fallback") {
    out = router::MnpFacts{};
    return true;
  }
  const auto first = text.find(':');
  if (first == std::string_view::npos) return false;
  const std::string_view mcc = text.substr(0, first);
  std::string_view rest = text.substr(first + 1);
  const auto second = rest.find(':');
  const std::string_view mnc = rest.substr(0, second);
  bool ported = false;
  if (second != std::string_view::npos) {
    const std::string_view flag = rest.substr(second + 1);
    if (flag != "ported" && flag != "not_ported") return false;
    ported = flag == "ported";
  }
  if (mcc.size() != 3 || !all_digits(mcc) || mnc.size() < 2 || mnc.size() > 3 || !all_digits(mnc))
    return false;
  out = router::MnpFacts{mcc, mnc, ported};
  return true;
}

std::string target(const config::RouteConfig& r) {
  std::string out = r.script.empty() ? "upstream " + r.upstream : "script " + r.script;
  if (!r.failover.empty()) out += ", failover " + r.failover;
  return out;
}

// The chain on the message, as the daemon runs it: what it refused (false) or rewrote.
bool explain_middleware(const middleware::Chain& chain, smpp::Pdu& pdu, const std::string& client) {
  std::string order;
  for (const auto& step : chain.order()) order += (order.empty() ? "" : ", ") + step;
  std::printf("middleware: %s\n", order.c_str());
  const smpp::Pdu before = pdu;
  const middleware::Verdict v = chain.run(pdu, client);
  for (const auto& skip : v.rewrite.skipped) {
    std::printf("  transform %s not applied (%s)\n", std::string(skip.rule).c_str(),
                std::string(skip.reason).c_str());
  }
  if (v.rejection) {
    const middleware::Rejection& r = *v.rejection;
    std::printf("  refused by %s (%s: '%s'): the client would get %s (0x%08X)\n",
                std::string(r.filter).c_str(), r.rule.c_str(), r.address.c_str(),
                std::string(smpp::status_name(r.command_status)).c_str(), r.command_status);
    return false;
  }
  const auto* sm = pdu.as<smpp::SubmitSm>();
  if (pdu == before || sm == nullptr) {
    std::printf("  passed\n");
    return true;
  }
  const std::size_t parts = 1 + v.rewrite.more_parts.size();
  std::printf("  passed, rewritten: destination_addr '%s' (TON %d), source_addr '%s' (TON %d), "
              "service_type '%s', data_coding %d\n",
              std::string(sm->destination_addr.view()).c_str(), sm->dest_addr_ton,
              std::string(sm->source_addr.view()).c_str(), sm->source_addr_ton,
              std::string(sm->service_type.view()).c_str(), sm->data_coding);
  if (parts > 1) {
    std::printf("  the text grew into %zu parts\n", parts);
  } else if (const std::optional<std::string> text = gateway::message_text(pdu)) {
    std::printf("  text: '%s'\n", text->c_str());
  }
  return true;
}

int run_test(const std::shared_ptr<const config::Config>& config_ptr) {
  const config::Config& config = *config_ptr;
  const RouteArgs& a = args();
  sys_seconds now = floor<seconds>(system_clock::now());
  if (!a.at.empty()) {
    auto parsed = parse_instant(a.at);
    if (!parsed) {
      std::fprintf(stderr,
                   "smppd route test: --at: invalid time '%s' (expected e.g. "
                   "2026-11-27T14:00:00Z or 2026-11-27T16:00:00+02:00)\n",
                   a.at.c_str());
      return 2;
    }
    now = floor<seconds>(*parsed);
  }
  router::MnpFacts mnp;
  if (!a.mnp.empty() && !parse_mnp(a.mnp, mnp)) {
    std::fprintf(stderr,
                 "smppd route test: --mnp: invalid answer '%s' (expected MCC:MNC[:ported], e.g. "
                 "655:01 or 655:01:ported, or fallback)\n",
                 a.mnp.c_str());
    return 2;
  }
  smpp::Pdu pdu = message_of(a);
  std::printf(
      "message: destination_addr '%s' (TON %d), source_addr '%s' (TON %d), "
      "service_type '%s', client %s, at %s\n",
      a.address.c_str(), a.ton, a.source.c_str(), a.source_ton, a.service_type.c_str(),
      a.client.empty() ? "(none)" : ("'" + a.client + "'").c_str(),
      format_instant(now, false).c_str());
  // The middleware first, as the daemon runs it before routing: it may refuse the message, or
  // rewrite it (routing then sees what it became).
  const middleware::Chain chain(config);
  if (!chain.empty() && !explain_middleware(chain, pdu, a.client)) return 1;
  router::MessageFacts m;
  gateway::message_facts(pdu, m);
  m.client = a.client;
  m.message = &pdu;
  // What the daemon would do: a destination that is not a number is not looked up.
  if (!a.mnp.empty() && gateway::mnp_number(m.destination_addr)) m.mnp = &mnp;

  const router::Router router(config);
  // Scripts run as the daemon runs them, every upstream taken as healthy.
  std::shared_ptr<const gateway::RouteScripts> scripts;
  if (router.has_scripts()) {
    scripts = std::make_shared<const gateway::RouteScripts>(
        config_ptr, nullptr, [](std::string_view) { return true; });
  }
  // No lookups from here: the answer is the one given.
  if (m.mnp != nullptr) {
    std::printf("  MNP answer (--mnp): %s\n",
                mnp.mcc.empty() ? "fallback: not ported, network unknown"
                                : (std::string(mnp.mcc) + "/" + std::string(mnp.mnc) +
                                   (mnp.is_ported ? ", ported" : ", not ported"))
                                      .c_str());
  } else if (!a.mnp.empty()) {
    std::printf("  MNP answer: none: '%s' is not a number the daemon looks up (--mnp ignored)\n",
                std::string(m.destination_addr).c_str());
  } else if (router.needs_mnp()) {
    std::printf(
        "  MNP answer: none given (routes by mcc, mnc or is_ported do not match; give "
        "--mnp MCC:MNC[:ported] or --mnp fallback)\n");
  }
  const router::Explanation e = router.explain(m, now, scripts.get());
  if (e.decision.forced_by_client) {
    std::printf("  %s\n", e.forced.c_str());
    std::printf("routed: upstream %s (forced by client '%s')\n",
                std::string(e.decision.upstream).c_str(), a.client.c_str());
    print_upstream(config, e.decision.upstream, m.destination_addr);
    return 0;
  }
  for (const auto& c : e.checks) {
    std::printf("  route #%zu '%s': %s: %s\n", c.index + 1, std::string(c.name).c_str(),
                c.matched ? "MATCH" : "no", c.reason.c_str());
  }
  if (!e.decision.matched()) {
    std::printf("no route matches: the message would be rejected with %s (0x%08X)\n",
                std::string(smpp::status_name(smpp::status::ESME_RINVDSTADR)).c_str(),
                smpp::status::ESME_RINVDSTADR);
    return 1;
  }
  std::printf("routed: route '%s' (#%zu) -> upstream %s",
              std::string(e.decision.route_name).c_str(), e.decision.route_index + 1,
              std::string(e.decision.upstream).c_str());
  if (!e.decision.failover.empty())
    std::printf(", failover %s", std::string(e.decision.failover).c_str());
  std::printf("\n");
  print_upstream(config, e.decision.upstream, m.destination_addr);
  return 0;
}

int run_list(const config::Config& config) {
  std::printf("routes (%zu) in %s, tried in this order; the first that matches wins:\n",
              config.routes.size(), config.source.c_str());
  if (config.routes.empty())
    std::printf(
        "  (none: every message is rejected with ESME_RINVDSTADR unless its client has "
        "a forced upstream)\n");
  for (std::size_t i = 0; i < config.routes.size(); ++i) {
    const auto& r = config.routes[i];
    std::printf("  #%zu %s: %s -> %s", i + 1, r.name.c_str(), router::describe(r.match).c_str(),
                target(r).c_str());
    std::printf("\n");
  }
  bool header = false;
  for (const auto& c : config.clients) {
    if (c.upstream.empty()) continue;
    if (!header) std::printf("clients with a forced upstream (routes are not tried for them):\n");
    header = true;
    std::printf("  %s -> upstream %s\n", c.system_id.c_str(), c.upstream.c_str());
  }
  if (!config.mo_routes.empty()) {
    std::printf("mo_routes (%zu), tried in this order:\n", config.mo_routes.size());
    for (std::size_t i = 0; i < config.mo_routes.size(); ++i) {
      const auto& r = config.mo_routes[i];
      std::string conditions;
      auto add = [&conditions](const char* key, const std::optional<std::string>& v) {
        if (!v) return;
        conditions += (conditions.empty() ? "" : " ") + std::string(key) + "=" + *v;
      };
      add("destination_addr", r.match.destination_addr);
      add("source_addr", r.match.source_addr);
      add("upstream", r.match.upstream);
      std::printf("  #%zu %s: %s -> client %s\n", i + 1, r.name.c_str(),
                  conditions.empty() ? "(every message)" : conditions.c_str(), r.client.c_str());
    }
  }
  return 0;
}

}  // namespace

void add_route_command(CLI::App& app, std::string& config_path) {
  RouteArgs& a = args();
  a.config_path = &config_path;
  a.route = app.add_subcommand("route", "Show how a configuration routes messages (no daemon)");
  a.route->require_subcommand(1);

  a.test =
      a.route->add_subcommand("test", "Which route and upstream a message would take, and why");
  a.test->add_option("address", a.address, "destination_addr, e.g. +258841234567")->required();
  a.test->add_option("-c,--config", config_path, "Configuration file (YAML)");
  a.test->add_option("--client", a.client, "system_id of the sending client");
  a.test->add_option("--source", a.source, "source_addr");
  a.test->add_option("--service-type", a.service_type, "service_type");
  a.test->add_option("--ton", a.ton, "dest_addr_ton (1: international)")->check(CLI::Range(0, 255));
  a.test->add_option("--source-ton", a.source_ton, "source_addr_ton (5: alphanumeric)")
      ->check(CLI::Range(0, 255));
  a.test->add_option("--at", a.at, "the instant, e.g. 2026-11-27T14:00:00Z (default: now)");
  a.test->add_option("--text", a.text, "the message's text (UTF-8), as route scripts read it");
  a.test->add_option("--mnp", a.mnp,
                     "the destination's MNP answer, as a lookup would give it (none is made): "
                     "MCC:MNC[:ported], e.g. 655:01:ported, or fallback (not ported, unknown)");

  a.list = a.route->add_subcommand("list", "The routes in order, with conditions and upstreams");
  a.list->add_option("-c,--config", config_path, "Configuration file (YAML)");
}

std::optional<int> run_route_command(const CLI::App&) {
  const RouteArgs& a = args();
  if (a.route == nullptr || !a.route->parsed()) return std::nullopt;
  auto config = load_config_for_command(*a.config_path);
  if (!config) return 2;
  try {
    return a.test->parsed() ? run_test(config) : run_list(*config);
  } catch (const std::exception& e) {
    // Not expected from a configuration that loaded: the loader checks what the Router checks.
    std::fprintf(stderr, "smppd route: %s\n", e.what());
    return 2;
  }
}

}  // namespace smppd::cli
