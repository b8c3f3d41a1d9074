// Store and forward (`storage.enabled`): a client's message is answered ESME_ROK with smppd's
// id once it is durably in the store, then sent to its upstream from there.
//
//   accept ──group commit──▶ answer ESME_ROK ──▶ send (pool) ──▶ submitted / refused / …
//                                   │
//                  (upstream busy, down or backlogged) ──▶ queued on disk ──▶ pump ──▶ send
//
// What the SMSC answers afterwards reaches the client as a delivery receipt when it asked for
// one: a refusal becomes REJECTD (its status in err:), a message past its validity_period is
// not sent and becomes EXPIRED. A message in flight towards the SMSC is kept in memory only
// until its answer; one that cannot go (the pool's queue is full, the upstream down, throttled
// to its deadline, smppd stopping) goes back to disk, and a per-upstream pump reads the queued
// messages back in accepted order, a batch at a time, when the pool has room. Memory is
// therefore bounded by the clients' windows, the pools' queues and one batch per upstream,
// whatever the backlog on disk.
//
// Each send is recorded (`dispatched`) in the same commit as the message, or before the pump
// sends it: after a crash, `dispatched` without an answer is exactly what may reach the SMSC
// twice; it is counted and logged and sent again (at least once).
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/steady_timer.hpp>

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "config/config.hpp"
#include "core/counters.hpp"
#include "core/string_map.hpp"
#include "gateway/clients.hpp"
#include "tracing/trace_context.hpp"
#include "gateway/message_map.hpp"
#include "gateway/origin.hpp"
#include "router/router.hpp"
#include "session/session.hpp"
#include "smpp/receipt.hpp"
#include "store/cdr_feed.hpp"
#include "store/group_commit.hpp"
#include "store/store.hpp"
#include "upstream/pool.hpp"

namespace smppd::gateway {

namespace asio = boost::asio;

class Gateway;

class StoreForward {
 public:
  StoreForward(Gateway& gateway, store::Store& store, const config::Config& config,
               Counters& counters);
  ~StoreForward();

  // Resumes what the store holds (after a crash: counted and logged) and starts the committer,
  // the pumps and the housekeeping timers. The highest message id stored, for the id source.
  uint64_t start(const std::vector<asio::any_io_executor>& executors);
  // Before the pools stop: no more pumping. What the pools give back is still written.
  void stop();

  // A client's submit_sm / data_sm / submit_multi, routed to `target` by `decision`.
  // `upstream`: the target's MessageMap::upstream_index; `ip_key`, `sticky`: the balancing keys
  // (ip_hash, a long message's parts); `parts`: 1, or the total of the long message it is part
  // of.
  // `facts`, `decision`: how it was routed.
  // `trace`: the message's (spans only when sampled), received at `received_at`.
  void accept(Origin origin, const ClientRef& client, smpp::Pdu& request, uint64_t id,
              const router::MessageFacts& facts, const router::Decision& decision,
              uint32_t upstream, uint64_t ip_key, uint64_t sticky, uint16_t parts,
              const tracing::SpanContext& trace = {}, uint64_t received_at = 0,
              tracing::SpanId parent_span = {}, std::string_view callback = {});

  // A receipt from the SMSC matched to message `id`: its state is recorded; `handed`: the
  // client's registry took it.
  void receipt(uint64_t id, smpp::MessageState state, uint32_t error, bool handed);

  // Deliveries (storage.deliver_sm): a receipt (for message `message_id`, its state recorded
  // too) or an MO (`message_id` 0) for `client` is stored; then the SMSC is answered through
  // `reply` (an error when it could not be stored: the SMSC keeps it); then it goes to the
  // client — or waits on disk while the client's queue is full, and is read back as it drains
  // or when the client binds. Removed from the store once the client has answered it.
  void deliver(std::string_view client, smpp::Pdu pdu, uint64_t message_id,
               smpp::MessageState state, uint32_t error, const upstream::DeliveryReply& reply);
  void client_bound(std::string_view client);
  // The registry's hook: the client answered stored delivery `seq`.
  void delivered(std::string_view client, uint64_t seq);
  // In-memory deliveries per client beyond which they wait on disk.
  static constexpr std::size_t kClientQueue = 1'000;
  // The message a receipt names, from the store (after a restart, or long after the id map
  // forgot it).
  std::optional<MessageRecord> find_by_smsc_id(std::string_view upstream, uint32_t upstream_index,
                                               std::string_view smsc_id);
  // query_sm: the answer from the store when the message is final or not sent yet; nullopt
  // when the SMSC must be asked (with `smsc_id` and `upstream` set), or the message is not the
  // client's or unknown (`status` set).
  struct Query {
    std::optional<smpp::Pdu> answer;
    uint32_t status = 0;  // when neither answer nor smsc_id
    std::string smsc_id;
    std::string upstream;
  };
  Query query(std::string_view client, uint64_t id, const smpp::Pdu& request,
              smpp::Version version);

  const store::GroupCommitStats& commit_stats() const { return commit_->stats(); }
  // False while commits fail (a full disk, an I/O error): new messages are refused meanwhile.
  bool writable() const { return !commit_ || !commit_->failing(); }

  // A reload added upstream `name` or replaced its pool: its messages go to `pool` from now on
  // (`index`: its MessageMap::upstream_index). Called before routes can name a new upstream.
  // A removed upstream keeps its entry: its stopped pool takes nothing, so its messages stay
  // queued on disk until it comes back. False when no more upstreams fit (kMaxUpstreams).
  bool set_upstream(const std::string& name, upstream::Pool* pool, uint32_t index);
  static constexpr std::size_t kMaxUpstreams = 4096;  // every name seen since start

