#include "gateway/store_forward.hpp"

#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>

#include <fmt/format.h>

#include <cassert>
#include <stdexcept>

#include "core/log.hpp"
#include "core/log_aggregate.hpp"
#include "gateway/gateway.hpp"
#include "gateway/message_ids.hpp"
#include "smpp/codec.hpp"
#include "smpp/segment.hpp"
#include "smpp/status.hpp"
#include "smpp/time.hpp"

namespace smppd::gateway {

namespace st = smpp::status;
using smpp::CommandId;
using store::MessageState;
using store::Millis;

namespace {

// Messages read back from disk at a time, per upstream; the pump reads again only once the
// pool's queue is below this.
constexpr std::size_t kPumpBatch = 1'000;
constexpr auto kPumpIdle = std::chrono::milliseconds(200);
constexpr auto kPumpBusy = std::chrono::milliseconds(10);
constexpr auto kHousekeeping = std::chrono::seconds(1);
constexpr uint32_t kPurgeStep = 2'000;
constexpr auto kPurgeInterval = std::chrono::milliseconds(100);

struct Lines {
  log::Aggregated refused{log::Level::error, "messages refused: the store cannot write"};
  log::Aggregated requeued{log::Level::info, "messages put back on disk to wait"};
  log::Aggregated rejected{log::Level::info, "stored messages the SMSC refused"};
  log::Aggregated expired{log::Level::info, "stored messages past their validity_period"};
  log::Aggregated unconfirmed{log::Level::warn, "stored messages whose outcome is unknown"};
  log::Aggregated receipt_lost{log::Level::error, "receipts made by smppd not delivered"};
};
Lines& lines() {
  static Lines l;
  return l;
}

// schedule_delivery_time / validity_period as an instant (ms), 0 when empty or unreadable.
Millis instant_of(std::string_view field, Millis accepted_at) {
  if (field.empty()) return 0;
  auto t = smpp::parse_time(field);
  if (!t) return 0;
  if (t->kind == smpp::SmppTime::Kind::relative) {
    return accepted_at + t->to_duration_seconds() * 1000;
  }
  return t->to_unix_seconds() * 1000 + t->tenths * 100;
}

// What the store keeps of a client's message beyond its PDU (its routing facts `f` given).
void describe(const smpp::Pdu& pdu, const router::MessageFacts& f, store::NewMessage& n) {
  n.source = f.source_addr;
  n.destination = f.destination_addr;
  auto times = [&](const auto& m) {
    n.registered_delivery = m.registered_delivery;
    n.data_coding = m.data_coding;
    n.not_before = instant_of(m.schedule_delivery_time.view(), n.accepted_at);
    n.expires_at = instant_of(m.validity_period.view(), n.accepted_at);
  };
  if (const auto* m = pdu.as<smpp::SubmitSm>()) {
    times(*m);
  } else if (const auto* d = pdu.as<smpp::DataSm>()) {
    n.registered_delivery = d->registered_delivery;
    n.data_coding = d->data_coding;
  } else if (const auto* mu = pdu.as<smpp::SubmitMulti>()) {
    times(*mu);
  }
}

// smppd defers the message itself: the SMSC gets it when it is due, to send at once.
void clear_schedule(smpp::Pdu& pdu) {
  if (auto* m = pdu.as<smpp::SubmitSm>()) m->schedule_delivery_time.assign("");
  if (auto* m = pdu.as<smpp::SubmitMulti>()) m->schedule_delivery_time.assign("");
}

MessageState state_of(smpp::MessageState s) {
  switch (s) {
    case smpp::MessageState::delivered: return MessageState::delivered;
    case smpp::MessageState::expired: return MessageState::expired;
    case smpp::MessageState::deleted: return MessageState::deleted;
    case smpp::MessageState::undeliverable: return MessageState::undeliverable;
    case smpp::MessageState::accepted: return MessageState::accepted;
    case smpp::MessageState::unknown: return MessageState::unknown;
    case smpp::MessageState::rejected: return MessageState::rejected;
    default: return MessageState::submitted;  // enroute, scheduled, skipped: not final
  }
}

smpp::MessageState smpp_state_of(MessageState s) {
  switch (s) {
    case MessageState::queued:
    case MessageState::dispatched:
    case MessageState::submitted:
    case MessageState::unconfirmed: return smpp::MessageState::enroute;
    case MessageState::scheduled: return smpp::MessageState::scheduled;
    case MessageState::delivered: return smpp::MessageState::delivered;
    case MessageState::undeliverable:
    case MessageState::failed: return smpp::MessageState::undeliverable;
    case MessageState::expired: return smpp::MessageState::expired;
    case MessageState::rejected: return smpp::MessageState::rejected;
    case MessageState::deleted: return smpp::MessageState::deleted;
    case MessageState::accepted: return smpp::MessageState::accepted;
    case MessageState::unknown: return smpp::MessageState::unknown;
  }
  return smpp::MessageState::unknown;
}

// registered_delivery bits 0-1: 1 = a receipt whatever the outcome, 2 = only on failure.
bool wants_receipt(uint8_t registered_delivery, bool success) {
  const uint8_t r = registered_delivery & 0x03;
  return r == 1 || (r == 2 && !success);
}

}  // namespace

// What a stored message's send leads to (upstream::Completion), on the connection's executor.
struct StoreForward::Completion {
  StoreForward* self;
  uint64_t id;
  std::size_t upstream;  // index into upstreams_
  smpp::CStr<16> client;
  uint16_t client_index;
  smpp::Version version;
  uint8_t registered_delivery;
  tracing::SpanContext trace;  // empty unless sampled (and for messages sent from disk)
  uint64_t sent_at;

