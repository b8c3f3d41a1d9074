#include "gateway/clients.hpp"

#include <boost/asio/dispatch.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <algorithm>
#include <optional>

#include "core/log.hpp"
#include "core/log_aggregate.hpp"
#include "smpp/downgrade.hpp"
#include "smpp/receipt.hpp"
#include "smpp/status.hpp"

namespace smppd::gateway {

namespace {

// True when the caller runs on that executor's thread (a worker's io_context).
bool on_this_thread(const asio::any_io_executor& ex) {
  const auto* io = ex.target<asio::io_context::executor_type>();
  return io != nullptr && io->running_in_this_thread();
}

// For the log: which delivery, as the client saw it ("receipt for message 0a1b2c3d4e5f",
// "MO from 4670000 to 1234").
std::string describe_delivery(const smpp::Pdu& pdu) {
  std::optional<smpp::ReceiptKey> receipt;
  std::string_view from;
  std::string_view to;
  if (const auto* d = pdu.as<smpp::DeliverSm>()) {
    receipt = smpp::receipt_key(*d);
    from = d->source_addr.view();
    to = d->destination_addr.view();
  } else if (const auto* data = pdu.as<smpp::DataSm>()) {
    receipt = smpp::receipt_key(*data);
    from = data->source_addr.view();
    to = data->destination_addr.view();
  }
  if (receipt) return fmt::format("receipt for message {}", receipt->id);
  return fmt::format("MO from {} to {}", from, to);
}

}  // namespace

ClientRegistry::ClientRegistry(std::size_t max_waiting_per_client)
    : max_waiting_(max_waiting_per_client), instance_(next_instance_.fetch_add(1) + 1) {}

ClientRegistry::Client& ClientRegistry::client(std::string_view system_id) {
  // Each thread remembers the clients it has looked up (entries are never removed, so the
  // pointers stay good): the table's lock, shared by all sessions, is taken once per client
  // and thread rather than for every delivery. Keyed by registry instance, never by address.
  struct Cache {
    uint64_t instance = 0;
    StringMap<Client*> clients;
  };
  thread_local Cache cache;
  if (cache.instance != instance_) {
    cache.clients.clear();
    cache.instance = instance_;
  }
  if (auto hit = cache.clients.find(system_id); hit != cache.clients.end()) return *hit->second;
  Client& c = client_locked(system_id);
  cache.clients.emplace(std::string(system_id), &c);
  return c;
}

ClientRegistry::Client& ClientRegistry::client_locked(std::string_view system_id) {
  std::lock_guard lock(mutex_);
  auto it = clients_.find(system_id);
  if (it == clients_.end()) {
    auto c = std::make_unique<Client>();
    c->system_id = system_id;
    it = clients_.emplace(std::string(system_id), std::move(c)).first;
  }
  return *it->second;
}

void ClientRegistry::add_receiver(const std::shared_ptr<session::Session>& s, ClientState& state) {
  Client& c = client(state.system_id);
  state.registered = &c;  // entries are never removed: the pointer stays good
  {
    std::lock_guard lock(c.mutex);
    c.receivers.push_back(Receiver{s, {}, s.get(), &state, s->executor(),
                                   std::max<uint32_t>(1, s->settings().window_size), 0});
  }
  pump(c);
}

void ClientRegistry::remove_receiver(session::Session& s, ClientState& state) {
  if (state.registered == nullptr) return;
  Client& c = client_of(state);
  {
    std::lock_guard lock(c.mutex);
    std::erase_if(c.receivers, [&](const Receiver& r) { return r.id == &s; });
  }
  pump(c);  // what came back from this session goes to another one, if any
}

void ClientRegistry::add_external(std::string_view system_id,
                                  const std::shared_ptr<ExternalReceiver>& r,
                                  asio::any_io_executor ex, uint32_t window) {
  Client& c = client(system_id);
  {
    std::lock_guard lock(c.mutex);
    c.receivers.push_back(
        Receiver{{}, r, r.get(), nullptr, std::move(ex), std::max<uint32_t>(1, window), 0});
  }
  pump(c);
}

void ClientRegistry::remove_external(std::string_view system_id, const ExternalReceiver* r) {
  Client& c = client(system_id);
  {
    std::lock_guard lock(c.mutex);
    std::erase_if(c.receivers, [&](const Receiver& x) { return x.id == r; });
  }
  pump(c);
}

void ClientRegistry::external_done(std::string_view system_id, const ExternalReceiver* r,
                                   Delivery d, bool delivered) {
  Client& c = client(system_id);
  {
    std::lock_guard lock(c.mutex);
    release_locked(c, r);
    if (!delivered) requeue_locked(c, std::move(d));
  }
  if (delivered && d.stored != 0 && stored_done_) stored_done_(system_id, d.stored);
  pump(c);
}

void ClientRegistry::window_open(ClientState& state) {
  if (state.registered != nullptr) pump(client_of(state));
}

std::size_t ClientRegistry::waiting(std::string_view system_id) {
  const std::size_t diverted = divert_ != nullptr ? divert_->waiting(system_id) : 0;
  Client& c = client(system_id);
  std::lock_guard lock(c.mutex);
  return c.waiting.size() + diverted;
}

bool ClientRegistry::deliver(std::string_view system_id, smpp::Pdu pdu, bool accepted,
                             uint64_t stored, std::string_view upstream) {
  if (divert_ != nullptr) {
    switch (divert_->take(system_id, pdu, stored, upstream, accepted)) {
      case DeliveryDivert::Taken::yes:
        return true;
      case DeliveryDivert::Taken::full:
        return false;
      case DeliveryDivert::Taken::no:
        break;
    }
  }
  Client& c = client(system_id);
  std::optional<Receiver> now;
  Delivery d;
  {
    std::lock_guard lock(c.mutex);
    const std::size_t bound = accepted ? 2 * max_waiting_ : max_waiting_;
    if (c.waiting.size() >= bound) return false;
    d.order = ++c.next_order;
    d.pdu = std::move(pdu);
    d.stored = stored;
    if (c.waiting.empty()) {
      // Nothing ahead of it: straight to a receiver with room, without queueing.
      if (Receiver* r = pick_locked(c)) {
        ++r->in_flight;
        now = *r;
      }
    }
    if (!now) c.waiting.push_back(std::move(d));
  }
  if (now) {
    send_on(c, std::move(*now), std::move(d));
  } else {
    pump(c);
  }
  return true;
}

void ClientRegistry::release_locked(Client& c, const void* id, bool stop) {
  for (auto& r : c.receivers) {
    if (r.id == id) {
      if (r.in_flight > 0) --r.in_flight;
      if (stop) r.accepting = false;
      return;
    }
  }
}

void ClientRegistry::requeue_locked(Client& c, Delivery d) {
  // Usually at or near the front: what comes back is older than most of what waits.
  auto at = std::lower_bound(c.waiting.begin(), c.waiting.end(), d.order,
                             [](const Delivery& w, uint64_t order) { return w.order < order; });
  c.waiting.insert(at, std::move(d));
}

// A receiver with room in its window: one on this thread first (the delivery is then sent at
// once, without waking another thread), round robin; then the others. Null when none has room.
ClientRegistry::Receiver* ClientRegistry::pick_locked(Client& c) {
  const std::size_t n = c.receivers.size();
  if (n == 0) return nullptr;
  Receiver* other = nullptr;
  std::size_t other_k = 0;
  for (std::size_t k = 0; k < n; ++k) {
    Receiver& r = c.receivers[(c.next + k) % n];
    if (!r.accepting || r.in_flight >= r.window) continue;
    if (on_this_thread(r.executor)) {
      c.next = (c.next + k + 1) % n;
      return &r;
    }
    if (other == nullptr) {
      other = &r;
      other_k = k;
    }
  }
  if (other != nullptr) c.next = (c.next + other_k + 1) % n;
  return other;
}

// Hands waiting deliveries, in order, to receivers with room (pick_locked). What finds no room
// waits for an answer to free a slot (delivery_outcome), a new bind or a window opening.
void ClientRegistry::pump(Client& c) {
  // The hand-over list is the thread's, reused (a nested pump, rare, makes its own).
  thread_local std::vector<std::pair<Receiver, Delivery>> spare;
  std::vector<std::pair<Receiver, Delivery>> out = std::move(spare);
  out.clear();
  {
    std::lock_guard lock(c.mutex);
    while (!c.waiting.empty()) {
      Receiver* r = pick_locked(c);
      if (r == nullptr) break;
      ++r->in_flight;
      out.emplace_back(*r, std::move(c.waiting.front()));
      c.waiting.pop_front();
    }
  }
  for (auto& [r, d] : out) send_on(c, std::move(r), std::move(d));
  out.clear();
  if (out.capacity() <= 64) spare = std::move(out);
}

void ClientRegistry::send_on(Client& c, Receiver r, Delivery d) {
  // At once when the receiver lives on this thread; else on its thread.
  asio::dispatch(r.executor, [this, &c, r, d = std::move(d)]() mutable {
    if (r.state == nullptr) {
      // An external receiver: it takes it, or it is closing.
      auto e = r.external.lock();
      if (e && e->take(d)) return;
      {
        std::lock_guard lock(c.mutex);
        release_locked(c, r.id, true);
        requeue_locked(c, std::move(d));
      }
      pump(c);
      return;
    }
    auto s = r.session.lock();
    ClientState* st = r.state;
    auto result = session::SendResult::closed;
    if (s && s->state() != session::BindState::closed) {
      if (s->version() == smpp::Version::v33) express_for_v33(c, d);
      uint64_t cookie;
      if (!st->free_cookies.empty()) {
        cookie = st->free_cookies.back();
        st->free_cookies.pop_back();
      } else {
        cookie = st->in_flight.size();
        st->in_flight.emplace_back();
      }
      st->in_flight[cookie] = std::move(d);
      result = s->send_request(st->in_flight[cookie]->pdu, cookie);
      if (result == session::SendResult::sent) return;
      d = std::move(*st->in_flight[cookie]);
      st->in_flight[cookie].reset();
      st->free_cookies.push_back(cookie);
    }
    // Not sent. A full window: back in its place until the window opens (on_window_open).
    // Anything else (gone, closing, unbinding): that receiver takes nothing more, and another
    // one may take it now.
    const bool stop = result != session::SendResult::window_full;
    {
      std::lock_guard lock(c.mutex);
      release_locked(c, r.id, stop);
      requeue_locked(c, std::move(d));
    }
    if (stop) pump(c);
  });
}

void ClientRegistry::express_for_v33(Client& c, Delivery& d) {
  auto* m = d.pdu.as<smpp::DeliverSm>();
  if (m == nullptr || m->tlvs.empty()) return;
  thread_local uint16_t reference = 0;
  smpp::Downgrade dg = smpp::express_delivery_for_v33(*m, ++reference);
  if (dg.status != smpp::status::ESME_ROK) {
    // Taken from the SMSC already: it goes as it is, and what a 3.3 client cannot receive is
    // said and counted rather than lost in silence.
    static log::Aggregated lost(log::Level::error,
                                "deliveries with content a 3.3 client cannot take");
    lost(
        "client {}: a deliver_sm whose content has no SMPP 3.3 form ({}) goes to a 3.3 receiver "
        "without its TLVs",
        c.system_id, smpp::status_name(dg.status));
    return;
  }
  if (dg.more_deliveries.empty()) return;
  // Segmented: the other parts go next, in order, to whichever receiver takes them. A stored
  // delivery is done with its last part.
  std::lock_guard lock(c.mutex);
  uint64_t stored = std::exchange(d.stored, 0);
  for (auto it = dg.more_deliveries.rbegin(); it != dg.more_deliveries.rend(); ++it) {
    requeue_locked(c, Delivery{d.order, smpp::make_pdu(0, std::move(*it)), std::exchange(stored, 0)});
  }
}

void ClientRegistry::delivery_outcome(session::Session& s, ClientState& st, uint64_t cookie,
                                      session::Outcome outcome, const smpp::Pdu* response) {
  if (cookie >= st.in_flight.size() || !st.in_flight[cookie]) return;
  Delivery d = std::move(*st.in_flight[cookie]);
  st.in_flight[cookie].reset();
  st.free_cookies.push_back(cookie);
  Client& c = client_of(st);
  const bool answered = outcome == session::Outcome::response && response != nullptr;
  const uint32_t status = answered ? response->command_status : 0;
  const bool not_now = answered && (status == smpp::status::ESME_RX_T_APPN ||
                                    status == smpp::status::ESME_RMSGQFUL ||
                                    status == smpp::status::ESME_RTHROTTLED);
  if (answered && status != smpp::status::ESME_ROK && !not_now) {
    static log::Aggregated refused(log::Level::warn, "deliveries refused by clients");
    refused("client {}: {} refused with {} ({:#x}); not retried", st.system_id,
            describe_delivery(d.pdu), smpp::status_name(status), status);
  }
  {
    std::lock_guard lock(c.mutex);
    // A session that is closing hands back what it held (Outcome::closed): it takes nothing
    // more, or a pump would hand the same deliveries straight back to it.
    release_locked(c, &s, outcome == session::Outcome::closed);
    // No answer (timeout, closed): the client may not have it. Offered again, in its place
    // (at least once).
    if (!answered) requeue_locked(c, std::move(d));
  }
  if (answered && !not_now && d.stored != 0 && stored_done_) stored_done_(st.system_id, d.stored);
  if (not_now) {
    // "Not now": the client keeps it for later. Offered again after a pause, in its place.
    auto timer = std::make_shared<asio::steady_timer>(s.executor(), std::chrono::seconds(1));
    timer->async_wait(
        [this, &c, timer, d = std::move(d)](const boost::system::error_code&) mutable {
          {
            std::lock_guard lock(c.mutex);
            requeue_locked(c, std::move(d));
          }
          pump(c);
        });
  }
  pump(c);
}

}  // namespace smppd::gateway
