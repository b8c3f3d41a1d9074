// The life of a message: a client's submit_sm, data_sm or submit_multi is routed (Router) to an
// upstream pool; the SMSC's response comes back to the client with smppd's message id in place
// of the SMSC's; the SMSC's delivery receipt is matched to the message and sent to the client
// that submitted it with smppd's id; MO messages go to the client mo_routes name.
//
// Without storage smppd is a transparent proxy: the client's response carries the upstream's
// status, and a message is accepted only when the upstream accepted it. With storage
// (store_forward.hpp) a message is accepted once it is durably stored, then sent from there.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/steady_timer.hpp>

#include <array>
#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "config/config.hpp"
#include "core/counters.hpp"
#include "gateway/client_limits.hpp"
#include "gateway/clients.hpp"
#include "gateway/origin.hpp"
#include "gateway/message_callbacks.hpp"
#include "gateway/message_ids.hpp"
#include "gateway/message_map.hpp"
#include "gateway/message_metrics.hpp"
#include "gateway/message_traces.hpp"
#include "gateway/number_lookup.hpp"
#include "gateway/part_joiner.hpp"
#include "gateway/parts_upstreams.hpp"
#include "gateway/route_scripts.hpp"
#include "middleware/chain.hpp"
#include "router/mo_router.hpp"
#include "router/router.hpp"
#include "session/session.hpp"
#include "smpp/receipt.hpp"
#include "smpp/segment.hpp"
#include "store/store.hpp"
#include "tracing/tracer.hpp"
#include "upstream/pool.hpp"

namespace smppd::gateway {

namespace asio = boost::asio;

class StoreForward;

// The concatenation (UDH, else SAR TLVs) of a submit_sm or data_sm part; empty for a message in
// one piece.
std::optional<smpp::ConcatInfo> message_concat(const smpp::Pdu& pdu);
// A key shared by the parts of one long message (`concat`, from message_concat) of one client
// to one destination, so that they go out on the same upstream connection; 0 for a message in
// one part.
uint64_t message_parts_key(const smpp::Pdu& pdu, const std::optional<smpp::ConcatInfo>& concat,
                           std::string_view client);
// The routing facts of a client's submit_sm, data_sm or submit_multi (views into `pdu`; for a
// submit_multi, its first SME destination). False for another PDU.
bool message_facts(const smpp::Pdu& pdu, router::MessageFacts& f);
// The destination as an MNP lookup takes it (an optional '+' and 1 to 15 digits, not starting
// with 0), or nothing: an alphanumeric or national number has no MNP answer.
std::optional<std::string_view> mnp_number(std::string_view destination);
// The message_id of a submit_sm_resp, data_sm_resp or submit_multi_resp.
std::string_view response_message_id(const smpp::Pdu& resp);
void set_response_message_id(smpp::Pdu& out, std::string_view id);

class Gateway final : public upstream::PoolEvents {
 public:
  // `max_held_receipts`: receipts that may wait at once for their message (see deliver_receipt);
  // beyond, the SMSC is answered ESME_RMSGQFUL and sends it again later.
  static constexpr std::size_t kMaxHeldReceipts = 100'000;
  // Receipts and MO that may wait in memory per client (with storage, fewer: the rest wait on
  // disk).
  static constexpr std::size_t kClientQueue = 100'000;
  // `store`: with storage enabled, where messages are kept (store and forward); it must
  // outlive the gateway.
  // `tracer`: with tracing on, where spans of sampled messages go; it must outlive the gateway.
  Gateway(std::shared_ptr<const config::Config> config, Counters& counters,
          std::size_t max_held_receipts = kMaxHeldReceipts, store::Store* store = nullptr,
          tracing::Tracer* tracer = nullptr);
  ~Gateway() override;

  // Starts a pool per upstream. `simulators`: upstream name -> the address of its built-in
  // simulator.
  void start(std::vector<boost::asio::any_io_executor> executors,
             const std::map<std::string, config::HostPort>& simulators);
  void stop(session::Duration grace);

  // From client sessions, on their executors.
  void client_bound(session::Session& s, ClientState& state);
  void client_closed(session::Session& s, ClientState& state);
  void client_window_open(ClientState& state);
  void client_request(session::Session& s, ClientState& state, smpp::Pdu& request);
  void client_response(session::Session& s, ClientState& state, uint64_t cookie,
                       session::Outcome outcome, const smpp::Pdu* response);