 private:
  // Per client: its deliveries in the store. Its deliveries are all written through one shard,
  // so their numbers are in commit order, and their tickets and the loader run on one
  // executor: in that order.
  struct ClientDisk {
    std::string name;
    std::size_t shard = 0;
    asio::any_io_executor executor;
    std::atomic<bool> on_disk{false};  // some wait only on disk: new ones queue behind them
    std::atomic<bool> load_pending{false};
    uint64_t cursor = 0;  // (executor only) deliveries up to here are in memory or done
  };
  // What a committed write leads to, run on `executor`.
  struct Ticket {
    enum class Kind : uint8_t { accept, send, requeued, released, delivery } kind = Kind::accept;
    asio::any_io_executor executor;
    Origin origin;  // accept: where the answer goes
    uint32_t seq = 0;
    smpp::CommandId cmd = smpp::CommandId::submit_sm;
    smpp::Version version = smpp::Version::v34;
    uint64_t id = 0;
    bool send = false;  // accept: send it once answered
    std::size_t upstream = 0;  // index into upstreams_ (send, requeued)
    // What to send (accept with send, and send).
    smpp::Pdu pdu;
    smpp::CStr<16> client;
    uint16_t client_index = 0xFFFF;  // MessageMetrics::client_index
    uint8_t registered_delivery = 0;
    store::Millis expires_at = 0;
    uint64_t ip_key = 0;
    uint64_t sticky = 0;
    // accept: the message's trace (sampled: spans recorded) and when it came.
    tracing::SpanContext trace;
    uint64_t received_at = 0;
    tracing::SpanId parent_span{};  // the remote parent of the message's span, if any
    // delivery: its number in the store, its client, the SMSC's answer.
    uint64_t stored = 0;
    ClientDisk* disk = nullptr;
    upstream::DeliveryReply reply;
  };
  struct Outgoing;
  struct Completion;
  // Per upstream: the backlog on disk and its pump (on `executor`).
  struct Upstream {
    std::string name;
    std::size_t position = 0;  // in upstreams_
    // Replaced by a reload (set_upstream); a pool replaced or removed stays alive (the gateway
    // keeps it), and one read just before a swap answers ESME_RTHROTTLED: the message is
    // requeued.
    std::atomic<upstream::Pool*> pool{nullptr};
    uint32_t index = 0;  // MessageMap::upstream_index
    asio::any_io_executor executor;
    std::unique_ptr<asio::steady_timer> timer;
    std::atomic<bool> backlog{false};  // queued messages on disk: new ones queue behind them
    std::atomic<bool> kick_pending{false};
    // A message was queued on disk (committed): the pump reads again even if its last read
    // found nothing (that read may have run before the commit).
    std::atomic<bool> look{false};
    uint64_t cursor = 0;   // the pump's place (executor only)
    uint64_t in_hand = 0;  // read, marked dispatched, not yet sent (executor only)
    bool rescanned = false;
  };

  void committed(std::vector<Ticket>& tickets, const store::WriteFailure* failure);
  void run_ticket(Ticket& t, const store::WriteFailure* failure);
  // The span of a sampled message from its arrival to its answer (stored, or refused).
  void trace_stored(const Ticket& t, uint32_t status);
  void send(Ticket& t);
  // The message is back on disk (not sent): the pump takes it again.
  void requeue(uint64_t id, smpp::Version version, std::size_t upstream, uint32_t status,
               std::string_view why);
  void finish(uint64_t id, store::MessageState state, uint32_t error, std::string_view upstream,
              std::string_view why);
  // A receipt made by smppd (refused, expired) for a message whose client asked for one.
  void make_receipt(uint64_t id, store::MessageState state, uint32_t error);
  void kick(Upstream& u);
  void pump(Upstream& u);
  void housekeeping();
  void purge();
  void kick_load(ClientDisk& c);
  void load(ClientDisk& c);
  ClientDisk* disk_of(std::string_view client);
  std::size_t shard();
  Upstream* upstream_of(std::string_view name);

  Gateway& gateway_;
  store::Store& store_;
  config::StorageConfig config_;
  std::vector<std::string> client_names_;
  Counters& counters_;
  std::unique_ptr<store::CdrFeed> cdrs_;  // storage.cdr
  std::unique_ptr<store::GroupCommit<Ticket>> commit_;
  std::vector<asio::any_io_executor> executors_;
  // Append-only, read from every thread without a lock: kMaxUpstreams slots, the first
  // `upstream_count_` filled (published with release).
  std::unique_ptr<std::unique_ptr<Upstream>[]> upstreams_;
  std::atomic<std::size_t> upstream_count_{0};
  std::unique_ptr<std::atomic<Upstream*>[]> by_index_;  // by MessageMap::upstream_index
  std::mutex upstreams_mutex_;  // adding
  std::size_t upstream_count() const { return upstream_count_.load(std::memory_order_acquire); }
  std::unique_ptr<asio::steady_timer> housekeeping_;
  std::unique_ptr<asio::steady_timer> purge_timer_;
  StringMap<std::unique_ptr<ClientDisk>> clients_;  // every configured client; fixed at start
  std::atomic<uint64_t> next_delivery_seq_{1};
  std::atomic<bool> stopping_{false};
};

}  // namespace smppd::gateway
