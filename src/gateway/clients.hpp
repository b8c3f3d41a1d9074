// Bound client sessions by system_id, for what goes to clients: delivery receipts and MO
// messages. Thread safe (a lock per client, and one for the table when a client first binds).
//
// A delivery goes to a receiver or transceiver session of the client with room in its window,
// preferring one on the calling thread (no hand-off between threads), round robin; when the
// client has none, or every window is full, it waits in the client's bounded queue, in order,
// and goes out when one binds or a delivery is answered. A delivery whose deliver_sm_resp never
// comes (timeout, session closed) is queued again: at least once, never silently lost. When
// the queue is full, deliver() says so and the upstream's deliver_sm is answered with an
// error, so the SMSC keeps it and retries.
#pragma once

#include <boost/asio/any_io_executor.hpp>

#include <atomic>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "config/config.hpp"
#include "core/string_map.hpp"
#include "session/session.hpp"

namespace smppd::gateway {

namespace asio = boost::asio;

// A deliver_sm (or data_sm) for a client, with its place in the client's order: one that comes
// back (unanswered, refused for now, or bounced by a closing session) goes back to its place,
// ahead of what came after it.
struct Delivery {
  uint64_t order = 0;
  smpp::Pdu pdu;
  uint64_t stored = 0;  // its number in the store (0: not stored)
};

// What the gateway keeps per client session (owned by the session's handler; touched on the
// session's executor only).
struct ClientLimit;

struct ClientState {
  std::string system_id;
  std::shared_ptr<ClientLimit> limit;  // its rate and window (ClientLimits), found at bind
  uint16_t client_index = 0xFFFF;  // MessageMetrics::client_index, found at bind
  // An externally authenticated client's settings (extauth/), set by the listener before it
  // is bound; null for a configured client.
  std::shared_ptr<const config::ClientConfig> external;
  bool receives = false;                           // bound as receiver or transceiver
  void* registered = nullptr;                      // its ClientRegistry entry, once bound
  std::vector<std::optional<Delivery>> in_flight;  // deliveries sent, by cookie
  std::vector<uint64_t> free_cookies;
};

// Deliveries that leave by another way than an SMPP session: receipts and MO a client takes by
// HTTP (api/callbacks). Asked first for every delivery, from any thread.
class DeliveryDivert {
 public:
  virtual ~DeliveryDivert() = default;
  enum class Taken : uint8_t {
    no,    // not for it: the client's SMPP sessions take it
    yes,   // it owns the delivery now; when over (done or given up) it calls
           // ClientRegistry::stored_done for a stored one
    full,  // for it, but its queue for that client is full: refused as a full queue is
  };
  // `upstream`: where it came from, when known. `accepted` as ClientRegistry::deliver's.
  virtual Taken take(std::string_view system_id, smpp::Pdu& pdu, uint64_t stored,
                     std::string_view upstream, bool accepted) = 0;
  // Deliveries it holds for the client (queued or being tried).
  virtual std::size_t waiting(std::string_view system_id) = 0;
};

// A receiver of a client's deliveries that is not an SMPP session (a gRPC Events stream): it
// takes deliveries into its own window and says, for each, when it is over (acknowledged by the
// client) or handed back (ClientRegistry::external_done).
class ExternalReceiver {
 public:
  virtual ~ExternalReceiver() = default;
  // On the executor it was added with. True: the delivery is its own until external_done;
  // false: it takes nothing more (closing) and `d` stays the caller's.
  virtual bool take(Delivery& d) = 0;
};

class ClientRegistry {
 public:
  explicit ClientRegistry(std::size_t max_waiting_per_client = 100'000);

  // On the session's executor.
  void add_receiver(const std::shared_ptr<session::Session>& s, ClientState& state);
  void remove_receiver(session::Session& s, ClientState& state);
  // An external receiver of `system_id`, taking at most `window` deliveries at a time on `ex`.
  // Held weakly: one that is gone takes nothing more (what it held, it hands back first).
  void add_external(std::string_view system_id, const std::shared_ptr<ExternalReceiver>& r,
                    asio::any_io_executor ex, uint32_t window);
  // It takes nothing more; what it still holds it hands back with external_done.
  void remove_external(std::string_view system_id, const ExternalReceiver* r);
  // A delivery it took is over: `delivered` (acknowledged: a stored one is forgotten), or not
  // (handed back: offered again, in its place). Any thread.
  void external_done(std::string_view system_id, const ExternalReceiver* r, Delivery d,
                     bool delivered);
  // The session's window opened: deliveries waiting for this client may go.
  void window_open(ClientState& state);
  // A delivery's outcome on the session (from its handler's on_response).
  void delivery_outcome(session::Session& s, ClientState& state, uint64_t cookie,
                        session::Outcome outcome, const smpp::Pdu* response);

  // Any thread. False when the client's queue is full (nothing was taken). `accepted`: the
  // SMSC was already told it is taken (a receipt held until its message was known): queued
  // beyond the bound, up to twice it (so that a client that never binds a receiver cannot
  // grow it without end); false only past that.
  // `stored`: the delivery's number in the store; once the client has answered it (or refused
  // it for good), `on_stored_done` is told, so the store can forget it.
  // `upstream`: where it came from (for a divert), when known.
  bool deliver(std::string_view system_id, smpp::Pdu pdu, bool accepted = false,
               uint64_t stored = 0, std::string_view upstream = {});
  std::size_t waiting(std::string_view system_id);
  // Set once, before any delivery.
  using StoredDone = std::function<void(std::string_view system_id, uint64_t stored)>;
  void on_stored_done(StoredDone f) { stored_done_ = std::move(f); }
  // A stored delivery is over (a divert's, delivered or given up): the store forgets it.
  void stored_done(std::string_view system_id, uint64_t stored) {
    if (stored != 0 && stored_done_) stored_done_(system_id, stored);
  }
  // Set once, before any delivery; it must outlive the registry's deliveries.
  void divert_to(DeliveryDivert* divert) { divert_ = divert; }

 private:
  struct Receiver {
    std::weak_ptr<session::Session> session;  // an SMPP session, or
    std::weak_ptr<ExternalReceiver> external;  // another receiver
    const void* id;  // for finding it again; never dereferenced off its thread
    ClientState* state;  // sessions only
    asio::any_io_executor executor;
    uint32_t window = 1;     // the session's window
    uint32_t in_flight = 0;  // deliveries handed to it and not answered yet
    bool accepting = true;   // false once it refused one for good (closing, unbinding)
  };
  struct Client {
    std::string system_id;
    std::mutex mutex;
    std::vector<Receiver> receivers;
    std::deque<Delivery> waiting;  // in order
    uint64_t next_order = 0;
    std::size_t next = 0;
  };
  // The client's entry, made on first use. Lock-free once this thread has seen it.
  Client& client(std::string_view system_id);
  Client& client_locked(std::string_view system_id);
  static Client& client_of(ClientState& state) { return *static_cast<Client*>(state.registered); }
  // Under c.mutex: a receiver with room, this thread's first; null when none.
  static Receiver* pick_locked(Client& c);
  void pump(Client& c);
  void send_on(Client& c, Receiver r, Delivery d);
  // Under c.mutex: the receiver's delivery is over (answered, failed, or never sent); with
  // `stop`, the receiver takes nothing more (it is closing).
  static void release_locked(Client& c, const void* id, bool stop = false);
  // Towards a 3.3 receiver: the deliver_sm's TLV content written the 3.3 way
  // (smpp/downgrade.hpp); the further parts of a segmented one are queued right behind it.
  void express_for_v33(Client& c, Delivery& d);
  // Under c.mutex: a delivery that came back goes back to its place in the order.
  static void requeue_locked(Client& c, Delivery d);

  std::size_t max_waiting_;
  StoredDone stored_done_;
  DeliveryDivert* divert_ = nullptr;
  uint64_t instance_;  // tells this registry's thread caches from another's
  static inline std::atomic<uint64_t> next_instance_{0};
  std::mutex mutex_;
  StringMap<std::unique_ptr<Client>> clients_;
};

}  // namespace smppd::gateway