  // A client of another face (HTTP, gRPC), found by its system_id when it is authenticated:
  // its metrics index and its rate_limit entry (null when not configured).
  struct FaceClient {
    std::string system_id;
    uint16_t client_index = 0xFFFF;
    std::shared_ptr<ClientLimit> limit;
    std::shared_ptr<const config::ClientConfig> external;  // an external client's settings
    ClientRef ref() const { return ClientRef{system_id, client_index, limit.get(), external}; }
  };
  FaceClient face_client(std::string_view system_id);
  // The same for a client an external backend admitted with `settings` (extauth/).
  FaceClient face_client(std::shared_ptr<const config::ClientConfig> settings);
  // A submit_sm from another face, as an SMPP client of that name would send it: the same
  // rate limit, routing, forced upstream and store; answered once through `origin` with the
  // submit_sm_resp the SMPP client would get (the response's sequence_number is the request's).
  // The face keeps the client's window (session::SharedWindow) itself. Any thread.
  // `ip_key`: the client's address as a balancing key (ip_hash), 0 for none. `parent`: the
  // trace the request came with (an HTTP traceparent): the message's spans join it.
  // `callback`: what the message asked to be told by HTTP (its receipts, the SMSC's answer);
  // registered before the message goes out, so that nothing about it can come back first.
  void submit(Origin origin, const ClientRef& client, smpp::Pdu& request, uint64_t ip_key = 0,
              const tracing::SpanContext* parent = nullptr,
              std::shared_ptr<const CallbackSpec> callback = nullptr);

  // upstream::PoolEvents
  uint32_t on_delivery(upstream::Pool& pool, smpp::Pdu& pdu,
                       const upstream::DeliveryReply& later) override;

  // A new configuration (validated whole by the loader): routes and mo_routes apply to the next
  // message; upstreams added start, removed ones drain their in-flight requests then unbind,
  // changed ones are replaced by a pool of the new settings that takes over the old one's
  // queue while the old one drains. With storage, the pumps send to the new pools; messages
  // stored for a removed upstream wait on disk until it is configured again. What cannot
  // change without a restart (a built-in simulator's upstream) is kept as it was and named in
  // `restart_needed`; what changed is named in `applied`.
  struct Changes {
    std::vector<std::string> applied;
    std::vector<std::string> restart_needed;
  };
  Changes reconfigure(std::shared_ptr<const config::Config> next,
                      const std::map<std::string, config::HostPort>& simulators,
                      session::Duration grace);

  upstream::Pool* pool(std::string_view name);
  // The name of the upstream of that MessageMap index (empty when none).
  std::string upstream_name(uint32_t index);
  // Every upstream's pool, in configuration order (none before start()).
  std::vector<upstream::Pool*> pools() const;
  ClientRegistry& clients() { return clients_; }
  const ClientLimits& client_limits() const { return client_limits_; }
  MessageMap& messages() { return messages_; }
  // Messages' HTTP callbacks, and the attempts made for them.
  MessageCallbacks& callbacks() { return callbacks_; }
  // Told of the SMSC's answer to messages with a callback. Set once, before start().
  void callback_events(CallbackEvents* events) { callback_events_ = events; }
  // Where routes by mcc, mnc or is_ported get the destination's MNP answer (null: they see
  // none, and do not match). Set once, before start(); it must outlive the gateway's messages.
  void number_lookup(NumberLookup* lookup) { number_lookup_ = lookup; }
  // Messages waiting for their MNP answer right now.
  std::size_t awaiting_number() const { return awaiting_number_.load(std::memory_order_relaxed); }
  // The configuration in effect (the last one reconfigure() took).
  std::shared_ptr<const config::Config> config() const;
  // Receipts waiting for their message right now.
  std::size_t held_receipts() const { return held_count_.load(std::memory_order_relaxed); }
  // With storage, else null.
  StoreForward* store_forward() { return spool_.get(); }

