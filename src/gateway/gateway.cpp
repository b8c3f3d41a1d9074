#include "gateway/gateway.hpp"

#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include <array>
#include <cassert>

#include "core/log.hpp"
#include "core/log_aggregate.hpp"
#include "gateway/store_forward.hpp"
#include "smpp/receipt.hpp"
#include "smpp/segment.hpp"
#include "smpp/split.hpp"
#include "smpp/status.hpp"

namespace smppd::gateway {

namespace st = smpp::status;
using smpp::CommandId;

namespace {

// The message id a query_sm / cancel_sm / replace_sm names, as a mutable field.
smpp::MessageId* named_message_id(smpp::Pdu& pdu) {
  if (auto* m = pdu.as<smpp::QuerySm>()) return &m->message_id;
  if (auto* m = pdu.as<smpp::CancelSm>()) return &m->message_id;
  if (auto* m = pdu.as<smpp::ReplaceSm>()) return &m->message_id;
  return nullptr;
}

// A final receipt's err: as a number (0 when delivered, absent or not a number).
uint32_t receipt_error(const smpp::Pdu& pdu, smpp::MessageState state) {
  if (state == smpp::MessageState::delivered || !smpp::is_final(state)) return 0;
  std::optional<smpp::Receipt> r;
  if (const auto* d = pdu.as<smpp::DeliverSm>()) r = smpp::parse_receipt(*d);
  if (const auto* d = pdu.as<smpp::DataSm>()) r = smpp::parse_receipt(*d);
  if (!r) return 0;
  uint32_t n = 0;
  for (char c : r->err) {
    if (c < '0' || c > '9' || n > 100'000'000) return n;
    n = n * 10 + static_cast<uint32_t>(c - '0');
  }
  return n;
}

// The client's address, for ip_hash balancing.
uint64_t ip_key(const session::tcp::endpoint& remote) {
  const auto a = remote.address();
  if (a.is_v4()) return a.to_v4().to_uint();
  uint64_t h = 0;
  for (uint8_t b : a.to_v6().to_bytes()) h = h * 131 + b;
  return h;
}

// Lines a peer can make smppd write at will (log_aggregate.hpp): one per interval and a count.
struct PeerLines {
  log::Aggregated no_route{log::Level::info, "messages without a route"};
  log::Aggregated upstream_down{log::Level::warn, "messages to an upstream that is not running"};
  log::Aggregated outcome_unknown{log::Level::warn, "messages whose outcome is unknown"};
  log::Aggregated late_response{log::Level::warn, "late responses"};
  log::Aggregated receipt_without_id{log::Level::warn, "receipts without a message id"};
  log::Aggregated receipt_unmatched{log::Level::warn, "receipts matching no message"};
  log::Aggregated receipt_queue_full{log::Level::warn,
                                     "deliveries refused for a full client queue"};
  log::Aggregated receipt_dropped{log::Level::error, "receipts dropped"};
  log::Aggregated mo_unrouted{log::Level::warn, "MO messages without a mo_route"};
  log::Aggregated throttled{log::Level::info, "messages beyond a client's rate_limit"};
  log::Aggregated filtered{log::Level::info, "messages refused by the middleware"};
  log::Aggregated transform_skipped{log::Level::info, "transform rules not applied"};
  log::Aggregated part_refused{log::Level::warn, "parts refused for a full reassembly buffer"};
  log::Aggregated parts_given_up{log::Level::warn, "long messages given up with parts missing"};
};
PeerLines& peer_lines() {
  static PeerLines lines;
  return lines;
}

// On the client session's thread: at once when already there (the upstream connection runs on
// the same worker), else posted.
void respond_on(const std::weak_ptr<session::Session>& ws, asio::any_io_executor ex,
                smpp::Pdu out) {
  asio::dispatch(ex, [ws, out = std::move(out)]() mutable {
    if (auto s = ws.lock()) s->respond(out);
  });
}

void respond_to_session(void* target, smpp::Pdu& response) {
  static_cast<session::Session*>(target)->respond(response);
}

}  // namespace

std::optional<smpp::ConcatInfo> message_concat(const smpp::Pdu& pdu) {
  std::optional<smpp::ConcatInfo> concat;
  if (const auto* m = pdu.as<smpp::SubmitSm>()) {
    if (m->esm_class & 0x40) concat = smpp::parse_udh(m->short_message.bytes()).concat;
    if (!concat) concat = smpp::sar_concat(m->tlvs);
  } else if (const auto* d = pdu.as<smpp::DataSm>()) {
    concat = smpp::sar_concat(d->tlvs);
  }
  return concat;
}

uint64_t message_parts_key(const smpp::Pdu& pdu, const std::optional<smpp::ConcatInfo>& concat,
                           std::string_view client) {
  std::string_view destination;
  if (const auto* m = pdu.as<smpp::SubmitSm>()) destination = m->destination_addr.view();
  if (const auto* d = pdu.as<smpp::DataSm>()) destination = d->destination_addr.view();
  if (!concat || concat->total < 2) return 0;
  uint64_t h = std::hash<std::string_view>{}(client);
  h = h * 31 + std::hash<std::string_view>{}(destination);
  h = h * 31 + concat->reference;
  h = h * 31 + concat->total;
  return h == 0 ? 1 : h;
}

namespace {
// The routing facts of a message from a client.
template <class Sm>
void sm_facts(const Sm& m, router::MessageFacts& f) {
  f.destination_addr = m.destination_addr.view();
  f.dest_addr_ton = m.dest_addr_ton;
  f.source_addr = m.source_addr.view();
  f.source_addr_ton = m.source_addr_ton;
  f.service_type = m.service_type.view();
}
}  // namespace

std::optional<std::string_view> mnp_number(std::string_view destination) {
  std::string_view digits = destination;
  if (digits.starts_with('+')) digits.remove_prefix(1);
  // No E.164 country code starts with 0: "0821234567" is a national number.
  if (digits.empty() || digits.size() > 15 || digits.front() == '0') return std::nullopt;
  for (char c : digits) {
    if (c < '0' || c > '9') return std::nullopt;
  }
  return destination;
}

bool message_facts(const smpp::Pdu& pdu, router::MessageFacts& f) {
  if (const auto* m = pdu.as<smpp::SubmitSm>()) {
    sm_facts(*m, f);
    return true;
  }
  if (const auto* m = pdu.as<smpp::DataSm>()) {
    sm_facts(*m, f);
    return true;
  }
  if (const auto* m = pdu.as<smpp::SubmitMulti>()) {
    // One route for the whole submit_multi: the first SME destination decides.
    for (const auto& d : m->destinations) {
      if (d.dest_flag == smpp::DestAddress::kSmeAddress) {
        f.destination_addr = d.address.view();
        f.dest_addr_ton = d.dest_addr_ton;
        break;
      }
    }
    f.source_addr = m->source_addr.view();
    f.source_addr_ton = m->source_addr_ton;
    f.service_type = m->service_type.view();
    return true;
  }
  return false;
}

std::string_view response_message_id(const smpp::Pdu& resp) {
  if (const auto* r = resp.as<smpp::SubmitSmResp>()) return r->message_id.view();
  if (const auto* r = resp.as<smpp::DataSmResp>()) return r->message_id.view();
  if (const auto* r = resp.as<smpp::SubmitMultiResp>()) return r->message_id.view();
  return {};
}

void set_response_message_id(smpp::Pdu& out, std::string_view id) {
  if (auto* r = out.as<smpp::SubmitSmResp>()) r->message_id.assign(id);
  if (auto* r = out.as<smpp::DataSmResp>()) r->message_id.assign(id);
  if (auto* r = out.as<smpp::SubmitMultiResp>()) r->message_id.assign(id);
}

Origin Origin::of(session::Session& s) {
  return Origin{s.weak_from_this(), &respond_to_session, s.executor(), s.version()};
}

Gateway::Gateway(std::shared_ptr<const config::Config> config, Counters& counters,
                 std::size_t max_held_receipts, store::Store* store, tracing::Tracer* tracer)
    : config_(std::move(config)),
      counters_(counters),
      metrics_(counters, config_->clients),
      clients_(store != nullptr ? StoreForward::kClientQueue : kClientQueue),
      max_held_receipts_(max_held_receipts),
      store_(store),
      tracer_(tracer != nullptr && tracer->enabled() ? tracer : nullptr),
      parts_upstreams_(config_->multipart.reassembly_timeout) {
  static std::atomic<uint64_t> next_gateway{1};
  auto first = std::make_shared<Snapshot>();
  first->config = config_;
  first->router = std::make_shared<const router::Router>(*config_);
  first->mo_router = std::make_shared<const router::MoRouter>(*config_);
  first->chain = std::make_shared<const middleware::Chain>(*config_);
  first->scripts = make_scripts(config_, *first->router);
  snapshot_ = std::move(first);
  stamp_.store(next_gateway.fetch_add(1) << 32 | 1);
  client_limits_.configure(config_->clients);
  if (config_->multipart.reassembly_enabled) {
    joiner_ = std::make_unique<PartJoiner>(config_->multipart);
  }
}

Gateway::~Gateway() = default;

std::shared_ptr<const RouteScripts> Gateway::make_scripts(
    std::shared_ptr<const config::Config> config, const router::Router& router) {
  if (!router.has_scripts()) return nullptr;
  // Health as the current snapshot has it, by name (a script may be called while a reload
  // replaces the pools).
  return std::make_shared<const RouteScripts>(std::move(config), &counters_,
                                              [this](std::string_view name) {
                                                const UpstreamEntry* e = upstream_entry(name);
                                                return e != nullptr && e->pool->healthy();
                                              });
}

const Gateway::Snapshot& Gateway::now() const {
  struct Seen {
    uint64_t stamp = 0;
    const Snapshot* snapshot = nullptr;
  };
  thread_local Seen seen;
  if (seen.stamp == stamp_.load(std::memory_order_acquire)) return *seen.snapshot;
  std::lock_guard lock(snapshot_mutex_);
  seen = Seen{stamp_.load(std::memory_order_relaxed), snapshot_.get()};
  return *seen.snapshot;
}

std::shared_ptr<const config::Config> Gateway::config() const {
  std::lock_guard lock(snapshot_mutex_);
  return snapshot_->config;
}

std::shared_ptr<upstream::Pool> Gateway::make_pool(
    const config::UpstreamConfig& u, const std::map<std::string, config::HostPort>& simulators) {
  std::vector<config::HostConfig> hosts;
  if (u.type == config::UpstreamType::simulator) {
    auto it = simulators.find(u.name);
    if (it == simulators.end()) return nullptr;
    config::HostConfig h;
    h.address = it->second;
    hosts.push_back(h);
  }
  auto pool = std::make_shared<upstream::Pool>(u, executors_, *this, counters_, hosts);
  // The multipart section changes only with a restart: the one smppd started with.
  pool->set_multipart(config_->multipart);
  return pool;
}

void Gateway::start(std::vector<asio::any_io_executor> executors,
                    const std::map<std::string, config::HostPort>& simulators) {
  executors_ = executors;
  auto first = std::make_shared<Snapshot>(*snapshot_);
  for (const auto& u : config_->upstreams) {
    auto pool = make_pool(u, simulators);
    if (!pool) continue;
    auto entry = std::make_shared<UpstreamEntry>();
    entry->pool = pool;
    entry->index = messages_.upstream_index(u.name);
    if (first->by_index.size() <= entry->index) first->by_index.resize(entry->index + 1, nullptr);
    first->by_index[entry->index] = entry.get();
    first->upstreams.emplace(u.name, std::move(entry));
    pool->start();
  }
  {
    std::lock_guard lock(snapshot_mutex_);
    snapshot_ = std::move(first);
    stamp_.fetch_add(1);
  }
  if (store_ != nullptr) {
    spool_ = std::make_unique<StoreForward>(*this, *store_, *config_, counters_);
    clients_.on_stored_done(
        [this](std::string_view client, uint64_t seq) { spool_->delivered(client, seq); });
    ids_.above(spool_->start(executors_));
  }
  if (joiner_ != nullptr && !executors_.empty()) {
    part_timer_ = std::make_shared<asio::steady_timer>(executors_[0]);
    const auto period = std::clamp<std::chrono::milliseconds>(
        joiner_->timeout() / 5, std::chrono::milliseconds(50), std::chrono::seconds(1));
    asio::post(executors_[0], [this, period] { arm_part_timer(period); });
  }
}

void Gateway::stop(session::Duration grace) {
  stopping_.store(true);
  {
    std::lock_guard lock(held_mutex_);
    // A timer is not thread safe: each is cancelled on its own executor.
    for (auto& w : held_) {
      if (auto t = w.lock()) asio::post(t->get_executor(), [t] { t->cancel(); });
    }
    held_.clear();
  }
  if (part_timer_) asio::post(part_timer_->get_executor(), [t = part_timer_] { t->cancel(); });
  if (joiner_ != nullptr) {
    for (const GivenUp& m : joiner_->drain()) {
      give_up(m, smpp::MessageState::undeliverable, 0, "stopping");
    }
  }
  if (spool_) spool_->stop();
  std::shared_ptr<const Snapshot> last;
  {
    std::lock_guard lock(snapshot_mutex_);
    last = snapshot_;
  }
  for (auto& [name, entry] : last->upstreams) entry->pool->stop(grace);
}

std::vector<upstream::Pool*> Gateway::pools() const {
  std::shared_ptr<const Snapshot> s;
  {
    std::lock_guard lock(snapshot_mutex_);
    s = snapshot_;
  }
  std::vector<upstream::Pool*> out;
  for (const auto& u : s->config->upstreams) {
    if (auto it = s->upstreams.find(u.name); it != s->upstreams.end()) {
      out.push_back(it->second->pool.get());
    }
  }
  return out;
}

upstream::Pool* Gateway::pool(std::string_view name) {
  const Snapshot& s = now();
  auto it = s.upstreams.find(name);
  return it == s.upstreams.end() ? nullptr : it->second->pool.get();
}

Gateway::UpstreamEntry* Gateway::upstream_entry(std::string_view name) {
  const Snapshot& s = now();
  auto it = s.upstreams.find(name);
  return it == s.upstreams.end() ? nullptr : it->second.get();
}

std::string Gateway::upstream_name(uint32_t index) {
  const upstream::Pool* p = pool_at(index);
  return p != nullptr ? std::string(p->name()) : std::string();
}

upstream::Pool* Gateway::pool_at(uint32_t index) {
  const Snapshot& s = now();
  return index < s.by_index.size() && s.by_index[index] != nullptr ? s.by_index[index]->pool.get()
                                                                   : nullptr;
}

Gateway::Changes Gateway::reconfigure(std::shared_ptr<const config::Config> next,
                                      const std::map<std::string, config::HostPort>& simulators,
                                      session::Duration grace) {
  Changes changes;
  std::shared_ptr<const Snapshot> current;
  {
    std::lock_guard lock(snapshot_mutex_);
    current = snapshot_;
  }
  auto fresh = std::make_shared<Snapshot>();
  fresh->router = std::make_shared<const router::Router>(*next);
  fresh->mo_router = std::make_shared<const router::MoRouter>(*next);
  fresh->chain = std::make_shared<const middleware::Chain>(*next);
  fresh->scripts = make_scripts(next, *fresh->router);
  if (current->config->routes != next->routes) changes.applied.push_back("routes");
  // The scripts' files are read again whether or not the routes naming them changed.
  if (fresh->scripts) changes.applied.push_back("route scripts read again");
  if (current->config->mo_routes != next->mo_routes) changes.applied.push_back("mo_routes");
  if (current->config->middleware != next->middleware) changes.applied.push_back("middleware");
  metrics_.add_clients(next->clients);
  client_limits_.configure(next->clients);

  // Upstreams. The configuration in effect keeps the upstreams that could not change, as they
  // were: it is `next` with those put back.
  auto effective = std::make_shared<config::Config>(*next);
  std::vector<std::shared_ptr<upstream::Pool>> to_start;
  std::vector<std::pair<std::shared_ptr<upstream::Pool>, std::shared_ptr<upstream::Pool>>> to_replace;
  std::vector<std::shared_ptr<upstream::Pool>> to_drain;
  auto keep = [&](const std::string& name) {
    auto it = current->upstreams.find(name);
    if (it != current->upstreams.end()) fresh->upstreams.emplace(name, it->second);
  };
  auto restore = [&](const std::string& name, std::string why) {
    changes.restart_needed.push_back("upstream " + name + ": " + std::move(why));
    const config::UpstreamConfig* old = current->config->find_upstream(name);
    auto& list = effective->upstreams;
    auto it = std::find_if(list.begin(), list.end(), [&](const auto& u) { return u.name == name; });
    if (old != nullptr && it != list.end()) {
      *it = *old;
    } else if (old != nullptr) {
      list.push_back(*old);
    } else if (it != list.end()) {
      list.erase(it);
    }
    keep(name);
  };
  for (const auto& u : next->upstreams) {
    const config::UpstreamConfig* old = current->config->find_upstream(u.name);
    const bool running = current->upstreams.count(u.name) > 0;
    if (old != nullptr && *old == u && (running || u.type == config::UpstreamType::simulator)) {
      keep(u.name);
      continue;
    }
    if (u.type == config::UpstreamType::simulator || (old != nullptr &&
                                                      old->type == config::UpstreamType::simulator)) {
      restore(u.name, "a built-in simulator changes only with a restart");
      continue;
    }
    auto pool = make_pool(u, simulators);
    auto entry = std::make_shared<UpstreamEntry>();
    entry->pool = pool;
    entry->index = messages_.upstream_index(u.name);
    // With storage, its stored messages go to the new pool from now on (before any route can
    // name an added one).
    if (spool_ && !spool_->set_upstream(u.name, pool.get(), entry->index)) {
      restore(u.name, "too many upstreams since start for the store's table");
      continue;
    }
    if (running) {
      const auto& before = current->upstreams.at(u.name);
      entry->id_mode.store(before->id_mode.load());
      to_replace.emplace_back(before->pool, pool);
      changes.applied.push_back("upstream " + u.name + " changed");
    } else {
      to_start.push_back(pool);
      changes.applied.push_back("upstream " + u.name + " added");
    }
    fresh->upstreams.emplace(u.name, std::move(entry));
  }
  for (const auto& [name, entry] : current->upstreams) {
    if (next->find_upstream(name) != nullptr) continue;
    to_drain.push_back(entry->pool);
    changes.applied.push_back(
        "upstream " + name + " removed" +
        (spool_ ? " (messages stored for it wait on disk until it is configured again)" : ""));
  }
  for (const auto& [name, entry] : fresh->upstreams) {
    if (fresh->by_index.size() <= entry->index) fresh->by_index.resize(entry->index + 1, nullptr);
    fresh->by_index[entry->index] = entry.get();
  }
  fresh->config = effective;
  // New pools start before they are seen; replaced ones hand their queue over once the new
  // snapshot is in place (nothing new reaches them after that).
  for (auto& p : to_start) p->start();
  for (auto& [old, pool] : to_replace) pool->start();
  {
    std::lock_guard lock(snapshot_mutex_);
    const auto now_time = std::chrono::steady_clock::now();
    std::erase_if(retired_snapshots_,
                  [&](const auto& r) { return now_time - r.first > kSnapshotLinger; });
    retired_snapshots_.emplace_back(now_time, snapshot_);
    snapshot_ = fresh;
    stamp_.fetch_add(1);
  }
  for (auto& [old, pool] : to_replace) {
    old->stop(grace, pool.get());
    retired_pools_.push_back(old);
  }
  for (auto& old : to_drain) {
    old->stop(grace);
    retired_pools_.push_back(old);
  }
  return changes;
}

void Gateway::client_bound(session::Session& s, ClientState& state) {
  state.system_id = s.system_id();
  if (state.external) {
    state.client_index = metrics_.external_client_index(state.system_id);
    state.limit = client_limits_.external(state.external);
  } else {
    state.client_index = metrics_.client_index(state.system_id);
    state.limit = client_limits_.find(state.system_id);
  }
  if (state.limit && state.limit->window->limit.load(std::memory_order_relaxed) > 0) {
    s.share_window(state.limit->window);
  }
  state.receives =
      s.state() == session::BindState::bound_rx || s.state() == session::BindState::bound_trx;
  if (state.receives) {
    clients_.add_receiver(s.shared_from_this(), state);
    if (spool_) spool_->client_bound(state.system_id);
  }
}

void Gateway::client_closed(session::Session& s, ClientState& state) {
  if (state.receives) clients_.remove_receiver(s, state);
}

void Gateway::client_window_open(ClientState& state) {
  if (state.receives) clients_.window_open(state);
}

void Gateway::client_response(session::Session& s, ClientState& state, uint64_t cookie,
                              session::Outcome outcome, const smpp::Pdu* response) {
  clients_.delivery_outcome(s, state, cookie, outcome, response);
}

void Gateway::client_request(session::Session& s, ClientState& state, smpp::Pdu& request) {
  const CommandId cmd = request.command_id();
  switch (cmd) {
    case CommandId::submit_sm:
    case CommandId::data_sm:
    case CommandId::submit_multi:
      forward(Origin::of(s),
              ClientRef{state.system_id, state.client_index, state.limit.get(), state.external},
              request, ip_key(s.remote()));
      return;
    case CommandId::query_sm:
    case CommandId::cancel_sm:
    case CommandId::replace_sm:
      break;
    default: {
      smpp::Pdu r = smpp::make_response(cmd, request.sequence_number, st::ESME_RINVCMDID);
      s.respond(r);
      return;
    }
  }
  ask_upstream(s, state, request);
}

void Gateway::ask_upstream(session::Session& s, ClientState& state, smpp::Pdu& request) {
  // query_sm, cancel_sm, replace_sm: to the upstream that took the message, with its id; a
  // client reaches only its own messages.
  const CommandId cmd = request.command_id();
  smpp::MessageId* field = named_message_id(request);
  const uint32_t not_found = cmd == CommandId::query_sm    ? st::ESME_RQUERYFAIL
                             : cmd == CommandId::cancel_sm ? st::ESME_RCANCELFAIL
                                                           : st::ESME_RREPLACEFAIL;
  std::optional<MessageRecord> record;
  const std::optional<uint64_t> id = parse_message_id(field->view(), s.version());
  if (id) record = messages_.find_by_id(*id);
  if (spool_ && id && cmd == CommandId::query_sm) {
    // From the store: answered there when final or not sent yet; else the SMSC is asked.
    StoreForward::Query q = spool_->query(state.system_id, *id, request, s.version());
    if (q.answer) {
      s.respond(*q.answer);
      return;
    }
    if (q.smsc_id.empty()) {
      smpp::Pdu r = smpp::make_response(cmd, request.sequence_number, q.status);
      s.respond(r);
      return;
    }
    if (!record) {
      MessageRecord r;
      r.id = *id;
      r.client.assign(state.system_id);
      r.client_index = state.client_index;
      r.smsc_id.assign(q.smsc_id);
      if (const UpstreamEntry* e = upstream_entry(q.upstream)) r.upstream = e->index;
      record = r;
    }
  }
  upstream::Pool* target = record ? pool_at(record->upstream) : nullptr;
  if (!record || record->client.view() != state.system_id || target == nullptr) {
    smpp::Pdu r =
        smpp::make_response(cmd, request.sequence_number, record ? not_found : st::ESME_RINVMSGID);
    s.respond(r);
    return;
  }
  const std::string client_id(field->view());
  field->assign(record->smsc_id);
  const uint32_t seq = request.sequence_number;
  target->submit(std::move(request),
                 [ws = s.weak_from_this(), ex = s.executor(), seq, cmd, client_id](
                     upstream::Result r, smpp::Pdu* resp, std::string_view) {
                   if (r == upstream::Result::late_response || r == upstream::Result::part) {
                     return;  // answered already
                   }
                   smpp::Pdu out;
                   if (r == upstream::Result::response && resp != nullptr) {
                     out = std::move(*resp);
                     out.sequence_number = seq;
                     if (auto* q = out.as<smpp::QuerySmResp>()) q->message_id.assign(client_id);
                   } else {
                     out = smpp::make_response(cmd, seq, st::ESME_RSYSERR);
                   }
                   respond_on(ws, ex, std::move(out));
                 });
}

void Gateway::log_message(config::LogLevel level, std::string_view client, CommandId cmd,
                          const router::MessageFacts& f,
                          const std::optional<middleware::Rejection>& rejection) {
  // The logger middleware: a line per message, at its level.
  const std::string text = fmt::format(
      "client {}: {} from '{}' to '{}' service_type '{}'{}{}", client, smpp::command_name(cmd),
      f.source_addr, f.destination_addr, f.service_type, rejection ? ": refused by " : "",
      rejection ? std::string(rejection->filter) + " (" + rejection->rule + ")" : "");
  switch (level) {
    case config::LogLevel::debug:
      log::debug("{}", text);
      break;
    case config::LogLevel::info:
      log::info("{}", text);
      break;
    case config::LogLevel::warn:
      log::warn("{}", text);
      break;
    case config::LogLevel::error:
      log::error("{}", text);
      break;
  }
}

Gateway::FaceClient Gateway::face_client(std::string_view system_id) {
  FaceClient c;
  c.system_id = system_id;
  c.client_index = metrics_.client_index(system_id);
  c.limit = client_limits_.find(system_id);
  return c;
}

Gateway::FaceClient Gateway::face_client(std::shared_ptr<const config::ClientConfig> settings) {
  FaceClient c;
  c.system_id = settings->system_id;
  c.client_index = metrics_.external_client_index(c.system_id);
  c.limit = client_limits_.external(settings);
  c.external = std::move(settings);
  return c;
}

void Gateway::submit(Origin origin, const ClientRef& client, smpp::Pdu& request,
                     uint64_t ip_key, const tracing::SpanContext* parent,
                     std::shared_ptr<const CallbackSpec> callback) {
  forward(std::move(origin), client, request, ip_key, parent, std::move(callback), true);
}

void Gateway::submit_outcome(uint64_t id, std::string_view client, uint8_t client_version,
                             uint32_t status, std::string_view smsc_id,
                             std::string_view upstream) {
  if (callbacks_.empty() || callback_events_ == nullptr) return;
  std::shared_ptr<const CallbackSpec> spec = callbacks_.find(id);
  if (!spec) return;
  callback_events_->submit_outcome(
      SubmitOutcome{id, client, client_version, status, smsc_id, upstream, std::move(spec)});
}

struct Gateway::AwaitingNumber {
  Origin origin;
  std::string system_id;  // the ClientRef's view does not outlive forward()
  uint16_t client_index = 0xFFFF;
  std::shared_ptr<const config::ClientConfig> external;
  smpp::Pdu request;
  uint64_t ip_key = 0;
  MessageTrace traced;
  std::shared_ptr<const CallbackSpec> callback;
  std::vector<smpp::SubmitSm> more_parts;
  Joined joined;
};

void Gateway::forward(Origin origin, const ClientRef& client, smpp::Pdu& request,
                      uint64_t ip_key, const tracing::SpanContext* parent,
                      std::shared_ptr<const CallbackSpec> callback, bool from_face) {
  const CommandId cmd = request.command_id();
  const uint32_t seq = request.sequence_number;
  if (client.limit != nullptr && client.limit->rate.limited() &&
      !client.limit->rate.try_take(std::chrono::steady_clock::now())) {
    // Beyond the client's messages_per_second (across all its sessions): it sends again later.
    peer_lines().throttled("client {}: {} beyond its rate_limit: ESME_RTHROTTLED", client.system_id,
                           smpp::command_name(cmd));
    origin.answer(smpp::make_response(cmd, seq, st::ESME_RTHROTTLED));
    return;
  }
  const Snapshot& snap = now();
  // A part of a long message the middleware or the routes must see whole: held until its
  // message is whole, which then goes on in its place.
  Joined joined;
  if (joiner_ != nullptr && cmd == CommandId::submit_sm && !from_face) {
    // (A reload may stop needing messages whole: the parts of those being joined still are.)
    const bool whole = needs_whole(snap);
    if ((whole || joiner_->busy()) && !join_part(origin, client, request, joined, whole)) return;
  }
  router::MessageFacts facts;
  message_facts(request, facts);
  facts.client = client.system_id;
  facts.client_settings = client.external.get();
  // A trace per message, or the request's own; spans only for sampled ones (no clock read
  // otherwise).
  const tracing::SpanContext trace = tracer_ == nullptr ? tracing::SpanContext{}
                                     : parent != nullptr ? tracer_->continue_trace(*parent)
                                                         : tracer_->new_trace();
  const tracing::SpanId parent_span =
      parent != nullptr && parent->valid() ? parent->span_id : tracing::SpanId{};
  const uint64_t received_at = trace.sampled() ? tracing::now_unix_nanos() : 0;
  const MessageTrace traced{trace, parent_span, received_at};
  // A message the chain turned into several parts (a transform that lengthened its text): the
  // request is the first; the pool sends the others after it on the same connection, and the
  // client gets one response (upstream::Pool::submit).
  std::vector<smpp::SubmitSm> more_parts;
  if (!snap.chain->empty()) {
    // The middleware, in the configuration's order: a filter may refuse the message here, or
    // rewrite it (routing then sees what it became). Store and forward keeps one PDU per
    // message: a text that outgrows one part goes in message_payload there.
    const middleware::MessageContext context{origin.version, spool_ == nullptr};
    middleware::Verdict v = snap.chain->run(request, client.system_id, context);
    if (v.log_level) log_message(*v.log_level, client.system_id, cmd, facts, v.rejection);
    for (const auto& skip : v.rewrite.skipped) {
      peer_lines().transform_skipped(
          "client {}: transform {} not applied to a {}: {}", client.system_id, skip.rule,
          smpp::command_name(cmd),
          skip.reason == "part"     ? "it is one part of a concatenated message (not reassembled)"
          : skip.reason == "udh"    ? "its text follows a user data header"
          : skip.reason == "binary" ? "its data_coding is not text"
          : skip.reason == "submit_multi" ? "the rule is about one destination"
                                          : "its text does not decode");
      counters_.add("smppd_transform_skipped_total",
                    {{"client", client.system_id}, {"rule", skip.rule}, {"reason", skip.reason}});
    }
    if (v.rejection) {
      const middleware::Rejection& r = *v.rejection;
      peer_lines().filtered("client {}: {} refused by {} ({}: '{}'): {}", client.system_id,
                            smpp::command_name(cmd), r.filter, r.rule, r.address,
                            smpp::status_name(r.command_status));
      counters_.add("smppd_middleware_rejections_total",
                    {{"client", client.system_id}, {"filter", r.filter}, {"rule", r.rule}});
      counters_.add("smppd_messages_rejected_total",
                    {{"client", client.system_id}, {"reason", r.filter}});
      origin.answer(smpp::make_response(cmd, seq, r.command_status));
      return;
    }
    more_parts = std::move(v.rewrite.more_parts);
    facts = {};
    message_facts(request, facts);  // its views point into the rewritten request
    facts.client = client.system_id;
    facts.client_settings = client.external.get();
  }
  // Routes by mcc, mnc or is_ported need the destination's MNP answer: a remembered one at
  // once; else the message waits for the lookup off this thread (in its client's window, like
  // any message in flight) and goes on from the routing step when the answer comes. A
  // destination that is not a number has no answer: those routes do not match it.
  std::optional<NumberAnswer> answer;
  router::MnpFacts mnp;
  // Route scripts get the answer in ctx.mnp: with lookups on, their messages are looked up too.
  if (number_lookup_ != nullptr && (snap.router->needs_mnp() || snap.router->has_scripts())) {
    if (const std::optional<std::string_view> number = mnp_number(facts.destination_addr)) {
      answer = number_lookup_->cached(*number);
      if (!answer) {
        const std::string digits(*number);  // a view into the request, which moves
        auto waiting = std::make_shared<AwaitingNumber>(
            AwaitingNumber{std::move(origin), std::string(client.system_id), client.client_index,
                           client.external,
                           std::move(request), ip_key, traced, std::move(callback),
                           std::move(more_parts), joined});
        awaiting_number_.fetch_add(1, std::memory_order_relaxed);
        number_lookup_->lookup(digits, [this, waiting](NumberAnswer a) {
          const asio::any_io_executor ex = waiting->origin.executor;
          asio::post(ex, [this, waiting, a = std::move(a)] { number_answered(*waiting, a); });
        });
        return;
      }
      mnp = router::MnpFacts{answer->mcc, answer->mnc, answer->is_ported};
      facts.mnp = &mnp;
    }
  }
  route_message(snap, std::move(origin), client, request, facts, ip_key, traced,
                std::move(callback), std::move(more_parts), joined);
}

void Gateway::number_answered(AwaitingNumber& m, const NumberAnswer& answer) {
  awaiting_number_.fetch_sub(1, std::memory_order_relaxed);
  if (stopping_.load()) {
    // The lookups are answered (as fallbacks) when smppd stops; the pools take no more.
    counters_.add("smppd_messages_rejected_total",
                  {{"client", m.system_id}, {"reason", "stopping"}});
    m.origin.answer(
        smpp::make_response(m.request.command_id(), m.request.sequence_number, st::ESME_RSYSERR));
    return;
  }
  router::MessageFacts facts;
  message_facts(m.request, facts);
  facts.client = m.system_id;
  facts.client_settings = m.external.get();
  const router::MnpFacts mnp{answer.mcc, answer.mnc, answer.is_ported};
  facts.mnp = &mnp;
  // The routes in effect now (a reload may have come meanwhile).
  route_message(now(), std::move(m.origin),
                ClientRef{m.system_id, m.client_index, nullptr, m.external},
                m.request, facts, m.ip_key, m.traced, std::move(m.callback),
                std::move(m.more_parts), m.joined);
}

bool Gateway::needs_whole(const Snapshot& snap) const {
  return snap.scripts != nullptr || snap.chain->about_text();
}

namespace {

// The answer of a message joined from parts, on its way to the client: when it is a refusal,
// the parts answered before it are told too (Gateway::give_up). It owns itself until that
// one answer (the gateway answers every message exactly once).
struct JoinedOrigin {
  Gateway* gateway;
  Origin inner;
  GivenUp earlier;
  std::shared_ptr<JoinedOrigin> self;
  void (*refused)(Gateway&, const GivenUp&, uint32_t status);
};

void respond_joined(void* target, smpp::Pdu& response) {
  auto* j = static_cast<JoinedOrigin*>(target);
  const std::shared_ptr<JoinedOrigin> keep = std::move(j->self);
  const uint32_t status = response.command_status;
  if (status != st::ESME_ROK) {
    j->refused(*j->gateway, j->earlier, status);
    // "Try again later" would have the client send this part again, alone: held as the start
    // of a message whose other parts never come. The message is refused for good instead (the
    // held parts' receipts carry the reason).
    if (status == st::ESME_RMSGQFUL || status == st::ESME_RTHROTTLED ||
        status == st::ESME_RX_T_APPN || status == st::ESME_RSYSERR) {
      response.command_status = st::ESME_RSUBMITFAIL;
    }
  }
  j->inner.answer_here(response);
}

int64_t unix_seconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

bool Gateway::join_part(Origin& origin, const ClientRef& client, smpp::Pdu& request,
                        Joined& joined, bool start_new) {
  const std::optional<smpp::ConcatInfo> concat = message_concat(request);
  // (Stopping: nothing is held that could not be given up.)
  if (!concat || concat->total < 2 || stopping_.load()) return true;
  const uint32_t seq = request.sequence_number;
  const uint64_t id = ids_.next();
  PartJoiner::Result r = joiner_->add(client.system_id, origin.version, request, id,
                                      std::chrono::steady_clock::now(), unix_seconds(), start_new);
  switch (r.kind) {
    case PartJoiner::Kind::pass:
      counters_.add("smppd_reassembly_parts_total",
                    {{"client", client.system_id}, {"outcome", "passed"}});
      return true;
    case PartJoiner::Kind::held:
    case PartJoiner::Kind::duplicate: {
      // Answered now: a client that waits for each answer before its next part must get one.
      counters_.add("smppd_reassembly_parts_total",
                    {{"client", client.system_id},
                     {"outcome", r.kind == PartJoiner::Kind::held ? "held" : "duplicate"}});
      smpp::Pdu out = smpp::make_response(CommandId::submit_sm, seq, st::ESME_ROK);
      set_response_message_id(out, render_message_id(id, origin.version));
      origin.answer(std::move(out));
      return false;
    }
    case PartJoiner::Kind::refused:
      peer_lines().part_refused(
          "client {}: part {} of {} refused ESME_RMSGQFUL: {} (multipart.reassembly)",
          client.system_id, concat->seq, concat->total, smpp::to_string(r.reason));
      counters_.add("smppd_reassembly_parts_total",
                    {{"client", client.system_id}, {"outcome", "refused"}});
      origin.answer(smpp::make_response(CommandId::submit_sm, seq, st::ESME_RMSGQFUL));
      return false;
    case PartJoiner::Kind::whole:
      break;
  }
  counters_.add("smppd_reassembly_parts_total",
                {{"client", client.system_id}, {"outcome", "completed"}});
  counters_.add("smppd_messages_reassembled_total", {{"client", client.system_id}});
  joined = Joined{true, std::move(r.as_sent)};
  if (!r.earlier.parts.empty()) {
    // Its answer goes through the parts held before it: a refusal of the whole is theirs too.
    auto j = std::make_shared<JoinedOrigin>(JoinedOrigin{
        this, origin, std::move(r.earlier), nullptr,
        [](Gateway& g, const GivenUp& m, uint32_t status) {
          g.give_up(m, smpp::MessageState::rejected, status, "refused");
        }});
    j->self = j;
    origin = Origin{j, respond_joined, origin.executor, origin.version};
  }
  return true;
}

void Gateway::give_up(const GivenUp& message, smpp::MessageState state, uint32_t error,
                      std::string_view reason) {
  peer_lines().parts_given_up(
      "client {}: a long message from '{}' to '{}' went no further ({}): {} of its parts had been "
      "answered ESME_ROK; those that asked for a receipt get one ({})",
      message.client, message.source, message.destination, reason, message.parts.size(),
      smpp::stat_word(state));
  counters_.add("smppd_reassembly_given_up_total",
                {{"client", message.client}, {"reason", reason}});
  const int64_t at = unix_seconds();
  for (const HeldPart& p : message.parts) {
    // registered_delivery 1 (always) or 2 (on failure): this is a failure.
    const uint8_t asked = p.registered_delivery & 0x03;
    if (asked != 1 && asked != 2) continue;
    if (!clients_.deliver(message.client, given_up_receipt(message, p, state, error, at), true)) {
      peer_lines().receipt_dropped("client {}: the receipt smppd made for part {} is dropped: "
                                   "the client's queue is full",
                                   message.client, render_message_id(p.id, message.version));
      continue;
    }
    counters_.add("smppd_receipts_made_total",
                  {{"client", message.client}, {"state", smpp::stat_word(state)}});
  }
}

uint32_t Gateway::cut_joined(const Snapshot& snap, const upstream::Pool& target,
                            smpp::Pdu& request, const AsSent& as_sent,
                            std::vector<smpp::SubmitSm>& more_parts) {
  auto* m = request.as<smpp::SubmitSm>();
  if (m == nullptr) return st::ESME_ROK;
  std::span<const uint8_t> text = m->short_message.bytes();
  if (text.empty()) {
    if (auto payload = m->tlvs.get(smpp::tlv::message_payload)) text = *payload;
  }
  if (std::ranges::equal(text, as_sent.payload)) {
    // Its text as it came: the client's own parts (their UDH, reference and cuts), with what
    // the middleware rewrote of the rest.
    std::vector<smpp::SubmitSm> parts = smpp::make_submits(as_sent.parts, *m, m->data_coding);
    if (parts.empty()) return st::ESME_RSYSERR;
    *m = std::move(parts.front());
    more_parts.assign(std::make_move_iterator(parts.begin() + 1),
                      std::make_move_iterator(parts.end()));
    smpp::receipt_on_last_part(*m, more_parts);
    return st::ESME_ROK;
  }
  const config::MultipartConfig& mp = snap.config->multipart;
  if (!mp.segmentation_enabled) return st::ESME_ROK;  // the text goes whole
  smpp::SplitOptions options;
  options.method = mp.segmentation_method == config::SegmentationMethod::sar_tlv
                       ? smpp::ConcatMethod::sar
                       : smpp::ConcatMethod::udh8;
  options.reference = mp.reference_mode == config::ReferenceMode::preserve
                          ? as_sent.parts.reference
                          : static_cast<uint16_t>(next_reference_.fetch_add(1) + 1);
  if (options.method == smpp::ConcatMethod::udh8) options.reference &= 0xFF;
  options.max_parts = mp.segmentation_max_parts;
  options.max_length = target.config().message.max_length.value_or(160);
  smpp::Split cut = smpp::split_long(request, options);
  if (cut.status != st::ESME_ROK) return cut.status;
  if (cut.split) more_parts = std::move(cut.more);
  return st::ESME_ROK;
}

void Gateway::arm_part_timer(std::chrono::milliseconds period) {
  part_timer_->expires_after(period);
  part_timer_->async_wait([this, period](const boost::system::error_code& ec) {
    if (ec || stopping_.load()) return;
    for (const GivenUp& m : joiner_->expire(std::chrono::steady_clock::now())) {
      give_up(m, smpp::MessageState::expired, 0, "expired");
    }
    arm_part_timer(period);
  });
}

void Gateway::route_message(const Snapshot& snap, Origin origin, const ClientRef& client,
                            smpp::Pdu& request, const router::MessageFacts& facts, uint64_t ip_key,
                            const MessageTrace& traced,
                            std::shared_ptr<const CallbackSpec> callback,
                            std::vector<smpp::SubmitSm> more_parts, const Joined& joined) {
  const CommandId cmd = request.command_id();
  const uint32_t seq = request.sequence_number;
  const tracing::SpanContext& trace = traced.trace;
  const uint64_t received_at = traced.received_at;
  const tracing::SpanId parent_span = traced.parent_span;
  // Route scripts read the whole message (its text, data_coding...).
  router::MessageFacts with_message = facts;
  with_message.message = &request;
  const router::Decision decision =
      snap.router->route(with_message, std::chrono::system_clock::now(), snap.scripts.get());
  if (decision.route_index != router::Decision::kNoRoute) {
    metrics_.route_matched(decision.route_index, decision.route_name);
  }
  // One snapshot for the whole decision: the routes and the upstreams they name agree.
  auto entry_of = [&snap](std::string_view name) -> const UpstreamEntry* {
    auto it = snap.upstreams.find(name);
    return it == snap.upstreams.end() ? nullptr : it->second.get();
  };
  const UpstreamEntry* entry = decision.matched() ? entry_of(decision.upstream) : nullptr;
  upstream::Pool* target = entry != nullptr ? entry->pool.get() : nullptr;
  if (target != nullptr && !target->healthy()) {
    // Down, suspended or tripped: the route's failover, else the upstream's own fallback.
    std::string_view alternative = decision.failover;
    if (alternative.empty() && target->config().failover.enabled) {
      alternative = target->config().failover.fallback;
    }
    const UpstreamEntry* other = alternative.empty() ? nullptr : entry_of(alternative);
    if (other != nullptr && other->pool->healthy()) {
      entry = other;
      target = other->pool.get();
    }
  }
  // Every part of a long message goes to the upstream of the first (an SMSC joins only what it
  // received), whatever the routes say of this one: a script reading its text, a failover since.
  const std::optional<smpp::ConcatInfo> concat = message_concat(request);
  const uint64_t sticky = message_parts_key(request, concat, client.system_id);
  if (sticky != 0) {
    const auto at = std::chrono::steady_clock::now();
    const std::optional<uint32_t> first = parts_upstreams_.find(sticky, at);
    const UpstreamEntry* same =
        first && *first < snap.by_index.size() ? snap.by_index[*first] : nullptr;
    if (same != nullptr) {
      entry = same;
      target = same->pool.get();
    } else if (target != nullptr) {
      parts_upstreams_.remember(sticky, entry->index, at);
    }
  }
  if (target == nullptr) {
    if (decision.matched()) {
      peer_lines().upstream_down("client {}: upstream '{}' of route {} is not running",
                                 client.system_id, decision.upstream, decision.route_name);
    } else {
      peer_lines().no_route("client {}: no route for {} to '{}': ESME_RINVDSTADR",
                            client.system_id, smpp::command_name(cmd), facts.destination_addr);
    }
    counters_.add("smppd_messages_rejected_total",
                  {{"client", client.system_id},
                   {"reason", decision.matched() ? "upstream_down" : "no_route"}});
    origin.answer(
        smpp::make_response(cmd, seq, decision.matched() ? st::ESME_RSYSERR : st::ESME_RINVDSTADR));
    return;
  }
  if (joined.whole && more_parts.empty() && !spool_) {
    // A joined message goes out in parts again (a transform that rewrote its text has cut it
    // already). Store and forward keeps one PDU (message_payload beyond 254 octets): it is cut
    // when sent only towards an upstream with message.max_length or bound as 3.3.
    if (const uint32_t status = cut_joined(snap, *target, request, *joined.as_sent, more_parts);
        status != st::ESME_ROK) {
      peer_lines().filtered("client {}: a message joined from its parts cannot be cut for "
                            "upstream {}: {}",
                            client.system_id, target->name(), smpp::status_name(status));
      counters_.add("smppd_messages_rejected_total",
                    {{"client", client.system_id}, {"reason", "segmentation"}});
      origin.answer(smpp::make_response(cmd, seq, status));
      return;
    }
  }
  const uint64_t id = ids_.next();
  std::string callback_line;
  if (callback) {
    if (spool_) callback_line = callback->encode();
    callbacks_.put(id, std::move(callback));
  }
  uint64_t sent_at = 0;
  if (trace.sampled()) {
    sent_at = tracing::now_unix_nanos();
    tracer_->record(trace.child(), trace.span_id, "smppd.route", tracing::SpanKind::internal,
                    received_at, sent_at,
                    {{"smppd.route", decision.route_name}, {"smppd.upstream", target->name()}});
  }
  if (spool_) {
    spool_->accept(std::move(origin), client, request, id, facts, decision, entry->index, ip_key,
                   sticky, concat ? concat->total : 1, trace, received_at, parent_span,
                   callback_line);
    return;
  }
  const asio::any_io_executor client_executor = origin.executor;
  smpp::CStr<16> name;
  name.assign(client.system_id);  // a configured system_id: at most 15 characters
  MessageCompletion done{this,           std::move(origin),   seq,   cmd,         id,
                         name,           target->name(),      entry->index,
                         client.client_index, trace,          received_at, sent_at,
                         parent_span};
  static_assert(upstream::Completion::stores_inline<MessageCompletion>,
                "the completion of every message must not allocate");
  target->submit(std::move(request), std::move(done), ip_key, sticky, &client_executor,
                 std::move(more_parts));
}

void Gateway::MessageCompletion::trace_response(upstream::Result r, uint32_t status,
                                                std::string_view smsc_id) const {
  using tracing::SpanKind;
  using tracing::StatusCode;
  tracing::Tracer& tracer = *gateway->tracer_;
  const uint64_t answered_at = tracing::now_unix_nanos();
  const std::string_view status_name = smpp::status_name(status);
  const StatusCode outcome = status == st::ESME_ROK ? StatusCode::unset : StatusCode::error;
  tracer.record(trace.child(), trace.span_id, "smpp.upstream.submit_sm", SpanKind::client, sent_at,
                answered_at,
                {{"smppd.upstream", upstream},
                 {"smpp.command_status", status_name},
                 {"smpp.smsc_message_id", smsc_id},
                 {"smppd.outcome", r == upstream::Result::response ? "response"
                                   : r == upstream::Result::timeout ? "timeout"
                                                                     : "not_sent"}},
                outcome);
  tracer.record(trace, parent_span, "smpp.submit_sm", SpanKind::server, received_at, answered_at,
                {{"smpp.system_id", client.view()},
                 {"smppd.message_id", static_cast<int64_t>(id)},
                 {"smpp.command_status", status_name}},
                outcome);
  if (!smsc_id.empty()) gateway->traces_.put(id, trace);
}

MessageRecord Gateway::MessageCompletion::record(std::string_view smsc_id) const {
  MessageRecord r;
  r.smsc_id.assign(smsc_id);
  r.id = id;
  r.client = client;
  r.client_index = client_index;
  r.upstream = upstream_index;
  r.client_version = origin.version;
  r.answered_ms = gateway->metrics_.now_ms();
  r.traced = trace.sampled();
  return r;
}

void Gateway::MessageCompletion::operator()(upstream::Result r, smpp::Pdu* resp,
                                            std::string_view host) {
  switch (r) {
    case upstream::Result::part:
      part(resp);
      return;
    case upstream::Result::late_response:
      late(resp, host);
      return;
    case upstream::Result::response:
    case upstream::Result::timeout:
    case upstream::Result::failed:
      break;
  }
  smpp::Pdu out;
  std::string_view smsc_id;
  if (r == upstream::Result::response && resp != nullptr) {
    const uint32_t status = resp->command_status;
    out = smpp::make_response(cmd, seq, status);
    if (auto* multi = resp->as<smpp::SubmitMultiResp>()) {
      out.as<smpp::SubmitMultiResp>()->unsuccess_smes = std::move(multi->unsuccess_smes);
    }
    if (status == st::ESME_ROK) {
      set_response_message_id(out, render_message_id(id, origin.version));
      smsc_id = response_message_id(*resp);
    }
  } else {
    if (r == upstream::Result::timeout) {
      peer_lines().outcome_unknown(
          "upstream {} ({}): no response for message {} of {}: its outcome is unknown", upstream,
          host, render_message_id(id, origin.version), client.view());
    }
    out = smpp::make_response(cmd, seq, st::ESME_RSYSERR);
  }
  gateway->metrics_.message(Direction::mt, client_index, upstream_index, upstream,
                            out.command_status);
  if (trace.sampled()) trace_response(r, out.command_status, smsc_id);
  gateway->submit_outcome(id, client.view(), static_cast<uint8_t>(origin.version),
                          out.command_status, smsc_id, upstream);
  if (smsc_id.empty()) {
    origin.answer(std::move(out));
    return;
  }
  // The message becomes known to receipts only once its response is queued for the client, on
  // the client's thread: a receipt that finds it is then queued after the response, never
  // before it; one that races in earlier waits (hold_receipt).
  // (A copy of the origin: a long message segmented for a 3.3 SMSC calls part() after this.)
  asio::dispatch(origin.executor, [g = gateway, o = origin, out = std::move(out),
                                   rec = record(smsc_id)]() mutable {
    o.answer_here(out);
    g->messages_.add(rec);
  });
}

void Gateway::MessageCompletion::part(const smpp::Pdu* resp) const {
  // Another part of a message segmented for a 3.3 SMSC or by a transform: its receipt goes to
  // the client too, under the message's id (known to receipts after the response, as above).
  if (resp == nullptr || resp->command_status != st::ESME_ROK) return;
  const std::string_view smsc_id = response_message_id(*resp);
  if (smsc_id.empty()) return;
  asio::dispatch(origin.executor,
                 [g = gateway, rec = record(smsc_id)] { g->messages_.add(rec); });
}

void Gateway::MessageCompletion::late(const smpp::Pdu* resp, std::string_view host) const {
  // The client was answered ESME_RSYSERR at the timeout; the SMSC answered after all. Its id is
  // kept so that the message's receipt still reaches the client (with smppd's id).
  const uint32_t status = resp != nullptr ? resp->command_status : st::ESME_RSYSERR;
  const std::string_view smsc_id = resp != nullptr ? response_message_id(*resp) : "";
  peer_lines().late_response(
      "upstream {} ({}): late {} for message {} of {} (after timeouts.response; the client was "
      "answered ESME_RSYSERR): {}{}{}",
      upstream, host, resp != nullptr ? smpp::command_name(resp->command_id()) : "response",
      render_message_id(id, origin.version), client.view(), smpp::status_name(status),
      smsc_id.empty() ? "" : ", SMSC id ", smsc_id);
  gateway->counters_.add("smppd_late_responses_total",
                         {{"upstream", upstream}, {"status", smpp::status_name(status)}});
  if (status == st::ESME_ROK && !smsc_id.empty()) gateway->messages_.add(record(smsc_id));
}

uint32_t Gateway::on_delivery(upstream::Pool& pool, smpp::Pdu& pdu,
                              const upstream::DeliveryReply& later) {
  uint8_t esm_class = 0;
  if (const auto* d = pdu.as<smpp::DeliverSm>()) esm_class = d->esm_class;
  if (const auto* d = pdu.as<smpp::DataSm>()) esm_class = d->esm_class;
  // Without a way to answer later (tests drive this directly), deliveries are not stored.
  const upstream::DeliveryReply none;
  const upstream::DeliveryReply& reply = stores_deliveries() && later ? later : none;
  return smpp::is_receipt(esm_class) ? deliver_receipt(pool, pdu, reply)
                                     : deliver_mo(pool, pdu, reply);
}

uint32_t Gateway::deliver_receipt(upstream::Pool& pool, smpp::Pdu& pdu,
                                  const upstream::DeliveryReply& later) {
  std::optional<smpp::ReceiptKey> receipt;
  if (const auto* d = pdu.as<smpp::DeliverSm>()) receipt = smpp::receipt_key(*d);
  if (const auto* d = pdu.as<smpp::DataSm>()) receipt = smpp::receipt_key(*d);
  if (!receipt) {
    peer_lines().receipt_without_id("upstream {}: a delivery receipt without a message id",
                                    pool.name());
    counters_.add("smppd_receipts_unmatched_total", {{"upstream", pool.name()}});
    return st::ESME_ROK;
  }
  if (auto status = forward_receipt(pool.name(), receipt->id, receipt->state, pdu, 0, later))
    return *status;
  // Not known yet: the response to its submit may still be on its way on another connection
  // of the upstream. Hold it a little and look again. Held receipts are bounded: beyond that,
  // the SMSC is asked to send it again later (by then its message may be known).
  if (held_count_.fetch_add(1, std::memory_order_relaxed) >= max_held_receipts_) {
    held_count_.fetch_sub(1, std::memory_order_relaxed);
    counters_.add("smppd_deliveries_refused_total",
                  {{"upstream", pool.name()}, {"reason", "too_many_held_receipts"}});
    return st::ESME_RMSGQFUL;
  }
  std::string id(receipt->id);  // a view into `pdu`: copied before `pdu` is
  hold_receipt(std::string(pool.name()), std::move(id), receipt->state, pdu, 0, later);
  // Stored deliveries: the SMSC is answered once it is matched and stored, or given up.
  return later ? upstream::PoolEvents::kAnswerLater : st::ESME_ROK;
}

std::optional<uint32_t> Gateway::forward_receipt(std::string_view upstream, std::string_view id,
                                                 smpp::MessageState state, const smpp::Pdu& pdu,
                                                 int attempt,
                                                 const upstream::DeliveryReply& later) {
  // attempt 0: as it arrives; 1..kLastReceiptLook: after each wait (hold_receipt).
  UpstreamEntry* entry = upstream_entry(upstream);
  if (entry == nullptr) return std::nullopt;
  std::atomic<IdMode>& mode = entry->id_mode;
  std::optional<MessageRecord> record = messages_.find_by_smsc_id(entry->index, id, IdMatch::exact);
  if (record) {
    if (mode.load() == IdMode::unknown) mode.store(IdMode::exact);
  } else if (attempt >= kLastReceiptLook || mode.load() == IdMode::converted ||
             (mode.load() == IdMode::unknown && attempt >= 2)) {
    // Conversions: for an upstream known to need them; for one not known yet, once a first
    // wait has given the response time to arrive (so a race is not taken for a conversion).
    bool converted = false;
    record = messages_.find_by_smsc_id(entry->index, id, IdMatch::tolerant, &converted);
    if (record && converted) mode.store(IdMode::converted);
  }
  if (!record && spool_ && attempt >= 1) {
    // Not in memory after a first wait: a message from before a restart, or one the id map
    // has forgotten. The store keeps every SMSC id for the retention time.
    record = spool_->find_by_smsc_id(upstream, entry->index, id);
    if (record) messages_.add(*record);
  }
  if (!record) return std::nullopt;
  const std::string our_id = render_message_id(record->id, record->client_version);
  smpp::Pdu out = pdu;
  if (auto* d = out.as<smpp::DeliverSm>()) {
    smpp::rewrite_receipt_id(*d, our_id);
  } else if (auto* ds = out.as<smpp::DataSm>()) {
    ds->tlvs.set(smpp::tlv::receipted_message_id, our_id);
  }
  if (later) {
    // Stored first; the SMSC is answered once it is.
    spool_->deliver(record->client.view(), std::move(out), record->id, state,
                    receipt_error(pdu, state), later);
    if (smpp::is_final(state)) messages_.mark_final_receipt(*record);
    receipt_taken(*record, entry->index, upstream, state);
    return upstream::PoolEvents::kAnswerLater;
  }
  // A held receipt (attempt > 0) was answered ESME_ROK already: it is queued beyond the
  // queue's bound (up to twice it).
  if (!clients_.deliver(record->client.view(), std::move(out), attempt > 0, 0, upstream)) {
    peer_lines().receipt_queue_full(
        "client {}: receipt for message {} refused, its queue is full; upstream {} will retry",
        record->client.view(), render_message_id(record->id, record->client_version), upstream);
    counters_.add("smppd_deliveries_refused_total",
                  {{"client", record->client.view()}, {"reason", "queue_full"}});
    return st::ESME_RMSGQFUL;
  }
  // Final only once taken: a refused final receipt comes again and must still match (by
  // conversion too).
  if (smpp::is_final(state)) messages_.mark_final_receipt(*record);
  if (spool_) spool_->receipt(record->id, state, receipt_error(pdu, state), true);
  receipt_taken(*record, entry->index, upstream, state);
  return st::ESME_ROK;
}

void Gateway::receipt_taken(const MessageRecord& record, uint32_t upstream_index,
                            std::string_view upstream, smpp::MessageState state) {
  metrics_.receipt(record, upstream_index, upstream);
  // Only a sampled message's receipt looks for its trace (no lock for the others).
  if (tracer_ == nullptr || !record.traced) return;
  if (auto trace = traces_.find(record.id, smpp::is_final(state)); trace && trace->sampled()) {
    const uint64_t at = tracing::now_unix_nanos();
    tracer_->record(trace->child(), trace->span_id, "smpp.receipt", tracing::SpanKind::consumer,
                    at, at,
                    {{"smppd.upstream", upstream},
                     {"smpp.message_state", smpp::stat_word(state)},
                     {"smpp.system_id", record.client.view()}});
  }
}

void Gateway::hold_receipt(std::string upstream, std::string id, smpp::MessageState state,
                           smpp::Pdu pdu, int attempt, upstream::DeliveryReply later) {
  if (attempt >= kLastReceiptLook || stopping_.load() || executors_.empty()) {
    held_count_.fetch_sub(1, std::memory_order_relaxed);
    // Given up: a receipt for no message of ours. (Stopping: not answered; the SMSC sends it
    // again to whoever binds next.)
    if (later && !stopping_.load()) later(st::ESME_ROK);
    peer_lines().receipt_unmatched("upstream {}: a delivery receipt for id '{}' matches no message",
                                   upstream, id);
    counters_.add("smppd_receipts_unmatched_total", {{"upstream", upstream}});
    return;
  }
  auto timer = std::make_shared<asio::steady_timer>(executors_[0], kReceiptWaits[attempt]);
  {
    std::lock_guard lock(held_mutex_);
    // Expired entries are pruned when the list has doubled since the last pruning: amortised
    // constant time per hold.
    if (held_.size() >= held_prune_at_) {
      std::erase_if(held_, [](const auto& w) { return w.expired(); });
      held_prune_at_ = std::max<std::size_t>(1024, held_.size() * 2);
    }
    held_.push_back(timer);
  }
  timer->async_wait([this, timer, upstream = std::move(upstream), id = std::move(id), state,
                     pdu = std::move(pdu), attempt,
                     later = std::move(later)](const boost::system::error_code& ec) mutable {
    if (ec) {
      held_count_.fetch_sub(1, std::memory_order_relaxed);
      // Stopping. With deliveries stored the SMSC was not answered yet and sends it again.
      if (later) return;
      // Without, the SMSC was told ESME_ROK and nothing keeps it past the exit.
      peer_lines().receipt_dropped(
          "upstream {}: receipt for '{}' dropped: smppd stops before its "
          "message is known",
          upstream, id);
      counters_.add("smppd_receipts_dropped_total",
                    {{"upstream", upstream}, {"reason", "shutdown"}});
      return;
    }
    if (auto status = forward_receipt(upstream, id, state, pdu, attempt + 1, later)) {
      held_count_.fetch_sub(1, std::memory_order_relaxed);
      if (*status == upstream::PoolEvents::kAnswerLater) return;
      if (*status != st::ESME_ROK) {
        // Its client's queue is at twice its bound (no receiver for a long time): the SMSC
        // was told ESME_ROK, so this one is lost — said and counted.
        peer_lines().receipt_dropped(
            "upstream {}: receipt for '{}' dropped: its client's queue is full", upstream, id);
        counters_.add("smppd_receipts_dropped_total",
                      {{"upstream", upstream}, {"reason", "queue_full"}});
      }
    } else {
      hold_receipt(std::move(upstream), std::move(id), state, std::move(pdu), attempt + 1,
                   std::move(later));
    }
  });
}

uint32_t Gateway::deliver_mo(upstream::Pool& pool, smpp::Pdu& pdu,
                             const upstream::DeliveryReply& later) {
  router::MoFacts facts;
  facts.upstream = pool.name();
  if (const auto* d = pdu.as<smpp::DeliverSm>()) {
    facts.destination_addr = d->destination_addr.view();
    facts.dest_addr_ton = d->dest_addr_ton;
    facts.source_addr = d->source_addr.view();
    facts.source_addr_ton = d->source_addr_ton;
  } else if (const auto* ds = pdu.as<smpp::DataSm>()) {
    facts.destination_addr = ds->destination_addr.view();
    facts.dest_addr_ton = ds->dest_addr_ton;
    facts.source_addr = ds->source_addr.view();
    facts.source_addr_ton = ds->source_addr_ton;
  }
  const router::MoDecision decision = now().mo_router->route(facts);
  if (!decision.matched()) {
    peer_lines().mo_unrouted("upstream {}: MO to '{}' matches no mo_route", pool.name(),
                             facts.destination_addr);
    counters_.add("smppd_mo_unrouted_total", {{"upstream", pool.name()}});
    return st::ESME_RINVDSTADR;
  }
  const std::string client(decision.client);
  // MO names its client by a string (its mo_route's): the client's index is looked up here.
  const uint16_t client_index = metrics_.client_index(client);
  const UpstreamEntry* entry = upstream_entry(pool.name());
  const uint32_t upstream_index = entry != nullptr ? entry->index : 0;
  if (later) {
    metrics_.message(Direction::mo, client_index, upstream_index, pool.name(), st::ESME_ROK);
    spool_->deliver(client, std::move(pdu), 0, smpp::MessageState::enroute, 0, later);
    return upstream::PoolEvents::kAnswerLater;
  }
  if (!clients_.deliver(client, pdu, false, 0, pool.name())) {
    counters_.add("smppd_deliveries_refused_total", {{"client", client}, {"reason", "queue_full"}});
    return st::ESME_RMSGQFUL;
  }
  metrics_.message(Direction::mo, client_index, upstream_index, pool.name(), st::ESME_ROK);
  return st::ESME_ROK;
}

}  // namespace smppd::gateway
