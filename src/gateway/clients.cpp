#include "gateway/clients.hpp"

#include <boost/asio/dispatch.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include "core/log.hpp"
#include "smpp/status.hpp"

namespace smppd::gateway {

namespace {

// True when the caller runs on that executor's thread (a worker's io_context).
bool on_this_thread(const asio::any_io_executor& ex) {
  const auto* io = ex.target<asio::io_context::executor_type>();
  return io != nullptr && io->running_in_this_thread();
}

}  // namespace

ClientRegistry::Client& ClientRegistry::client(const std::string& system_id) {
  std::lock_guard lock(mutex_);
  auto& c = clients_[system_id];
  if (!c) {
    c = std::make_unique<Client>();
    c->system_id = system_id;
  }
  return *c;
}

void ClientRegistry::add_receiver(const std::shared_ptr<session::Session>& s, ClientState& state) {
  Client& c = client(state.system_id);
  state.registered = &c;  // entries are never removed: the pointer stays good
  {
    std::lock_guard lock(c.mutex);
    c.receivers.push_back(Receiver{s, s.get(), &state, s->executor(),
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

void ClientRegistry::window_open(ClientState& state) {
  if (state.registered != nullptr) pump(client_of(state));
}

std::size_t ClientRegistry::waiting(const std::string& system_id) {
  Client& c = client(system_id);
  std::lock_guard lock(c.mutex);
  return c.waiting.size();
}

bool ClientRegistry::deliver(const std::string& system_id, smpp::Pdu pdu, bool accepted) {
  Client& c = client(system_id);
  {
    std::lock_guard lock(c.mutex);
    if (c.waiting.size() >= max_waiting_ && !accepted) return false;
    c.waiting.push_back(std::move(pdu));
  }
  pump(c);
  return true;
}

void ClientRegistry::release_locked(Client& c, const session::Session* id) {
  for (auto& r : c.receivers) {
    if (r.id == id) {
      if (r.in_flight > 0) --r.in_flight;
      return;
    }
  }
}

// Hands waiting deliveries, in order, to receivers with room in their windows: first those on
// this thread (the delivery is sent at once, without waking another thread), round robin;
// then the others. What finds no room waits for an answer to free a slot (delivery_outcome),
// a new bind or a window opening.
void ClientRegistry::pump(Client& c) {
  std::vector<std::pair<Receiver, smpp::Pdu>> out;
  {
    std::lock_guard lock(c.mutex);
    const std::size_t n = c.receivers.size();
    if (n == 0 || c.waiting.empty()) return;
    bool any_local = false;
    for (const auto& r : c.receivers) {
      if (on_this_thread(r.executor)) {
        any_local = true;
        break;
      }
    }
    while (!c.waiting.empty()) {
      Receiver* chosen = nullptr;
      for (int pass = any_local ? 0 : 1; pass < 2 && chosen == nullptr; ++pass) {
        for (std::size_t k = 0; k < n; ++k) {
          Receiver& r = c.receivers[(c.next + k) % n];
          if (r.in_flight >= r.window) continue;
          if (pass == 0 && !on_this_thread(r.executor)) continue;
          chosen = &r;
          c.next = (c.next + k + 1) % n;
          break;
        }
      }
      if (chosen == nullptr) break;
      ++chosen->in_flight;
      out.emplace_back(*chosen, std::move(c.waiting.front()));
      c.waiting.pop_front();
    }
  }
  for (auto& [r, pdu] : out) send_on(c, std::move(r), std::move(pdu));
}

void ClientRegistry::send_on(Client& c, Receiver r, smpp::Pdu pdu) {
  // At once when the receiver lives on this thread; else on its thread.
  asio::dispatch(r.executor, [this, &c, r, pdu = std::move(pdu)]() mutable {
    auto s = r.session.lock();
    ClientState* st = r.state;
    bool sent = false;
    if (s && s->state() != session::BindState::closed) {
      uint64_t cookie;
      if (!st->free_cookies.empty()) {
        cookie = st->free_cookies.back();
        st->free_cookies.pop_back();
      } else {
        cookie = st->in_flight.size();
        st->in_flight.emplace_back();
      }
      st->in_flight[cookie] = std::move(pdu);
      if (s->send_request(*st->in_flight[cookie], cookie) == session::SendResult::sent) {
        sent = true;
      } else {
        pdu = std::move(*st->in_flight[cookie]);
        st->in_flight[cookie].reset();
        st->free_cookies.push_back(cookie);
      }
    }
    if (sent) return;
    // That receiver is gone or cannot send: first in line again, for another one (or for it,
    // once its window opens).
    {
      std::lock_guard lock(c.mutex);
      release_locked(c, r.id);
      c.waiting.push_front(std::move(pdu));
    }
    if (!s || s->state() == session::BindState::closed) pump(c);
  });
}

void ClientRegistry::delivery_outcome(session::Session& s, ClientState& st, uint64_t cookie,
                                      session::Outcome outcome, const smpp::Pdu* response) {
  if (cookie >= st.in_flight.size() || !st.in_flight[cookie]) return;
  smpp::Pdu pdu = std::move(*st.in_flight[cookie]);
  st.in_flight[cookie].reset();
  st.free_cookies.push_back(cookie);
  Client& c = client_of(st);
  bool more;
  {
    std::lock_guard lock(c.mutex);
    release_locked(c, &s);
    more = !c.waiting.empty();
  }
  if (outcome == session::Outcome::response && response != nullptr) {
    const uint32_t status = response->command_status;
    if (status == smpp::status::ESME_ROK) {
      if (more) pump(c);
      return;
    }
    if (status == smpp::status::ESME_RX_T_APPN || status == smpp::status::ESME_RMSGQFUL ||
        status == smpp::status::ESME_RTHROTTLED) {
      // "Not now": the client keeps it for later. Offered again after a pause.
      auto timer = std::make_shared<asio::steady_timer>(s.executor(), std::chrono::seconds(1));
      timer->async_wait(
          [this, &c, timer, pdu = std::move(pdu)](const boost::system::error_code&) mutable {
            {
              std::lock_guard lock(c.mutex);
              c.waiting.push_front(std::move(pdu));
            }
            pump(c);
          });
      if (more) pump(c);
      return;
    }
    log::warn("client {}: delivery refused with {} ({:#x}); not retried", st.system_id,
              smpp::status_name(status), status);
    if (more) pump(c);
    return;
  }
  // No answer: the client may not have it. Send it again (at least once).
  {
    std::lock_guard lock(c.mutex);
    c.waiting.push_front(std::move(pdu));
  }
  pump(c);
}

}  // namespace smppd::gateway