 private:
  friend class StoreForward;
  // `from_face`: built by smppd's HTTP or gRPC face (its parts are smppd's own cut: never
  // joined, their ids are what the face reports).
  void forward(Origin origin, const ClientRef& client, smpp::Pdu& request, uint64_t ip_key,
               const tracing::SpanContext* parent = nullptr,
               std::shared_ptr<const CallbackSpec> callback = nullptr, bool from_face = false);
  // The logger middleware's line for a message.
  static void log_message(config::LogLevel level, std::string_view client, smpp::CommandId cmd,
                          const router::MessageFacts& f,
                          const std::optional<middleware::Rejection>& rejection);
  // The SMSC answered message `id` (its last part): its callback, if it has one, is told.
  void submit_outcome(uint64_t id, std::string_view client, uint8_t client_version,
                      uint32_t status, std::string_view smsc_id, std::string_view upstream);
  // query_sm, cancel_sm, replace_sm: to the upstream that took the message.
  void ask_upstream(session::Session& s, ClientState& state, smpp::Pdu& request);
  // What becomes of a message the pool took (upstream::Completion): the client's response with
  // the upstream's status and smppd's id, the id map's record, the log and counters. Kept
  // inline in the pool's request: no allocation per message.
  struct MessageCompletion {
    Gateway* gateway;
    Origin origin;
    uint32_t seq;
    smpp::CommandId cmd;
    uint64_t id;  // smppd's message id (written as origin.version says)
    smpp::CStr<16> client;
    std::string_view upstream;  // the pool's name (lives as long as the gateway)
    uint32_t upstream_index;
    uint16_t client_index;
    // Its trace (empty unless sampled): when it came and when it went upstream.
    tracing::SpanContext trace;
    uint64_t received_at = 0;
    uint64_t sent_at = 0;
    tracing::SpanId parent_span{};  // the remote parent of the message's span, if any
    void operator()(upstream::Result r, smpp::Pdu* resp, std::string_view host);
    MessageRecord record(std::string_view smsc_id) const;
    // The spans of a sampled message once answered: its own (received -> answered) and the
    // upstream's (sent -> response).
    void trace_response(upstream::Result r, uint32_t status, std::string_view smsc_id) const;
    void part(const smpp::Pdu* resp) const;
    void late(const smpp::Pdu* resp, std::string_view host) const;
  };
  // `later`: with deliveries stored, the SMSC is answered once the receipt is stored (or given
  // up); empty otherwise, and the return value is the answer.
  uint32_t deliver_receipt(upstream::Pool& pool, smpp::Pdu& pdu,
                           const upstream::DeliveryReply& later);
  // nullopt when no message matches (yet); else the status for the SMSC.
  std::optional<uint32_t> forward_receipt(std::string_view upstream, std::string_view id,
                                          smpp::MessageState state, const smpp::Pdu& pdu,
                                          int attempt, const upstream::DeliveryReply& later);
  // A receipt matched and taken for its client: counted, and traced when its message was.
  void receipt_taken(const MessageRecord& record, uint32_t upstream_index,
                     std::string_view upstream, smpp::MessageState state);
  void hold_receipt(std::string upstream, std::string id, smpp::MessageState state, smpp::Pdu pdu,
                    int attempt, upstream::DeliveryReply later);
  uint32_t deliver_mo(upstream::Pool& pool, smpp::Pdu& pdu, const upstream::DeliveryReply& later);
  // Deliveries go through the store (storage.deliver_sm), answered later.
  bool stores_deliveries() const { return spool_ && config_->storage.deliver_sm.enabled; }

