#include "gateway/clients.hpp"

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include "core/log.hpp"
#include "smpp/status.hpp"

namespace smppd::gateway {

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
  {
    std::lock_guard lock(c.mutex);
    c.receivers.push_back(Receiver{s, &state, s->executor()});
  }
  pump(c);
}

void ClientRegistry::remove_receiver(session::Session& s, ClientState& state) {
  Client& c = client(state.system_id);
  {
    std::lock_guard lock(c.mutex);
    std::erase_if(c.receivers, [&](const Receiver& r) {
      auto locked = r.session.lock();
      return !locked || locked.get() == &s;
    });
  }
  pump(c);  // what came back from this session goes to another one, if any
}

void ClientRegistry::window_open(const std::string& system_id) {
  pump(client(system_id));
}

std::size_t ClientRegistry::waiting(const std::string& system_id) {
  Client& c = client(system_id);
  std::lock_guard lock(c.mutex);
  return c.waiting.size();
}

bool ClientRegistry::deliver(const std::string& system_id, smpp::Pdu pdu) {
  Client& c = client(system_id);
  {
    std::lock_guard lock(c.mutex);
    if (c.waiting.size() >= max_waiting_) return false;
    c.waiting.push_back(std::move(pdu));
  }
  pump(c);
  return true;
}

void ClientRegistry::requeue_front(const std::string& system_id, smpp::Pdu pdu) {
  Client& c = client(system_id);
  std::lock_guard lock(c.mutex);
  c.waiting.push_front(std::move(pdu));
}

// Hands waiting deliveries to receivers, round robin. A receiver that cannot take one (window
// full, gone) puts it back; its window opening or a new bind pumps again.
void ClientRegistry::pump(Client& c) {
  std::vector<std::pair<Receiver, smpp::Pdu>> out;
  {
    std::lock_guard lock(c.mutex);
    if (c.receivers.empty()) return;
    // At most a window's worth per receiver per pump; the rest waits for window_open.
    std::size_t budget = 0;
    for (const auto& r : c.receivers) {
      if (auto s = r.session.lock()) budget += s->settings().window_size;
    }
    while (!c.waiting.empty() && budget-- > 0) {
      const Receiver& r = c.receivers[c.next++ % c.receivers.size()];
      out.emplace_back(r, std::move(c.waiting.front()));
      c.waiting.pop_front();
    }
  }
  // r.state belongs to the session's thread: the client's name comes from the registry.
  for (auto& [r, pdu] : out) send_on(r, std::move(pdu), c.system_id);
}

void ClientRegistry::send_on(Receiver r, smpp::Pdu pdu, const std::string& system_id) {
  asio::post(r.executor, [this, r, pdu = std::move(pdu), system_id]() mutable {
    auto s = r.session.lock();
    if (!s || s->state() == session::BindState::closed) {
      // That receiver is gone (and already out of the list): another one may take it.
      requeue_front(system_id, std::move(pdu));
      pump(client(system_id));
      return;
    }
    ClientState& st = *r.state;
    uint64_t cookie;
    if (!st.free_cookies.empty()) {
      cookie = st.free_cookies.back();
      st.free_cookies.pop_back();
    } else {
      cookie = st.in_flight.size();
      st.in_flight.emplace_back();
    }
    st.in_flight[cookie] = std::move(pdu);
    if (s->send_request(*st.in_flight[cookie], cookie) != session::SendResult::sent) {
      requeue_front(system_id, std::move(*st.in_flight[cookie]));
      st.in_flight[cookie].reset();
      st.free_cookies.push_back(cookie);
    }
  });
}

void ClientRegistry::delivery_outcome(session::Session& s, ClientState& st, uint64_t cookie,
                                      session::Outcome outcome, const smpp::Pdu* response) {
  if (cookie >= st.in_flight.size() || !st.in_flight[cookie]) return;
  smpp::Pdu pdu = std::move(*st.in_flight[cookie]);
  st.in_flight[cookie].reset();
  st.free_cookies.push_back(cookie);
  if (outcome == session::Outcome::response && response != nullptr) {
    const uint32_t status = response->command_status;
    if (status == smpp::status::ESME_ROK) return;
    if (status == smpp::status::ESME_RX_T_APPN || status == smpp::status::ESME_RMSGQFUL ||
        status == smpp::status::ESME_RTHROTTLED) {
      // "Not now": the client keeps it for later. Offered again after a pause.
      auto timer = std::make_shared<asio::steady_timer>(s.executor(), std::chrono::seconds(1));
      timer->async_wait([this, timer, system_id = st.system_id,
                         pdu = std::move(pdu)](const boost::system::error_code&) mutable {
        requeue_front(system_id, std::move(pdu));
        pump(client(system_id));
      });
      return;
    }
    log::warn("client {}: delivery refused with {} ({:#x}); not retried", st.system_id,
              smpp::status_name(status), status);
    return;
  }
  // No answer: the client may not have it. Send it again (at least once).
  requeue_front(st.system_id, std::move(pdu));
  pump(client(st.system_id));
}

}  // namespace smppd::gateway