  // In the in-memory id map only when a receipt is asked for (any kind): the store has every
  // SMSC id anyway, for the receipts an SMSC sends unasked.
  void remember(const MessageRecord& rec) const {
    if ((registered_delivery & 0x13) != 0) self->gateway_.messages_.add(rec);
  }

  void operator()(upstream::Result r, smpp::Pdu* resp, std::string_view host) {
    Upstream& u = *self->upstreams_[upstream];
    const Millis now = store::now_millis();
    const uint32_t status = resp != nullptr ? resp->command_status : st::ESME_RSYSERR;
    const std::string_view smsc_id = resp != nullptr ? response_message_id(*resp) : "";
    auto record = [&] {
      MessageRecord rec;
      rec.id = id;
      rec.client = client;
      rec.client_index = client_index;
      rec.answered_ms = self->gateway_.metrics_.now_ms();
      rec.traced = trace.sampled();
      rec.upstream = u.index;
      rec.smsc_id.assign(smsc_id);
      rec.client_version = version;
      return rec;
    };
    switch (r) {
      case upstream::Result::part:
        if (status == st::ESME_ROK && !smsc_id.empty()) {
          self->commit_->write(self->shard(), [&](store::WriteBatch& b, auto&) {
            b.add_smsc_id(id, u.name, smsc_id, now);
          });
          remember(record());
        }
        return;
      case upstream::Result::late_response:
        self->counters_.add("smppd_late_responses_total",
                            {{"upstream", u.name}, {"status", smpp::status_name(status)}});
        if (status == st::ESME_ROK && !smsc_id.empty()) {
          self->commit_->write(self->shard(), [&](store::WriteBatch& b, auto&) {
            b.submitted(id, u.name, smsc_id, now, !wants_receipt(registered_delivery, true));
          });
          remember(record());
        }
        return;
      case upstream::Result::response:
        break;
      case upstream::Result::timeout:
        lines().unconfirmed(
            "upstream {} ({}): no response for stored message {} of {}: its outcome is unknown "
            "(not sent again)",
            u.name, host, render_message_id(id, version), client.view());
        self->commit_->write(self->shard(), [&](store::WriteBatch& b, auto&) {
          b.set_state(id, MessageState::unconfirmed, now, 0, u.name,
                      "no response: outcome unknown");
        });
        self->counters_.add("smppd_upstream_timeouts_total", {{"upstream", u.name}});
        return;
      case upstream::Result::failed:
        // Never sent (the queue was full, nothing could take it in time, or the pool stops):
        // back to disk, in its place.
        self->requeue(id, version, upstream, status, "not sent");
        return;
    }
    self->gateway_.metrics_.message(Direction::mt, client_index, u.index, u.name, status);
    if (trace.sampled()) {
      tracing::Tracer& tracer = *self->gateway_.tracer_;
      tracer.record(trace.child(), trace.span_id, "smpp.upstream.submit_sm",
                    tracing::SpanKind::client, sent_at, tracing::now_unix_nanos(),
                    {{"smppd.upstream", u.name},
                     {"smpp.command_status", smpp::status_name(status)},
                     {"smpp.smsc_message_id", smsc_id}},
                    status == st::ESME_ROK ? tracing::StatusCode::unset
                                           : tracing::StatusCode::error);
      if (status == st::ESME_ROK && !smsc_id.empty()) self->gateway_.traces_.put(id, trace);
    }
    if (status != st::ESME_RTHROTTLED && status != st::ESME_RMSGQFUL) {
      self->gateway_.submit_outcome(id, client.view(), static_cast<uint8_t>(version), status,
                                    smsc_id, u.name);
    }
    if (status == st::ESME_ROK) {
      const bool done = !wants_receipt(registered_delivery, true);
      self->commit_->write(self->shard(), [&](store::WriteBatch& b, auto&) {
        b.submitted(id, u.name, smsc_id, now, done);
      });
      if (!smsc_id.empty()) remember(record());
      return;
    }
    if (status == st::ESME_RTHROTTLED || status == st::ESME_RMSGQFUL) {
      // Still refused "for now" at its deadline: it waits on disk and is tried again.
      self->requeue(id, version, upstream, status, "refused for now");
      return;
    }
    lines().rejected("upstream {} ({}): stored message {} of {} refused: {}", u.name, host,
                     render_message_id(id, version), client.view(), smpp::status_name(status));
    self->finish(id, MessageState::rejected, status, u.name, "refused by the SMSC");
    if (wants_receipt(registered_delivery, false)) {
      self->make_receipt(id, MessageState::rejected, status);
    }
  }
};

StoreForward::StoreForward(Gateway& gateway, store::Store& store, const config::Config& config,
                           Counters& counters)
    : gateway_(gateway),
      store_(store),
      config_(config.storage),
      counters_(counters),
      upstreams_(std::make_unique<std::unique_ptr<Upstream>[]>(kMaxUpstreams)),
      by_index_(std::make_unique<std::atomic<Upstream*>[]>(kMaxUpstreams)) {
  for (const auto& c : config.clients) client_names_.push_back(c.system_id);
}

StoreForward::~StoreForward() {
  if (commit_) {
    commit_->stop();
    const store::GroupCommitStats& st = commit_->stats();
    const uint64_t commits = st.commits.load();
    log::info("store: {} transactions (each one fsync), {} writes, {} messages stored; a commit "
              "took {} us on average, {} us at most; {} failed",
              commits, st.writes.load(), st.messages.load(),
              commits == 0 ? 0 : st.commit_micros.load() / commits, st.max_commit_micros.load(),
              st.failures.load());
  }
  if (cdrs_) cdrs_->stop();
}

std::size_t StoreForward::shard() {
  static std::atomic<std::size_t> next{0};
  thread_local const std::size_t mine = next.fetch_add(1, std::memory_order_relaxed);
  return mine;
}

StoreForward::Upstream* StoreForward::upstream_of(std::string_view name) {
  for (std::size_t i = 0, n = upstream_count(); i < n; ++i) {
    if (upstreams_[i]->name == name) return upstreams_[i].get();
  }
  return nullptr;
}

bool StoreForward::set_upstream(const std::string& name, upstream::Pool* pool, uint32_t index) {
  std::lock_guard lock(upstreams_mutex_);
  if (Upstream* u = upstream_of(name)) {
    u->pool.store(pool, std::memory_order_release);
    if (index < kMaxUpstreams) by_index_[index].store(u, std::memory_order_release);
    if (commit_ && !stopping_.load()) {
      u->backlog.store(true, std::memory_order_relaxed);  // what waited for it may go now
      kick(*u);
    }
    return true;
  }
  const std::size_t n = upstream_count_.load(std::memory_order_relaxed);
  if (n >= kMaxUpstreams || index >= kMaxUpstreams) return false;
  auto u = std::make_unique<Upstream>();
  u->name = name;
  u->position = n;
  u->pool.store(pool, std::memory_order_relaxed);
  u->index = index;
  u->executor = executors_[n % executors_.size()];
  u->timer = std::make_unique<asio::steady_timer>(u->executor);
  Upstream* raw = u.get();
  upstreams_[n] = std::move(u);
  by_index_[index].store(raw, std::memory_order_release);
  upstream_count_.store(n + 1, std::memory_order_release);
  if (commit_ && !stopping_.load()) {
    // Messages may wait for it on disk (it was configured before, or before a restart).
    raw->backlog.store(true, std::memory_order_relaxed);
    kick(*raw);
  }
  return true;
}

uint64_t StoreForward::start(const std::vector<asio::any_io_executor>& executors) {
  executors_ = executors;
  const store::Recovery r = store_.recover();
  if (r.in_flight > 0) {
    std::string sample;
    for (uint64_t id : r.in_flight_sample) {
      if (!sample.empty()) sample += ' ';
      sample += std::to_string(id);
    }
    log::warn("store: {} message(s) were being sent when smppd stopped without an answer from "
              "the SMSC; they are sent again and may reach it twice (ids {}{})",
              r.in_flight, sample, r.in_flight > r.in_flight_sample.size() ? " ..." : "");
    counters_.add("smppd_messages_resent_after_restart_total", {}, r.in_flight);
  }
  log::info("store: {} message(s) to send, {} scheduled, {} deliveries waiting for clients",
            r.queued, r.scheduled, r.deliveries);
  // Their HTTP callbacks, before any receipt can look for them.
  std::size_t unreadable = 0;
  for (const auto& [id, line] : r.callbacks) {
    if (auto spec = CallbackSpec::decode(line)) {
      gateway_.callbacks_.put(id, std::make_shared<const CallbackSpec>(std::move(*spec)));
    } else {
      ++unreadable;
    }
  }
  if (unreadable > 0) {
    log::warn("store: {} message(s) have an HTTP callback this smppd cannot read; their "
              "receipts go to their clients' SMPP sessions",
              unreadable);
  }
  for (const auto& [name, entry] : gateway_.now().upstreams) {
    if (!set_upstream(name, entry->pool.get(), entry->index)) {
      throw std::runtime_error("store: more than " + std::to_string(kMaxUpstreams) +
                               " upstreams");
    }
  }
  for (const std::string& name : r.upstreams) {
    if (upstream_of(name) == nullptr) {
      log::warn("store: messages wait for upstream '{}', which the configuration no longer has; "
                "they stay queued until it comes back",
                name);
    }
  }
  next_delivery_seq_.store(store_.last_delivery_seq() + 1);
  {
    const std::size_t shards = std::max<std::size_t>(executors_.size(), 1);
    std::size_t k = 0;
    for (const std::string& name : client_names_) {
      auto c = std::make_unique<ClientDisk>();
      c->name = name;
      c->shard = k % shards;
      c->executor = executors_[k % executors_.size()];
      ++k;
      clients_.emplace(name, std::move(c));
    }
    for (const std::string& name : r.delivery_clients) {
      if (ClientDisk* c = disk_of(name)) {
        c->on_disk.store(true);  // read back when it binds
      } else {
        log::warn("store: deliveries wait for client '{}', which the configuration no longer "
                  "has; they are kept until their retention",
                  name);
      }
    }
  }
  commit_ = std::make_unique<store::GroupCommit<Ticket>>(
      store_, store::GroupCommitSettings{.shards = std::max<std::size_t>(executors_.size(), 1)},
      [this](std::size_t, std::vector<Ticket>& tickets, const store::WriteFailure* f) {
        committed(tickets, f);
      },
      [this](const store::WriteFailure* f) {
        if (f != nullptr) {
          log::error("store: cannot write: {}; new messages are refused until it can (nothing "
                     "stored is lost)",
                     f->what);
          counters_.add("smppd_store_failures_total",
                        {{"kind", f->kind == store::WriteFailure::Kind::full ? "full" : "error"}});
        } else {
          log::info("store: writing again");
        }
      });
  if (config_.cdr_enabled) {
    cdrs_ = std::make_unique<store::CdrFeed>(
        store_, store::CdrWriterOptions::from_config(config_),
        [](uint64_t id, uint8_t version) {
          return render_message_id(id, static_cast<smpp::Version>(version));
        },
        [this](std::string_view upstream, store::UpstreamTags& out) {
          // The configuration in effect (a reload's tags apply to the next CDRs).
          const std::shared_ptr<const config::Config> config = gateway_.config();
          if (const config::UpstreamConfig* u = config->find_upstream(upstream)) {
            out.assign(u->tags.begin(), u->tags.end());
          }
        });
    commit_->after_commit([this, done = std::vector<uint64_t>()](
                              std::span<const store::WriteBatch* const> batches) mutable {
      done.clear();
      for (const store::WriteBatch* b : batches) b->done_ids(done);
      cdrs_->add(done);
    });
    log::info("store: CDRs in {} ({})", config_.cdr_path,
              config_.cdr_format == config::CdrFormat::json ? "JSON lines" : "CSV");
  }
  commit_->start();
  for (const std::string& name : r.upstreams) {
    if (Upstream* u = upstream_of(name)) {
      u->backlog.store(true);
      kick(*u);
    }
  }
  // Deliveries waiting on disk are read back now, not only when their client binds: a client
  // may take its receipts and MO by HTTP, without ever binding.
  for (auto& [name, c] : clients_) {
    if (c->on_disk.load()) kick_load(*c);
  }
  housekeeping_ = std::make_unique<asio::steady_timer>(executors_[0]);
  housekeeping();
  purge_timer_ = std::make_unique<asio::steady_timer>(executors_[0]);
  purge();
  return r.max_id;
}

void StoreForward::stop() {
  stopping_.store(true);
  std::lock_guard lock(upstreams_mutex_);
  for (std::size_t i = 0, n = upstream_count(); i < n; ++i) {
    asio::post(upstreams_[i]->executor, [t = upstreams_[i]->timer.get()] { t->cancel(); });
  }
  if (housekeeping_) asio::post(executors_[0], [t = housekeeping_.get()] { t->cancel(); });
  if (purge_timer_) asio::post(executors_[0], [t = purge_timer_.get()] { t->cancel(); });
}

// ---- accepting ----

void StoreForward::accept(Origin origin, const ClientRef& client, smpp::Pdu& request,
                          uint64_t id, const router::MessageFacts& facts,
                          const router::Decision& decision, uint32_t upstream,
                          uint64_t ip_key, uint64_t sticky, uint16_t parts,
                          const tracing::SpanContext& trace, uint64_t received_at,
                          tracing::SpanId parent_span, std::string_view callback) {
  Upstream* u =
      upstream < kMaxUpstreams ? by_index_[upstream].load(std::memory_order_acquire) : nullptr;
  assert(u != nullptr);  // every pool has its entry (set_upstream before routes name it)
  store::NewMessage n;
  n.id = id;
  n.client = client.system_id;
  n.client_version = static_cast<uint8_t>(origin.version);
  n.command_id = static_cast<uint32_t>(request.command_id());
  n.accepted_at = store::now_millis();
  n.route = decision.route_name;
  n.upstream = u->name;
  n.parts = parts;
  n.callback = callback;
  describe(request, facts, n);
  if (n.not_before > n.accepted_at) {
    n.state = MessageState::scheduled;
  } else if (u->backlog.load(std::memory_order_relaxed)) {
    n.state = MessageState::queued;  // behind the messages already waiting on disk
  } else {
    n.state = MessageState::dispatched;  // sent as soon as it is stored
  }
  thread_local std::vector<uint8_t> encoded;
  encoded.clear();
  smpp::encode(request, encoded);
  n.pdu = encoded;

  Ticket t;
  t.kind = Ticket::Kind::accept;
  t.executor = origin.executor;
  t.seq = request.sequence_number;
  t.cmd = request.command_id();
  t.version = origin.version;
  t.id = id;
  t.upstream = u->position;
  t.client.assign(client.system_id);
  t.client_index = client.client_index;
  t.registered_delivery = n.registered_delivery;
  t.expires_at = n.expires_at;
  t.trace = trace;
  t.received_at = received_at;
  t.parent_span = parent_span;
  if (n.state == MessageState::dispatched) {
    t.send = true;
    t.ip_key = ip_key;
    t.sticky = sticky;
  }
  t.origin = std::move(origin);
  commit_->write(shard(), [&](store::WriteBatch& b, std::vector<Ticket>& tickets) {
    b.add_message(n);  // copies what `n` views in `request`: only then may it move
    if (t.send) t.pdu = std::move(request);
    tickets.push_back(std::move(t));
  });
  gateway_.metrics_.stored(client.client_index);
}

void StoreForward::committed(std::vector<Ticket>& tickets, const store::WriteFailure* failure) {
  // Runs of tickets with the same executor go in one hand-off.
  std::size_t begin = 0;
  while (begin < tickets.size()) {
    std::size_t end = begin + 1;
    while (end < tickets.size() && tickets[end].executor == tickets[begin].executor) ++end;
    const asio::any_io_executor executor = tickets[begin].executor;
    auto run = std::make_shared<std::vector<Ticket>>(
        std::make_move_iterator(tickets.begin() + static_cast<std::ptrdiff_t>(begin)),
        std::make_move_iterator(tickets.begin() + static_cast<std::ptrdiff_t>(end)));
    std::optional<store::WriteFailure> copy;
    if (failure != nullptr) copy = *failure;
    asio::post(executor, [this, run, copy = std::move(copy)] {
      for (Ticket& t : *run) run_ticket(t, copy ? &*copy : nullptr);
    });
    begin = end;
  }
}

void StoreForward::trace_stored(const Ticket& t, uint32_t status) {
  if (!t.trace.sampled()) return;
  // With storage the client's answer comes once the message is on disk: the message's own span
  // ends there; the upstream's span follows when it is sent.
  gateway_.tracer_->record(t.trace, t.parent_span, "smpp.submit_sm", tracing::SpanKind::server, t.received_at,
                           tracing::now_unix_nanos(),
                           {{"smpp.system_id", t.client.view()},
                            {"smppd.message_id", static_cast<int64_t>(t.id)},
                            {"smpp.command_status", smpp::status_name(status)},
                            {"smppd.stored", status == st::ESME_ROK}},
                           status == st::ESME_ROK ? tracing::StatusCode::unset
                                                  : tracing::StatusCode::error);
}

void StoreForward::run_ticket(Ticket& t, const store::WriteFailure* failure) {
  switch (t.kind) {
    case Ticket::Kind::accept: {
      if (failure != nullptr) {
        // Not stored: never a false ESME_ROK. A full disk is "come back later".
        const uint32_t status = failure->kind == store::WriteFailure::Kind::full
                                    ? st::ESME_RMSGQFUL
                                    : st::ESME_RSYSERR;
        lines().refused("client {}: message refused ({}): {}", t.client.view(),
                        smpp::status_name(status), failure->what);
        trace_stored(t, status);
        counters_.add("smppd_messages_rejected_total",
                      {{"client", t.client.view()}, {"reason", "store_unavailable"}});
        smpp::Pdu r = smpp::make_response(t.cmd, t.seq, status);
        t.origin.answer_here(r);
        return;
      }
      {
        smpp::Pdu r = smpp::make_response(t.cmd, t.seq, st::ESME_ROK);
        set_response_message_id(r, render_message_id(t.id, t.version));
        t.origin.answer_here(r);
      }
      trace_stored(t, st::ESME_ROK);
      if (t.send) {
        send(t);
      } else {
        // Queued behind a backlog, or scheduled: the pump takes it from disk. The pump may
        // be finding the backlog empty while this commit is on its way: `look` makes its next
        // run read again, or the message would wait for the next restart.
        Upstream& u = *upstreams_[t.upstream];
        u.look.store(true);
        kick(u);
      }
      return;
    }
    case Ticket::Kind::send: {
      Upstream& u = *upstreams_[t.upstream];
      if (u.in_hand > 0) --u.in_hand;
      if (failure != nullptr) {
        // The mark was not written: it was not sent, and is read again later.
        u.rescanned = false;
        u.cursor = std::min(u.cursor, t.id - 1);
        kick(u);
        return;
      }
      send(t);
      if (u.in_hand == 0) kick(u);
      return;
    }
    case Ticket::Kind::delivery: {
      ClientDisk& c = *t.disk;
      if (failure != nullptr) {
        // Not stored: the SMSC keeps it and sends it again.
        t.reply(failure->kind == store::WriteFailure::Kind::full ? st::ESME_RMSGQFUL
                                                                 : st::ESME_RSYSERR);
        return;
      }
      t.reply(st::ESME_ROK);
      if (t.stored <= c.cursor) return;  // the loader has taken it from disk already
      if (!c.on_disk.load(std::memory_order_relaxed)) {
        if (gateway_.clients_.deliver(c.name, std::move(t.pdu), false, t.stored)) {
          c.cursor = t.stored;
          return;
        }
        // The client's queue is full: from here its deliveries wait on disk, in order.
        c.on_disk.store(true, std::memory_order_relaxed);
      }
      return;
    }
    case Ticket::Kind::released:
      // Scheduled messages became queued: every pump looks.
      if (failure != nullptr) return;
      for (std::size_t i = 0, n = upstream_count(); i < n; ++i) {
        upstreams_[i]->backlog.store(true, std::memory_order_relaxed);
        kick(*upstreams_[i]);
      }
      return;
    case Ticket::Kind::requeued: {
      Upstream& u = *upstreams_[t.upstream];
      if (failure != nullptr) return;  // carried: the next commit writes it
      u.backlog.store(true, std::memory_order_relaxed);
      u.cursor = std::min(u.cursor, t.id - 1);
      u.rescanned = false;
      kick(u);
      return;
    }
  }
}

// ---- sending ----

void StoreForward::send(Ticket& t) {
  const Millis now = store::now_millis();
  Upstream& u = *upstreams_[t.upstream];
  if (t.expires_at != 0 && now >= t.expires_at) {
    lines().expired("upstream {}: stored message {} of {} expired before it could be sent",
                    u.name, render_message_id(t.id, t.version), t.client.view());
    finish(t.id, MessageState::expired, 0, u.name, "validity_period passed before it was sent");
    if (wants_receipt(t.registered_delivery, false)) make_receipt(t.id, MessageState::expired, 0);
    return;
  }
  upstream::Pool* target = u.pool.load(std::memory_order_acquire);
  std::size_t index = t.upstream;
  bool can_go = target->healthy();
  if (!can_go) {
    // Down, suspended or tripped: the upstream's fallback, if it can take it. (A route's own
    // failover applies at acceptance.)
    if (target->config().failover.enabled) {
      if (Upstream* other = upstream_of(target->config().failover.fallback)) {
        upstream::Pool* alternative = other->pool.load(std::memory_order_acquire);
        if (alternative->healthy()) {
          target = alternative;
          index = other->position;
          can_go = true;
        }
      }
    }
  }
  if (!can_go) {
    // Nothing can take it now: it waits on disk, not in the pool's queue (the pump sends it
    // when the upstream is back, or expires it).
    requeue(t.id, t.version, t.upstream, st::ESME_RSYSERR, "upstream not available");
    return;
  }
  clear_schedule(t.pdu);
  const uint64_t sticky = t.sticky;
  Completion done{this,
                  t.id,
                  index,
                  t.client,
                  t.client_index,
                  t.version,
                  t.registered_delivery,
                  t.trace,
                  t.trace.sampled() ? tracing::now_unix_nanos() : 0};
  static_assert(upstream::Completion::stores_inline<Completion>,
                "the completion of every message must not allocate");
  const asio::any_io_executor near = t.executor;
  target->submit(std::move(t.pdu), std::move(done), t.ip_key, sticky, &near);
}

void StoreForward::requeue(uint64_t id, smpp::Version version, std::size_t upstream,
                           uint32_t status, std::string_view why) {
  Upstream& u = *upstreams_[upstream];
  lines().requeued("upstream {}: stored message {} {} ({}): back on disk, sent later", u.name,
                   render_message_id(id, version), why, smpp::status_name(status));
  u.backlog.store(true, std::memory_order_relaxed);
  Ticket t;
  t.kind = Ticket::Kind::requeued;
  t.executor = u.executor;
  t.id = id;
  t.upstream = upstream;
  commit_->write(shard(), [&](store::WriteBatch& b, std::vector<Ticket>& tickets) {
    b.set_state(id, MessageState::queued, store::now_millis(), status, u.name, why);
    tickets.push_back(std::move(t));
  });
  counters_.add("smppd_messages_requeued_total", {{"upstream", u.name}});
}

void StoreForward::finish(uint64_t id, MessageState state, uint32_t error,
                          std::string_view upstream, std::string_view why) {
  commit_->write(shard(), [&](store::WriteBatch& b, auto&) {
    b.set_state(id, state, store::now_millis(), error, upstream, why);
  });
  counters_.add("smppd_messages_final_total", {{"state", store::state_name(state)}});
}

void StoreForward::make_receipt(uint64_t id, MessageState state, uint32_t error) {
  // Rare (a refusal, an expiry): the message is read back for its addresses and text.
  std::optional<store::StoredMessage> m = store_.message(id);
  if (!m) return;
  smpp::Pdu original;
  smpp::DecodeError de;
  if (!smpp::decode(m->pdu, original, de)) return;
  smpp::Receipt r;
  const auto version = static_cast<smpp::Version>(m->client_version);
  r.id = render_message_id(id, version);
  r.sub = "001";
  r.dlvrd = "000";
  const auto submit = smpp::SmppTime::from_unix_seconds(m->accepted_at / 1000);
  const auto done = smpp::SmppTime::from_unix_seconds(store::now_millis() / 1000);
  r.submit_date = smpp::format_receipt_date(submit);
  r.done_date = smpp::format_receipt_date(done);
  r.state = smpp_state_of(state);
  r.stat = std::string(smpp::stat_word(r.state));
  r.err = fmt::format("{:03}", std::min<uint32_t>(error, 999));
  smpp::DeliverSm d;
  if (const auto* sm = original.as<smpp::SubmitSm>()) {
    d.source_addr_ton = sm->dest_addr_ton;
    d.source_addr_npi = sm->dest_addr_npi;
    d.source_addr.assign(sm->destination_addr.view());
    d.dest_addr_ton = sm->source_addr_ton;
    d.dest_addr_npi = sm->source_addr_npi;
    d.destination_addr.assign(sm->source_addr.view());
  } else {
    d.source_addr.assign(m->destination);
    d.destination_addr.assign(m->source);
  }
  smpp::fill_receipt(d, r, version);
  smpp::Pdu out;
  out.body = std::move(d);
  const bool handed = gateway_.clients_.deliver(m->client, std::move(out), true);
  if (handed) {
    commit_->write(shard(), [&](store::WriteBatch& b, auto&) {
      b.receipt_sent(id, store::now_millis());
    });
  } else {
    lines().receipt_lost("client {}: the receipt smppd made for message {} ({}) is dropped: "
                         "the client's queue is full",
                         m->client, render_message_id(id, version), store::state_name(state));
  }
  counters_.add("smppd_receipts_made_total",
                {{"client", m->client}, {"state", store::state_name(state)}});
}

// ---- the pump ----

void StoreForward::kick(Upstream& u) {
  if (stopping_.load(std::memory_order_relaxed)) return;
  if (u.kick_pending.exchange(true)) return;
  asio::post(u.executor, [this, &u] {
    u.kick_pending.store(false);
    pump(u);
  });
}

void StoreForward::pump(Upstream& u) {
  if (stopping_.load(std::memory_order_relaxed)) return;
  if (u.look.exchange(false)) u.backlog.store(true, std::memory_order_relaxed);
  if (!u.backlog.load(std::memory_order_relaxed) || u.in_hand > 0) return;
  auto again = [&](auto delay) {
    u.timer->expires_after(delay);
    u.timer->async_wait([this, &u](const boost::system::error_code& ec) {
      if (!ec) pump(u);
    });
  };
  upstream::Pool* pool = u.pool.load(std::memory_order_acquire);
  if (!pool->healthy()) {
    bool fallback = false;
    if (pool->config().failover.enabled) {
      if (Upstream* other = upstream_of(pool->config().failover.fallback)) {
        fallback = other->pool.load(std::memory_order_acquire)->healthy();
      }
    }
    if (!fallback) return again(kPumpIdle);
  }
  if (pool->queued() >= kPumpBatch) return again(kPumpBusy);
  std::vector<store::StoredMessage> rows = store_.to_send(u.name, u.cursor, kPumpBatch);
  if (rows.empty()) {
    if (u.cursor != 0 && !u.rescanned) {
      // Requeued messages may sit behind the cursor: one pass from the start.
      u.cursor = 0;
      u.rescanned = true;
      return pump(u);
    }
    u.backlog.store(false, std::memory_order_relaxed);
    u.cursor = 0;
    u.rescanned = false;
    // A message queued while the last read ran: its ticket sets `look` and kicks again.
    return;
  }
  u.rescanned = false;
  const std::size_t index = u.position;
  const Millis now = store::now_millis();
  std::vector<Ticket> sends;
  sends.reserve(rows.size());
  for (store::StoredMessage& m : rows) {
    u.cursor = std::max(u.cursor, m.id);
    Ticket t;
    t.kind = Ticket::Kind::send;
    t.executor = u.executor;
    t.id = m.id;
    t.upstream = index;
    t.version = static_cast<smpp::Version>(m.client_version);
    t.client.assign(m.client);
    t.client_index = gateway_.metrics_.client_index(m.client);
    t.registered_delivery = m.registered_delivery;
    t.expires_at = m.expires_at;
    t.ip_key = 0;
    smpp::DecodeError de;
    if (!smpp::decode(m.pdu, t.pdu, de)) {
      log::error("store: message {} of {} for upstream {} cannot be read back (its PDU is "
                 "damaged): failed",
                 render_message_id(m.id, t.version), m.client, u.name);
      finish(m.id, MessageState::failed, st::ESME_RSYSERR, u.name, "stored PDU unreadable");
      continue;
    }
    t.sticky = message_parts_key(t.pdu, message_concat(t.pdu), m.client);
    sends.push_back(std::move(t));
  }
  u.in_hand += sends.size();
  commit_->write(shard(), [&](store::WriteBatch& b, std::vector<Ticket>& tickets) {
    for (Ticket& t : sends) {
      b.dispatched(t.id, u.name, now);
      tickets.push_back(std::move(t));
    }
  });
}

// ---- housekeeping: scheduled messages, retention ----

void StoreForward::housekeeping() {
  if (stopping_.load()) return;
  const Millis now = store::now_millis();
  const Millis due = store_.next_scheduled();
  if (due != 0 && due <= now) {
    // The released messages are queued: every upstream's pump looks once that is written.
    Ticket t;
    t.kind = Ticket::Kind::released;
    t.executor = executors_[0];
    commit_->write(shard(), [&](store::WriteBatch& b, std::vector<Ticket>& tickets) {
      b.release_scheduled(now);
      tickets.push_back(std::move(t));
    });
  }
  for (std::size_t i = 0, n = upstream_count(); i < n; ++i) {
    if (upstreams_[i]->backlog.load(std::memory_order_relaxed)) kick(*upstreams_[i]);
  }
  for (auto& [name, c] : clients_) {
    if (c->on_disk.load(std::memory_order_relaxed)) kick_load(*c);
  }
  housekeeping_->expires_after(kHousekeeping);
  housekeeping_->async_wait([this](const boost::system::error_code& ec) {
    if (!ec) housekeeping();
  });
}

// ---- deliveries ----

StoreForward::ClientDisk* StoreForward::disk_of(std::string_view client) {
  auto it = clients_.find(client);
  return it == clients_.end() ? nullptr : it->second.get();
}

void StoreForward::deliver(std::string_view client, smpp::Pdu pdu, uint64_t message_id,
                           smpp::MessageState state, uint32_t error,
                           const upstream::DeliveryReply& reply) {
  ClientDisk* c = disk_of(client);
  if (c == nullptr) {
    // Not a configured client (mo_routes and receipts name configured ones): as before the
    // store, straight to memory.
    reply(gateway_.clients_.deliver(client, std::move(pdu)) ? st::ESME_ROK : st::ESME_RMSGQFUL);
    return;
  }
  thread_local std::vector<uint8_t> encoded;
  encoded.clear();
  smpp::encode(pdu, encoded);
  const Millis now = store::now_millis();
  const MessageState final_state = state_of(state);
  Ticket t;
  t.kind = Ticket::Kind::delivery;
  t.executor = c->executor;
  t.disk = c;
  t.reply = reply;
  t.pdu = std::move(pdu);
  // The client's own shard: its deliveries are numbered in the order they are committed.
  commit_->write(c->shard, [&](store::WriteBatch& b, std::vector<Ticket>& tickets) {
    t.stored = next_delivery_seq_.fetch_add(1, std::memory_order_relaxed);
    b.add_delivery(t.stored, client, now, message_id, encoded);
    if (message_id != 0 && store::is_final(final_state)) {
      b.set_state(message_id, final_state, now, error);
    }
    tickets.push_back(std::move(t));
  });
  gateway_.metrics_.delivery_stored(gateway_.metrics_.client_index(client));
}

void StoreForward::client_bound(std::string_view client) {
  if (ClientDisk* c = disk_of(client); c != nullptr && c->on_disk.load()) kick_load(*c);
}

void StoreForward::delivered(std::string_view client, uint64_t seq) {
  ClientDisk* c = disk_of(client);
  commit_->write(c != nullptr ? c->shard : shard(), [&](store::WriteBatch& b, auto&) {
    b.remove_delivery(seq, store::now_millis());
  });
  if (c != nullptr && c->on_disk.load(std::memory_order_relaxed) &&
      gateway_.clients_.waiting(client) < kClientQueue / 2) {
    kick_load(*c);
  }
}

void StoreForward::kick_load(ClientDisk& c) {
  if (stopping_.load(std::memory_order_relaxed)) return;
  if (c.load_pending.exchange(true)) return;
  asio::post(c.executor, [this, &c] {
    c.load_pending.store(false);
    load(c);
  });
}

void StoreForward::load(ClientDisk& c) {
  if (!c.on_disk.load(std::memory_order_relaxed)) return;
  const std::size_t waiting = gateway_.clients_.waiting(c.name);
  if (waiting >= kClientQueue) return;  // kicked again as it drains
  const std::size_t room = kClientQueue - waiting;
  std::vector<store::StoredDelivery> rows = store_.deliveries(c.name, c.cursor, room);
  for (store::StoredDelivery& row : rows) {
    smpp::Pdu pdu;
    smpp::DecodeError de;
    if (!smpp::decode(row.pdu, pdu, de)) {
      log::error("store: delivery {} for {} cannot be read back (damaged): dropped", row.seq,
                 c.name);
      commit_->write(c.shard, [&](store::WriteBatch& b, auto&) {
        b.remove_delivery(row.seq, store::now_millis());
      });
      c.cursor = row.seq;
      continue;
    }
    if (!gateway_.clients_.deliver(c.name, std::move(pdu), true, row.seq)) return;
    c.cursor = row.seq;
  }
  // Everything on disk is in memory now: new deliveries go straight there again.
  if (rows.size() < room) c.on_disk.store(false, std::memory_order_relaxed);
}

void StoreForward::purge() {
  // Retention in small steps: kPurgeStep every kPurgeInterval keeps up with 20,000 messages a
  // second, each step a few milliseconds of the committer's time. With nothing old enough, a
  // step looks at no row (the scan stops at the first id of the cut-off instant).
  if (stopping_.load()) return;
  purge_timer_->expires_after(kPurgeInterval);
  purge_timer_->async_wait([this](const boost::system::error_code& ec) {
    if (!ec) purge();
  });
  const Millis now = store::now_millis();
  const Millis messages_before = now - config_.submit_sm.retention.count();
  const Millis deliveries_before = now - config_.deliver_sm.retention.count();
  commit_->write(shard(), [&](store::WriteBatch& b, auto&) {
    b.purge(messages_before, deliveries_before, kPurgeStep,
            first_message_id_at(messages_before));
  });
}

// ---- receipts and queries ----

void StoreForward::receipt(uint64_t id, smpp::MessageState state, uint32_t error, bool handed) {
  const MessageState s = state_of(state);
  const Millis now = store::now_millis();
  commit_->write(shard(), [&](store::WriteBatch& b, auto&) {
    if (store::is_final(s)) b.set_state(id, s, now, error);
    if (handed) b.receipt_sent(id, now);
  });
}

std::optional<MessageRecord> StoreForward::find_by_smsc_id(std::string_view upstream,
                                                           uint32_t upstream_index,
                                                           std::string_view smsc_id) {
  const std::optional<uint64_t> id = store_.find_by_smsc_id(upstream, smsc_id);
  if (!id) return std::nullopt;
  const std::optional<store::StoredMessage> m = store_.message(*id);
  if (!m) return std::nullopt;
  MessageRecord rec;
  rec.id = m->id;
  rec.client.assign(m->client);
  rec.client_index = gateway_.metrics_.client_index(m->client);
  rec.upstream = upstream_index;
  rec.smsc_id.assign(smsc_id);
  rec.client_version = static_cast<smpp::Version>(m->client_version);
  rec.final_receipt = store::is_final(m->state);
  return rec;
}

StoreForward::Query StoreForward::query(std::string_view client, uint64_t id,
                                        const smpp::Pdu& request, smpp::Version) {
  Query q;
  const std::optional<store::StoredMessage> m = store_.message(id);
  if (!m || m->client != client) {
    q.status = m ? st::ESME_RQUERYFAIL : st::ESME_RINVMSGID;
    return q;
  }
  const bool ask_smsc = (m->state == MessageState::submitted ||
                         m->state == MessageState::unconfirmed) &&
                        !m->smsc_id.empty();
  if (ask_smsc) {
    q.smsc_id = m->smsc_id;
    q.upstream = m->upstream;
    return q;
  }
  smpp::Pdu r = smpp::make_response(CommandId::query_sm, request.sequence_number, st::ESME_ROK);
  auto* resp = r.as<smpp::QuerySmResp>();
  if (const auto* qs = request.as<smpp::QuerySm>()) resp->message_id.assign(qs->message_id.view());
  resp->message_state = static_cast<uint8_t>(smpp_state_of(m->state));
  if (store::is_final(m->state) && m->done_at != 0) {
    resp->final_date.assign(
        smpp::format_time(smpp::SmppTime::from_unix_seconds(m->done_at / 1000)));
  }
  resp->error_code = static_cast<uint8_t>(std::min<uint32_t>(m->error, 0xff));
  q.answer = std::move(r);
  return q;
}

}  // namespace smppd::gateway
