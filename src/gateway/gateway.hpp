// The life of a message: a client's submit_sm, data_sm or submit_multi is routed (Router) to an
// upstream pool; the SMSC's response comes back to the client with smppd's message id in place
// of the SMSC's; the SMSC's delivery receipt is matched to the message and sent to the client
// that submitted it with smppd's id; MO messages go to the client mo_routes name.
//
// Without storage (a later issue) smppd is a transparent proxy: the client's response carries
// the upstream's status, and a message is accepted only when the upstream accepted it.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/steady_timer.hpp>

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "config/config.hpp"
#include "core/counters.hpp"
#include "gateway/clients.hpp"
#include "gateway/message_ids.hpp"
#include "gateway/message_map.hpp"
#include "router/mo_router.hpp"
#include "router/router.hpp"
#include "session/session.hpp"
#include "smpp/receipt.hpp"
#include "upstream/pool.hpp"

namespace smppd::gateway {

namespace asio = boost::asio;

class Gateway final : public upstream::PoolEvents {
 public:
  Gateway(std::shared_ptr<const config::Config> config, Counters& counters);
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

  // upstream::PoolEvents
  uint32_t on_delivery(upstream::Pool& pool, smpp::Pdu& pdu) override;

  upstream::Pool* pool(std::string_view name);
  ClientRegistry& clients() { return clients_; }
  MessageMap& messages() { return messages_; }

 private:
  void forward(session::Session& s, ClientState& state, smpp::Pdu& request);
  uint32_t deliver_receipt(upstream::Pool& pool, smpp::Pdu& pdu);
  // nullopt when no message matches (yet); else the status for the SMSC.
  std::optional<uint32_t> forward_receipt(std::string_view upstream, std::string_view id,
                                          smpp::MessageState state, const smpp::Pdu& pdu,
                                          int attempt);
  void hold_receipt(std::string upstream, std::string id, smpp::MessageState state, smpp::Pdu pdu,
                    int attempt);
  uint32_t deliver_mo(upstream::Pool& pool, smpp::Pdu& pdu);

  std::shared_ptr<const config::Config> config_;
  Counters& counters_;
  router::Router router_;
  router::MoRouter mo_router_;
  MessageIdSource ids_;
  MessageMap messages_;
  ClientRegistry clients_;
  std::map<std::string, std::shared_ptr<upstream::Pool>, std::less<>> pools_;
  std::vector<asio::any_io_executor> executors_;
  struct UpstreamEntry {
    upstream::Pool* pool = nullptr;
    uint32_t index = 0;  // MessageMap::upstream_index
    // What its receipt ids have shown: 0 not known yet, 1 the same ids as its responses, 2
    // hex/decimal conversions. An upstream seen to match exactly is never matched by
    // conversion (but after the last wait), as sequential decimal ids convert into each other.
    std::atomic<int> id_mode{0};
  };
  UpstreamEntry* upstream_entry(std::string_view name);
  upstream::Pool* pool_at(uint32_t index);
  std::map<std::string, std::unique_ptr<UpstreamEntry>, std::less<>> upstreams_;
  std::vector<UpstreamEntry*> by_index_;  // by MessageMap::upstream_index
  std::atomic<bool> stopping_{false};
  // Receipts waiting for their message: at most kMaxHeldReceipts at a time.
  static constexpr std::size_t kMaxHeldReceipts = 100'000;
  std::atomic<std::size_t> held_count_{0};
  std::mutex held_mutex_;
  std::vector<std::weak_ptr<asio::steady_timer>> held_;  // their timers, for stop()
  std::size_t held_prune_at_ = 1024;
};

}  // namespace smppd::gateway
