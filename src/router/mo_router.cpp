#include "router/mo_router.hpp"

#include <stdexcept>
#include <variant>

namespace smppd::router {

namespace {

constexpr uint32_t kNoIndex = std::numeric_limits<uint32_t>::max();

config::AddressPattern pattern_of(const std::string& text, const std::string& route,
                                  const char* field) {
  auto parsed = config::parse_address_pattern(text);
  if (auto* e = std::get_if<config::Invalid>(&parsed))
    throw std::invalid_argument("mo_route '" + route + "': " + field + ": " + e->reason);
  return std::get<config::AddressPattern>(std::move(parsed));
}

}  // namespace

MoRouter::MoRouter(const config::Config& config) : MoRouter(config.mo_routes) {}

MoRouter::MoRouter(std::span<const config::MoRouteConfig> routes) {
  if (routes.size() >= (1u << 31)) throw std::invalid_argument("too many mo_routes");
  routes_.reserve(routes.size());
  std::vector<PrefixTable::Entry> entries;
  entries.reserve(routes.size());
  for (std::size_t i = 0; i < routes.size(); ++i) {
    const config::MoRouteConfig& rc = routes[i];
    CompiledRoute r;
    r.name = rc.name;
    r.client = rc.client;
    config::AddressPattern destination;
    if (rc.match.destination_addr)
      destination = pattern_of(*rc.match.destination_addr, rc.name, "destination_addr");
    if (rc.match.source_addr) r.source = pattern_of(*rc.match.source_addr, rc.name, "source_addr");
    r.upstream = rc.match.upstream;
    entries.push_back({destination, static_cast<uint32_t>(i), !r.source && !r.upstream});
    routes_.push_back(std::move(r));
  }
  table_ = PrefixTable(entries);
}

MoDecision MoRouter::route(const MoFacts& m) const {
  const Address source = Address::of(m.source_addr, m.source_addr_ton);
  uint32_t best = kNoIndex;
  table_.candidates(Address::of(m.destination_addr, m.dest_addr_ton),
                    [&](std::span<const uint32_t> list) {
                      for (uint32_t stored : list) {
                        const uint32_t i = PrefixTable::index_of(stored);
                        if (i >= best) return;
                        const CompiledRoute& r = routes_[i];
                        if (PrefixTable::is_unconditional(stored) ||
                            ((!r.upstream || *r.upstream == m.upstream) &&
                             (!r.source || matches(*r.source, source)))) {
                          best = i;
                          return;
                        }
                      }
                    });
  MoDecision d;
  if (best == kNoIndex) return d;
  d.route_index = best;
  d.route_name = routes_[best].name;
  d.client = routes_[best].client;
  return d;
}

}  // namespace smppd::router
