#include "gateway/route_scripts.hpp"

#include <unordered_map>
#include <utility>

#include "core/log.hpp"
#include "core/log_aggregate.hpp"
#include "gateway/gateway.hpp"
#include "script/state.hpp"
#include "smpp/segment.hpp"
#include "smpp/text.hpp"
#include "smpp/tlv.hpp"

namespace smppd::gateway {

namespace {

log::Aggregated& script_lines() {
  static log::Aggregated lines(log::Level::warn, "routing script failures");
  return lines;
}

// This thread's Lua states, one per script file: a state holds one compiled script, and
// compiles again when handed another generation of it (a reload).
script::ScriptState& state_for(const script::ScriptSource& source) {
  thread_local std::unordered_map<std::string, script::ScriptState> states;
  auto it = states.find(source.name());
  if (it == states.end()) it = states.emplace(source.name(), script::ScriptState()).first;
  return it->second;
}

template <class Sm>
std::optional<std::string> sm_text(const Sm& m, std::span<const uint8_t> payload) {
  std::span<const uint8_t> bytes = m.short_message.bytes();
  if (bytes.empty()) bytes = payload;
  if ((m.esm_class & 0x40) != 0 && !bytes.empty()) {
    const std::size_t udh = std::size_t{bytes[0]} + 1;
    bytes = bytes.subspan(std::min(udh, bytes.size()));
  }
  smpp::TextDecodeOptions options;
  options.on_invalid = smpp::OnInvalid::replace;
  smpp::DecodedText t = smpp::decode_message(bytes, m.data_coding, options);
  if (t.error == smpp::TextError::not_text) return std::nullopt;
  return std::move(t.text);
}

std::span<const uint8_t> payload_of(const smpp::TlvList& tlvs) {
  return tlvs.find(smpp::tlv::message_payload.tag).value_or(std::span<const uint8_t>());
}

template <class Sm>
void sm_fields(const Sm& m, script::ScriptMessage& out) {
  out.source_addr_npi = m.source_addr_npi;
  if constexpr (requires { m.dest_addr_npi; }) out.dest_addr_npi = m.dest_addr_npi;
  out.data_coding = m.data_coding;
  out.esm_class = m.esm_class;
  out.registered_delivery = m.registered_delivery;
}

}  // namespace

std::optional<std::string> message_text(const smpp::Pdu& pdu) {
  if (const auto* m = pdu.as<smpp::SubmitSm>()) return sm_text(*m, payload_of(m->tlvs));
  if (const auto* m = pdu.as<smpp::SubmitMulti>()) return sm_text(*m, payload_of(m->tlvs));
  if (const auto* m = pdu.as<smpp::DeliverSm>()) return sm_text(*m, payload_of(m->tlvs));
  if (const auto* m = pdu.as<smpp::DataSm>()) {
    smpp::TextDecodeOptions options;
    options.on_invalid = smpp::OnInvalid::replace;
    smpp::DecodedText t = smpp::decode_message(payload_of(m->tlvs), m->data_coding, options);
    if (t.error == smpp::TextError::not_text) return std::nullopt;
    return std::move(t.text);
  }
  return std::nullopt;
}

RouteScripts::RouteScripts(std::shared_ptr<const config::Config> config, Counters* counters,
                           Health health)
    : config_(std::move(config)), counters_(counters), health_(std::move(health)) {
  const config::Config& c = *config_;
  by_route_.assign(c.routes.size(), -1);
  std::unordered_map<std::string, std::shared_ptr<const script::ScriptSource>> read;  // by file
  std::unordered_map<std::string, std::string> unreadable;
  for (std::size_t i = 0; i < c.routes.size(); ++i) {
    const config::RouteConfig& r = c.routes[i];
    if (r.script.empty()) continue;
    Script s;
    s.route = r.name;
    if (auto it = read.find(r.script); it != read.end()) {
      s.source = it->second;
    } else if (auto bad = unreadable.find(r.script); bad != unreadable.end()) {
      s.read_error = bad->second;
    } else {
      script::ScriptSource::ReadResult got = script::ScriptSource::read(r.script);
      if (got.source) {
        s.source = got.source;
        read.emplace(r.script, std::move(got.source));
      } else {
        s.read_error = got.error;
        unreadable.emplace(r.script, std::move(got.error));
      }
    }
    if (counters_ != nullptr) {
      s.calls = counters_->counter("smppd_route_script_calls_total", {{"route", r.name}});
      const char* name = "smppd_route_script_errors_total";
      s.errors = counters_->counter(name, {{"route", r.name}, {"kind", "error"}});
      s.overruns = counters_->counter(name, {{"route", r.name}, {"kind", "budget"}});
      s.unknown = counters_->counter(name, {{"route", r.name}, {"kind", "unknown_target"}});
    }
    by_route_[i] = static_cast<int32_t>(scripts_.size());
    scripts_.push_back(std::move(s));
  }
  for (const auto& client : c.clients) {
    clients_.emplace(client.system_id,
                     Client{client.tier, client.tags.empty() ? nullptr : &client.tags});
  }
  for (const auto& u : c.upstreams) {
    upstreams_.push_back(Upstream{u.name, u.tags.empty() ? nullptr : &u.tags});
  }
}

RouteScripts::~RouteScripts() = default;

void RouteScripts::failed(const Script& s, CounterId id, std::string_view what) const {
  failures_.fetch_add(1, std::memory_order_relaxed);
  if (counters_ != nullptr) counters_->add(id);
  script_lines()("route '{}': script: {}; the message goes on to the next route", s.route, what);
}

router::ScriptAnswer RouteScripts::run(std::size_t route_index, const router::MessageFacts& m,
                                       std::chrono::system_clock::time_point now) const {
  router::ScriptAnswer answer;
  if (route_index >= by_route_.size() || by_route_[route_index] < 0) {
    answer.error = "the route has no script";
    return answer;
  }
  const Script& s = scripts_[static_cast<std::size_t>(by_route_[route_index])];
  calls_.fetch_add(1, std::memory_order_relaxed);
  if (counters_ != nullptr) counters_->add(s.calls);
  if (!s.source) {
    answer.error = s.read_error;
    failed(s, s.errors, answer.error);
    return answer;
  }

  script::ScriptMessage msg;
  msg.source_addr = m.source_addr;
  msg.source_addr_ton = m.source_addr_ton;
  msg.destination_addr = m.destination_addr;
  msg.dest_addr_ton = m.dest_addr_ton;
  msg.service_type = m.service_type;
  std::optional<std::string> text;
  if (m.message != nullptr) {
    const smpp::Pdu& pdu = *m.message;
    if (const auto* sm = pdu.as<smpp::SubmitSm>()) sm_fields(*sm, msg);
    if (const auto* sm = pdu.as<smpp::SubmitMulti>()) sm_fields(*sm, msg);
    if (const auto* dm = pdu.as<smpp::DataSm>()) sm_fields(*dm, msg);
    text = message_text(pdu);
    if (auto concat = message_concat(pdu)) msg.parts = concat->total;
  }
  if (text) msg.text = *text;

  script::ScriptContext ctx;
  ctx.client_id = m.client;
  if (auto it = clients_.find(m.client); it != clients_.end()) {
    ctx.client_tier = it->second.tier;
    ctx.client_tags = it->second.tags;
  } else if (m.client_settings != nullptr) {
    ctx.client_tier = m.client_settings->tier;
    ctx.client_tags = m.client_settings->tags.empty() ? nullptr : &m.client_settings->tags;
  }
  thread_local std::vector<script::ScriptUpstream> upstreams;
  upstreams.clear();
  for (const Upstream& u : upstreams_) {
    upstreams.push_back({u.name, health_ ? health_(u.name) : true, u.tags});
  }
  ctx.upstreams = upstreams;
  if (m.mnp != nullptr) ctx.mnp = script::ScriptMnp{m.mnp->mcc, m.mnp->mnc, m.mnp->is_ported};
  ctx.now = now;

  script::ScriptDecision d = state_for(*s.source).route(*s.source, msg, ctx);
  if (d.target) {
    answer.target = std::move(d.target);
  } else if (d.error) {
    answer.error = std::move(*d.error);
    failed(s, d.budget_exceeded ? s.overruns : s.errors, answer.error);
  }
  return answer;
}

void RouteScripts::unknown_target(std::size_t route_index, std::string_view target) const {
  if (route_index >= by_route_.size() || by_route_[route_index] < 0) return;
  const Script& s = scripts_[static_cast<std::size_t>(by_route_[route_index])];
  failed(s, s.unknown,
         "returned '" + std::string(target) + "', which is no route with an upstream and no upstream");
}

std::optional<std::string> check_route_script(const std::string& path, const std::string& code) {
  return script::check_script(*script::ScriptSource::from_string(path, code));
}

}  // namespace smppd::gateway