  std::shared_ptr<const config::Config> config_;  // the one it started with
  Counters& counters_;
  MessageMetrics metrics_;
  MessageIdSource ids_;
  MessageMap messages_;
  ClientRegistry clients_;
  ClientLimits client_limits_;
  std::vector<asio::any_io_executor> executors_;
  // What an upstream's receipt ids have shown. An upstream seen to match exactly is never
  // matched by conversion (but after the last wait), as sequential decimal ids convert into
  // each other.
  enum class IdMode : uint8_t {
    unknown,    // no receipt matched yet
    exact,      // the same ids as its responses
    converted,  // hex/decimal conversions of them
  };
  struct UpstreamEntry {
    std::shared_ptr<upstream::Pool> pool;
    uint32_t index = 0;  // MessageMap::upstream_index
    std::atomic<IdMode> id_mode{IdMode::unknown};
  };
  // What a message's way is decided by, replaced whole by reconfigure(): the configuration,
  // its routers, and the upstreams by name and by MessageMap index.
  struct Snapshot {
    std::shared_ptr<const config::Config> config;
    std::shared_ptr<const router::Router> router;
    std::shared_ptr<const router::MoRouter> mo_router;
    std::shared_ptr<const middleware::Chain> chain;  // before routing
    std::shared_ptr<const RouteScripts> scripts;      // null when no route has a script
    std::map<std::string, std::shared_ptr<UpstreamEntry>, std::less<>> upstreams;
    std::vector<UpstreamEntry*> by_index;
  };
  // This thread's view of the current snapshot: an atomic load and a comparison once seen (no
  // lock, no reference count per message). A snapshot stays alive at least kSnapshotLinger
  // after it is replaced, far longer than any thread holds the reference it got here.
  const Snapshot& now() const;
  static constexpr std::chrono::seconds kSnapshotLinger{60};
  // The runner of the routes' scripts for `config` (null when none has one).
  std::shared_ptr<const RouteScripts> make_scripts(std::shared_ptr<const config::Config> config,
                                                   const router::Router& router);
  // A message's trace as it was when it came.
  struct MessageTrace {
    tracing::SpanContext trace;
    tracing::SpanId parent_span{};  // the remote parent of the message's span, if any
    uint64_t received_at = 0;
  };
  // A message its client sent as parts, joined (multipart.reassembly): it goes on whole and is
  // cut again for the upstream.
  struct Joined {
    bool whole = false;
    std::shared_ptr<const AsSent> as_sent;  // how its client cut it
  };
  // Whether the message path must see a long message whole: a transform reads or writes its
  // text, or a route has a script.
  bool needs_whole(const Snapshot& snap) const;
  // A part of a client's submit_sm, before the middleware: false when it was answered here
  // (held, a duplicate, refused); true when it goes on, whole (`joined`) or as it came.
  // `start_new`: needs_whole() now (else only parts of messages being joined are taken).
  bool join_part(Origin& origin, const ClientRef& client, smpp::Pdu& request, Joined& joined,
                 bool start_new);
  // The held parts of a message that went no further: a receipt for each that asked for one.
  void give_up(const GivenUp& message, smpp::MessageState state, uint32_t error,
               std::string_view reason);
  // A joined message cut again for `target`: as its client cut it when its text is as it came,
  // else as multipart.segmentation says. The status it is refused with, or ESME_ROK.
  uint32_t cut_joined(const Snapshot& snap, const upstream::Pool& target, smpp::Pdu& request,
                      const AsSent& as_sent, std::vector<smpp::SubmitSm>& more_parts);
  // Every `period`, messages whose parts stopped coming are given up.
  void arm_part_timer(std::chrono::milliseconds period);
  // forward() from the routing step on (past the limits and the middleware): the route, its
  // upstream, the pool or the store, and the client's answer.
  // `more_parts`: the parts after `request` of a text a transform lengthened.
  void route_message(const Snapshot& snap, Origin origin, const ClientRef& client,
                     smpp::Pdu& request, const router::MessageFacts& facts, uint64_t ip_key,
                     const MessageTrace& traced, std::shared_ptr<const CallbackSpec> callback,
                     std::vector<smpp::SubmitSm> more_parts, const Joined& joined);
  // A message waiting for its destination's MNP answer; it owns what forward() had as views.
  struct AwaitingNumber;
  // The answer came (on the message's origin executor): routed with it.
  void number_answered(AwaitingNumber& m, const NumberAnswer& answer);
  std::shared_ptr<upstream::Pool> make_pool(const config::UpstreamConfig& u,
                                            const std::map<std::string, config::HostPort>& simulators);
  mutable std::mutex snapshot_mutex_;
  std::shared_ptr<const Snapshot> snapshot_;
  // (unique per gateway) << 32 | generation: what a thread compares with what it saw.
  std::atomic<uint64_t> stamp_;
  // Replaced snapshots, with when they were; pools replaced or removed (kept: completions
  // name their pool by a view of its name).
  std::vector<std::pair<std::chrono::steady_clock::time_point, std::shared_ptr<const Snapshot>>>
      retired_snapshots_;
  std::vector<std::shared_ptr<upstream::Pool>> retired_pools_;
  // How long a receipt that finds no message waits before each look again; after the last, it
  // is given up.
  static constexpr std::array<std::chrono::milliseconds, 5> kReceiptWaits = {
      std::chrono::milliseconds(5), std::chrono::milliseconds(50), std::chrono::milliseconds(250),
      std::chrono::seconds(1), std::chrono::seconds(3)};
  static constexpr int kLastReceiptLook = static_cast<int>(kReceiptWaits.size());
  UpstreamEntry* upstream_entry(std::string_view name);
  upstream::Pool* pool_at(uint32_t index);
  std::atomic<bool> stopping_{false};
  // Receipts waiting for their message: at most max_held_receipts_ at a time.
  const std::size_t max_held_receipts_;
  std::atomic<std::size_t> held_count_{0};
  std::mutex held_mutex_;
  std::vector<std::weak_ptr<asio::steady_timer>> held_;  // their timers, for stop()
  std::size_t held_prune_at_ = 1024;
  store::Store* store_ = nullptr;
  std::unique_ptr<StoreForward> spool_;  // with storage
  tracing::Tracer* tracer_ = nullptr;    // with tracing
  MessageTraces traces_;
  MessageCallbacks callbacks_;
  CallbackEvents* callback_events_ = nullptr;
  // The upstream each long message's parts go to (all of them to the first part's).
  PartsUpstreams parts_upstreams_;
  NumberLookup* number_lookup_ = nullptr;
  std::atomic<std::size_t> awaiting_number_{0};
  // Long messages being joined (multipart.reassembly.enabled; null otherwise), and the timer
  // that gives up those whose parts stopped coming.
  std::unique_ptr<PartJoiner> joiner_;
  std::shared_ptr<asio::steady_timer> part_timer_;
  std::atomic<uint32_t> next_reference_{0};
};

}  // namespace smppd::gateway
