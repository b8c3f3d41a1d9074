#include "router/router.hpp"

#include <algorithm>
#include <cstdio>
#include <map>
#include <stdexcept>
#include <unordered_map>
#include <variant>

namespace smppd::router {

namespace {

using namespace std::chrono;

constexpr uint32_t kNoIndex = std::numeric_limits<uint32_t>::max();

config::AddressPattern pattern_of(const std::string& text, const std::string& route,
                                  const char* field) {
  auto parsed = config::parse_address_pattern(text);
  if (auto* e = std::get_if<config::Invalid>(&parsed))
    throw std::invalid_argument("route '" + route + "': " + field + ": " + e->reason);
  return std::get<config::AddressPattern>(std::move(parsed));
}

std::string hh_mm(int minute) {
  char text[8];
  std::snprintf(text, sizeof text, "%02d:%02d", (minute / 60) % 100, minute % 60);
  return text;
}

std::string in_quotes(std::string_view s) {
  return "'" + std::string(s) + "'";
}

// A pattern as it was written: "*", "+258*", "258841234567".
std::string written(const config::AddressPattern& p) {
  if (p.kind == config::AddressPattern::Kind::any) return "*";
  return (p.international ? "+" : "") + p.text +
         (p.kind == config::AddressPattern::Kind::prefix ? "*" : "");
}

// A route's mcc/mnc/is_ported against the MNP answer (null: none); `reason` (for explain())
// says why, held or not.
bool mnp_holds(std::string_view mcc, std::string_view mnc, int is_ported, const MnpFacts* answer,
               std::string* reason) {
  auto say = [reason](bool held, std::string text) {
    if (reason != nullptr) *reason = std::move(text);
    return held;
  };
  std::string wanted;
  auto want = [&wanted](std::string_view key, std::string_view value) {
    if (!wanted.empty()) wanted += ' ';
    wanted += key;
    wanted += '=';
    wanted += value;
  };
  if (reason != nullptr) {
    if (!mcc.empty()) want("mcc", mcc);
    if (!mnc.empty()) want("mnc", mnc);
    if (is_ported >= 0) want("is_ported", is_ported ? "true" : "false");
  }
  if (answer == nullptr) return say(false, wanted + " but there is no MNP answer");
  const bool known = !answer->mcc.empty() || !answer->mnc.empty();
  auto differs = [&](std::string_view key, std::string_view expected, std::string_view got) {
    if (reason == nullptr) return false;
    if (!known) {
      return say(false, wanted +
                            " but the MNP answer names no network (the lookup fell back to "
                            "not ported)");
    }
    return say(false, std::string(key) + "=" + std::string(expected) + " but the MNP answer is " +
                          std::string(got));
  };
  if (!mcc.empty() && mcc != answer->mcc) return differs("mcc", mcc, answer->mcc);
  if (!mnc.empty() && mnc != answer->mnc) return differs("mnc", mnc, answer->mnc);
  if (is_ported >= 0 && (is_ported != 0) != answer->is_ported) {
    return say(false, "is_ported=" + std::string(is_ported ? "true" : "false") +
                          " but the MNP answer is " +
                          (answer->is_ported ? "ported" : "not ported"));
  }
  if (reason == nullptr) return true;
  if (!known) {
    return say(true, wanted + ": the MNP answer is a fallback (not ported, network unknown)");
  }
  return say(true, wanted + ": the MNP answer is " + std::string(answer->mcc) + "/" +
                       std::string(answer->mnc) + ", " +
                       (answer->is_ported ? "ported" : "not ported"));
}

}  // namespace

int local_minute(const TimeZone& zone, sys_seconds now) {
  const sys_seconds local = now + zone.offset_at(now);
  return static_cast<int>(duration_cast<minutes>(local - floor<days>(local)).count());
}

bool in_window(int minute, int start_minute, int end_minute) {
  if (start_minute == end_minute) return true;
  if (start_minute < end_minute) return minute >= start_minute && minute < end_minute;
  return minute >= start_minute || minute < end_minute;
}

std::string describe(const config::RouteMatch& m) {
  std::string out;
  auto add = [&out](std::string_view key, std::string_view value) {
    if (!out.empty()) out += ' ';
    out += key;
    out += '=';
    out += value;
  };
  if (m.destination_addr) add("destination_addr", *m.destination_addr);
  if (m.source_addr) add("source_addr", *m.source_addr);
  if (m.source_addr_ton) add("source_addr_ton", std::to_string(*m.source_addr_ton));
  if (m.service_type) add("service_type", *m.service_type);
  if (m.client) add("client", *m.client);
  if (m.schedule) add("schedule", m.schedule->hours + " " + m.schedule->timezone);
  if (m.mcc) add("mcc", *m.mcc);
  if (m.mnc) add("mnc", *m.mnc);
  if (m.is_ported) add("is_ported", *m.is_ported ? "true" : "false");
  return out.empty() ? "(every message)" : out;
}

Router::Router(const config::Config& config)
    : Router(config.routes, config.clients, config.upstreams) {}

Router::Router(std::span<const config::RouteConfig> routes,
               std::span<const config::ClientConfig> clients,
               std::span<const config::UpstreamConfig> upstreams) {
  if (routes.size() >= (1u << 31)) throw std::invalid_argument("too many routes");
  routes_.reserve(routes.size());
  std::vector<PrefixTable::Entry> entries;
  entries.reserve(routes.size());
  std::map<std::string, std::shared_ptr<const TimeZone>, std::less<>> zones;  // each loaded once
  std::unordered_map<std::string, uint32_t> string_index;
  std::unordered_map<std::string, uint32_t> schedule_index;
  auto intern = [&](const std::string& s) {
    auto [it, added] = string_index.try_emplace(s, static_cast<uint32_t>(strings_.size()));
    if (added) strings_.push_back(s);
    return it->second;
  };
  for (std::size_t i = 0; i < routes.size(); ++i) {
    const config::RouteConfig& rc = routes[i];
    CompiledRoute r;
    r.name = rc.name;
    r.upstream = rc.upstream.empty() ? kNone : intern(rc.upstream);
    if (!rc.script.empty()) {
      r.script = intern(rc.script);
      has_scripts_ = true;
    }
    if (!rc.failover.empty()) r.failover = intern(rc.failover);
    if (rc.match.destination_addr)
      r.destination = pattern_of(*rc.match.destination_addr, rc.name, "destination_addr");
    if (rc.match.source_addr) {
      r.source = static_cast<uint32_t>(sources_.size());
      sources_.push_back(pattern_of(*rc.match.source_addr, rc.name, "source_addr"));
    }
    if (rc.match.service_type) r.service_type = intern(*rc.match.service_type);
    if (rc.match.client) r.client = intern(*rc.match.client);
    if (rc.match.source_addr_ton) r.source_ton = *rc.match.source_addr_ton;
    if (rc.match.schedule) {
      const config::Schedule& s = *rc.match.schedule;
      std::string text = s.hours + " " + s.timezone;
      // Routes with the same schedule share it; the minutes are the schedule, the text its name.
      auto [known, added] = schedule_index.try_emplace(
          text + "/" + std::to_string(s.start_minute) + "/" + std::to_string(s.end_minute),
          static_cast<uint32_t>(schedules_.size()));
      if (added) {
        auto zone = zones.find(s.timezone);
        if (zone == zones.end()) {
          std::string why;
          auto loaded = TimeZone::load(s.timezone, &why);
          if (!loaded) throw std::invalid_argument("route '" + rc.name + "': " + why);
          zone =
              zones.emplace(s.timezone, std::make_shared<const TimeZone>(std::move(*loaded))).first;
        }
        schedules_.push_back(Schedule{zone->second, s.start_minute, s.end_minute, std::move(text)});
      }
      r.schedule = known->second;
    }
    if (rc.match.uses_mnp()) {
      r.mnp = static_cast<uint32_t>(mnp_conditions_.size());
      mnp_conditions_.push_back(MnpCondition{
          rc.match.mcc.value_or(""), rc.match.mnc.value_or(""),
          static_cast<int8_t>(rc.match.is_ported ? (*rc.match.is_ported ? 1 : 0) : -1)});
    }
    r.only_destination = r.source == kNone && r.service_type == kNone && r.client == kNone &&
                         r.source_ton < 0 && r.schedule == kNone && r.script == kNone &&
                         r.mnp == kNone;
    entries.push_back({r.destination.value_or(config::AddressPattern{}), static_cast<uint32_t>(i),
                       r.only_destination});
    routes_.push_back(std::move(r));
  }
  table_ = PrefixTable(entries);
  for (const auto& c : clients) {
    if (!c.upstream.empty()) forced_.emplace_back(c.system_id, c.upstream);
  }
  std::sort(forced_.begin(), forced_.end());
  for (const auto& u : upstreams) upstream_names_.push_back(u.name);
  std::sort(upstream_names_.begin(), upstream_names_.end());
  // What scripts may name (only they need it: 100,000 routes without one do not pay for it).
  // Routes first: a name that is both a route and an upstream is the route (its failover too).
  if (has_scripts_) {
    for (const auto& u : upstreams) targets_.try_emplace(u.name, intern(u.name) | kUpstreamFlag);
    for (std::size_t i = 0; i < routes_.size(); ++i) {
      if (routes_[i].upstream != kNone) targets_[routes_[i].name] = static_cast<uint32_t>(i);
    }
  }
}

const std::string* Router::forced_upstream(std::string_view client) const {
  if (forced_.empty() || client.empty()) return nullptr;
  auto it =
      std::lower_bound(forced_.begin(), forced_.end(), client,
                       [](const auto& entry, std::string_view key) { return entry.first < key; });
  return it != forced_.end() && it->first == client ? &it->second : nullptr;
}

Decision Router::decision_for(std::size_t index) const {
  const CompiledRoute& r = routes_[index];
  Decision d;
  d.route_index = index;
  d.route_name = r.name;
  d.upstream = text(r.upstream);
  d.failover = text(r.failover);
  return d;
}

bool Router::rest_holds(const CompiledRoute& r, const MessageFacts& m, Address source,
                        sys_seconds now) const {
  if (r.source_ton >= 0 && r.source_ton != m.source_addr_ton) return false;
  if (r.service_type != kNone && strings_[r.service_type] != m.service_type) return false;
  if (r.client != kNone && strings_[r.client] != m.client) return false;
  if (r.source != kNone && !matches(sources_[r.source], source)) return false;
  if (r.schedule != kNone) {
    const Schedule& s = schedules_[r.schedule];
    if (!in_window(local_minute(*s.zone, now), s.start_minute, s.end_minute)) return false;
  }
  if (r.mnp != kNone) {
    const MnpCondition& c = mnp_conditions_[r.mnp];
    if (!mnp_holds(c.mcc, c.mnc, c.is_ported, m.mnp, nullptr)) return false;
  }
  return true;
}

uint32_t Router::first_holding(const MessageFacts& m, Address source, sys_seconds now,
                               uint32_t from) const {
  uint32_t best = kNoIndex;
  // Each list is ascending: its first entry from `from` on whose other conditions hold is its
  // candidate, and nothing at or after the best so far needs a look.
  table_.candidates(
      Address::of(m.destination_addr, m.dest_addr_ton), [&](std::span<const uint32_t> list) {
        for (uint32_t stored : list) {
          const uint32_t i = PrefixTable::index_of(stored);
          if (i < from) continue;
          if (i >= best) return;
          if (PrefixTable::is_unconditional(stored) || rest_holds(routes_[i], m, source, now)) {
            best = i;
            return;
          }
        }
      });
  return best;
}

std::optional<Decision> Router::script_decision(std::size_t index, std::string_view target) const {
  auto it = targets_.find(target);
  if (it == targets_.end()) return std::nullopt;
  Decision d;
  if (it->second & kUpstreamFlag) {
    d = decision_for(index);
    d.upstream = strings_[it->second & ~kUpstreamFlag];
  } else {
    d = decision_for(it->second);
  }
  d.by_script = true;
  return d;
}

Decision Router::route(const MessageFacts& m, system_clock::time_point now,
                       const ScriptRunner* scripts) const {
  if (const std::string* upstream = forced_upstream(m.client)) {
    Decision d;
    d.upstream = *upstream;
    d.forced_by_client = true;
    return d;
  }
  if (m.client_settings != nullptr && !m.client_settings->upstream.empty()) {
    // An external client's: an upstream no longer configured matches nothing (the message is
    // refused rather than routed where its backend did not say).
    const std::string& wanted = m.client_settings->upstream;
    auto it = std::lower_bound(upstream_names_.begin(), upstream_names_.end(), wanted);
    if (it == upstream_names_.end() || *it != wanted) return Decision{};
    Decision d;
    d.upstream = *it;
    d.forced_by_client = true;
    return d;
  }
  const sys_seconds t = floor<seconds>(now);
  const Address source = Address::of(m.source_addr, m.source_addr_ton);
  for (uint32_t from = 0;;) {
    const uint32_t best = first_holding(m, source, t, from);
    if (best == kNoIndex) return Decision{};
    if (routes_[best].script == kNone) return decision_for(best);
    // A script route: its script decides, or the search goes on after it.
    if (scripts != nullptr) {
      ScriptAnswer a = scripts->run(best, m, now);
      if (a.target) {
        if (auto d = script_decision(best, *a.target)) return *d;
        scripts->unknown_target(best, *a.target);
      }
    }
    from = best + 1;
  }
}

bool Router::check(const CompiledRoute& r, const MessageFacts& m, sys_seconds now,
                   std::string& reason) const {
  std::string held;
  auto hold = [&held](const std::string& text) {
    held += held.empty() ? "" : "; ";
    held += text;
  };
  auto fail = [&reason](std::string text) {
    reason = std::move(text);
    return false;
  };
  if (r.destination) {
    std::string text = match_text("destination_addr", written(*r.destination), *r.destination,
                                  m.destination_addr, m.dest_addr_ton);
    if (!matches(*r.destination, Address::of(m.destination_addr, m.dest_addr_ton)))
      return fail(text);
    hold(text);
  }
  if (r.source != kNone) {
    const config::AddressPattern& source = sources_[r.source];
    std::string text =
        match_text("source_addr", written(source), source, m.source_addr, m.source_addr_ton);
    if (!matches(source, Address::of(m.source_addr, m.source_addr_ton))) return fail(text);
    hold(text);
  }
  if (r.source_ton >= 0) {
    const std::string ton = std::to_string(m.source_addr_ton);
    if (r.source_ton != m.source_addr_ton)
      return fail("source_addr_ton " + ton + " is not " + std::to_string(r.source_ton));
    hold("source_addr_ton " + ton);
  }
  if (r.service_type != kNone) {
    const std::string_view wanted = strings_[r.service_type];
    if (wanted != m.service_type)
      return fail("service_type " + in_quotes(m.service_type) + " is not " + in_quotes(wanted));
    hold("service_type " + in_quotes(m.service_type));
  }
  if (r.client != kNone) {
    const std::string_view wanted = strings_[r.client];
    if (wanted != m.client)
      return fail("client " + (m.client.empty() ? std::string("(none)") : in_quotes(m.client)) +
                  " is not " + in_quotes(wanted));
    hold("client " + in_quotes(m.client));
  }
  if (r.schedule != kNone) {
    const Schedule& s = schedules_[r.schedule];
    const int minute = local_minute(*s.zone, now);
    std::string text = "schedule " + s.text + ": local time " + hh_mm(minute) + " is ";
    if (!in_window(minute, s.start_minute, s.end_minute)) return fail(text + "outside");
    hold(text + "inside");
  }
  if (r.mnp != kNone) {
    const MnpCondition& c = mnp_conditions_[r.mnp];
    std::string text;
    if (!mnp_holds(c.mcc, c.mnc, c.is_ported, m.mnp, &text)) return fail(std::move(text));
    hold(text);
  }
  reason = held.empty() ? "no conditions: matches every message" : held;
  return true;
}

Explanation Router::explain(const MessageFacts& m, system_clock::time_point now,
                            const ScriptRunner* scripts) const {
  Explanation e;
  if (const std::string* upstream = forced_upstream(m.client)) {
    e.decision.upstream = *upstream;
    e.decision.forced_by_client = true;
    e.forced = "client " + in_quotes(m.client) + " has upstream " + in_quotes(*upstream) +
               " (clients[].upstream), which wins over every route";
    return e;
  }
  const sys_seconds t = floor<seconds>(now);
  for (std::size_t i = 0; i < routes_.size(); ++i) {
    const CompiledRoute& r = routes_[i];
    RouteCheck c;
    c.index = i;
    c.name = r.name;
    c.matched = check(r, m, t, c.reason);
    std::optional<Decision> decided;
    if (c.matched && r.script != kNone) {
      // The conditions hold; the script decides.
      const std::string_view file = strings_[r.script];
      c.matched = false;
      if (scripts == nullptr) {
        c.reason += "; script " + std::string(file) + " not run (no Lua here)";
      } else {
        ScriptAnswer a = scripts->run(i, m, now);
        if (!a.target) {
          c.reason += a.error.empty() ? "; script " + std::string(file) + " returned nil"
                                      : "; script " + std::string(file) + " failed: " + a.error;
        } else if (!(decided = script_decision(i, *a.target))) {
          c.reason += "; script " + std::string(file) + " returned " + in_quotes(*a.target) +
                      ", which is no route with an upstream and no upstream";
        } else {
          c.matched = true;
          c.reason += "; script " + std::string(file) + " returned " + in_quotes(*a.target) +
                      (decided->route_index == i ? " (an upstream)"
                                                 : " (route " + in_quotes(decided->route_name) +
                                                       " -> upstream " +
                                                       in_quotes(decided->upstream) + ")");
        }
      }
    }
    e.checks.push_back(std::move(c));
    if (e.checks.back().matched) {
      e.decision = decided ? *decided : decision_for(i);
      break;
    }
  }
  return e;
}

}  // namespace smppd::router
