#include "middleware/chain.hpp"

#include <algorithm>

#include "router/pattern.hpp"
#include "smpp/status.hpp"

namespace smppd::middleware {

namespace {

// Patterns the loader has checked (config::parse_address_pattern), parsed again here.
void compile(const std::vector<std::string>& written,
             std::vector<std::pair<std::string, config::AddressPattern>>& out) {
  for (const std::string& w : written) {
    auto p = config::parse_address_pattern(w);
    if (p.index() == 0) out.emplace_back(w, std::get<0>(std::move(p)));
  }
}

// The first pattern `address` matches, or null.
const std::string* first_match(
    const std::vector<std::pair<std::string, config::AddressPattern>>& patterns,
    router::Address address) {
  for (const auto& [written, pattern] : patterns) {
    if (router::matches(pattern, address)) return &written;
  }
  return nullptr;
}

}  // namespace

Chain::Chain(const config::Config& config) {
  bool addresses_placed = false;
  for (const config::MiddlewareConfig& m : config.middleware) {
    switch (m.type) {
      case config::MiddlewareType::address_filter:
        if (!addresses_placed) steps_.push_back(Step::address_filter);
        addresses_placed = true;
        order_.emplace_back("address_filter");
        break;
      case config::MiddlewareType::logger:
        steps_.push_back(Step::logger);
        log_level_ = m.level;
        order_.emplace_back("logger");
        break;
      case config::MiddlewareType::auth:
        order_.emplace_back("auth");
        break;
      case config::MiddlewareType::rate_limit:
        order_.emplace_back("rate_limit");
        break;
      case config::MiddlewareType::transform:
        order_.emplace_back("transform");
        if (m.rules.empty()) break;
        steps_.push_back(Step::transform);
        transforms_.push_back(std::make_unique<Transform>(m.rules, config.multipart));
        break;
      case config::MiddlewareType::protocol: {
        order_.emplace_back("protocol");
        auto p = std::make_unique<Protocol>(m.version_mapping);
        if (!p->acts()) break;  // the defaults do what it says: nothing to run per message
        steps_.push_back(Step::protocol);
        protocols_.push_back(std::move(p));
        break;
      }
      case config::MiddlewareType::metrics:
        order_.emplace_back("metrics");
        break;
    }
  }
  for (const config::ClientConfig& c : config.clients) {
    ClientRules rules;
    compile(c.source_addresses.allowed, rules.source.allowed);
    compile(c.source_addresses.blocked, rules.source.blocked);
    compile(c.destination_addresses.allowed, rules.destination.allowed);
    compile(c.destination_addresses.blocked, rules.destination.blocked);
    if (rules.source.empty() && rules.destination.empty()) continue;
    clients_.emplace(c.system_id, std::move(rules));
  }
  // A client's addresses apply even when the list does not name address_filter: first.
  if (!clients_.empty() && !addresses_placed) {
    steps_.insert(steps_.begin(), Step::address_filter);
    order_.insert(order_.begin(), "address_filter");
  }
  about_text_ = std::any_of(transforms_.begin(), transforms_.end(),
                            [](const auto& t) { return t->about_text(); });
  empty_ = steps_.empty() || (steps_.size() == 1 && steps_[0] == Step::address_filter &&
                              clients_.empty());
}

std::optional<Rejection> Chain::filter_addresses(const smpp::Pdu& request,
                                                 const ClientRules& rules) const {
  namespace st = smpp::status;
  auto check = [](const Patterns& p, std::string_view text, uint8_t ton, std::string_view side,
                  uint32_t status) -> std::optional<Rejection> {
    const router::Address a = router::Address::of(text, ton);
    if (const std::string* hit = first_match(p.blocked, a)) {
      return Rejection{status, "address_filter", std::string(side) + ".blocked " + *hit,
                       std::string(text)};
    }
    if (!p.allowed.empty() && first_match(p.allowed, a) == nullptr) {
      return Rejection{status, "address_filter", std::string(side) + ".allowed",
                       std::string(text)};
    }
    return std::nullopt;
  };
  auto both = [&](std::string_view src, uint8_t src_ton, std::string_view dst,
                  uint8_t dst_ton) -> std::optional<Rejection> {
    if (auto r = check(rules.source, src, src_ton, "source", st::ESME_RINVSRCADR)) return r;
    return check(rules.destination, dst, dst_ton, "destination", st::ESME_RINVDSTADR);
  };
  if (const auto* sm = request.as<smpp::SubmitSm>()) {
    return both(sm->source_addr.view(), sm->source_addr_ton, sm->destination_addr.view(),
                sm->dest_addr_ton);
  }
  if (const auto* ds = request.as<smpp::DataSm>()) {
    return both(ds->source_addr.view(), ds->source_addr_ton, ds->destination_addr.view(),
                ds->dest_addr_ton);
  }
  if (const auto* multi = request.as<smpp::SubmitMulti>()) {
    if (auto r = check(rules.source, multi->source_addr.view(), multi->source_addr_ton, "source",
                       st::ESME_RINVSRCADR)) {
      return r;
    }
    for (const smpp::DestAddress& d : multi->destinations) {
      if (d.dest_flag != smpp::DestAddress::kSmeAddress) continue;
      if (auto r = check(rules.destination, d.address.view(), d.dest_addr_ton, "destination",
                         st::ESME_RINVDSTADR)) {
        return r;
      }
    }
  }
  return std::nullopt;
}

Verdict Chain::run(smpp::Pdu& request, std::string_view client,
                   const MessageContext& context) const {
  Verdict v;
  std::size_t transform = 0;
  std::size_t protocol = 0;
  for (Step step : steps_) {
    switch (step) {
      case Step::transform:
        if (auto r = transforms_[transform++]->apply(request, client, context.parts_allowed,
                                                     v.rewrite)) {
          v.rejection = std::move(r);
          return v;
        }
        break;
      case Step::protocol:
        if (auto r = protocols_[protocol++]->apply(request, context.client_version,
                                                   context.parts_allowed, v.rewrite)) {
          v.rejection = std::move(r);
          return v;
        }
        break;
      case Step::logger:
        v.log_level = log_level_;
        break;
      case Step::address_filter: {
        auto it = clients_.find(client);
        if (it == clients_.end()) break;
        if (auto r = filter_addresses(request, it->second)) {
          v.rejection = std::move(r);
          return v;
        }
        break;
      }
    }
  }
  return v;
}

}  // namespace smppd::middleware
