// Receipts and MO to HTTP: the way back for applications that do not speak SMPP.
//
// The gateway's deliveries pass here first (gateway::DeliveryDivert). One goes out by HTTP when
//  - it is a receipt of a message sent with a callback (the JSON API's callback_url, Kannel's
//    dlr-url, Jasmin's dlr-url: gateway::MessageCallbacks), in that callback's form;
//  - or a receipt for a client with `callbacks.receipt_url`, as smppd's JSON;
//  - or an MO for a client with `callbacks.mo_url`, as smppd's JSON, long MO joined first.
// Anything else goes on to the client's SMPP sessions. The SMSC's answer to a message goes out
// too when its callback asks for it (Kannel's dlr-mask 8/16, Jasmin's level 1).
//
// Delivery is at least once: each callback is tried until the receiver takes it (2xx; Jasmin's:
// below 400 with "ACK/Jasmin") or refuses it for good (a 4xx other than 408 and 429; Jasmin's
// 404), again after 1 s, 2 s, 4 s ... up to 5 min apart, for the client's `retry_for`. A
// stored delivery (storage.deliver_sm) is forgotten by the store only then: after a restart it
// is called again. Each attempt is recorded with the message (the status endpoint shows it).
//
// A slow or hung receiver holds only its own requests (http::AsyncClient: per receiving host,
// bounded concurrency and queue, a timeout per attempt); the message path only hands over.
// Per client at most kMaxPending callbacks wait at once: beyond, a delivery is refused as a full
// queue is (the SMSC keeps it and sends it again later).
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/steady_timer.hpp>

#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <unordered_map>

#include "api/http/async_client.hpp"
#include "config/config.hpp"
#include "core/counters.hpp"
#include "gateway/clients.hpp"
#include "gateway/gateway.hpp"
#include "gateway/message_callbacks.hpp"
#include "smpp/reassembly.hpp"

namespace smppd::callbacks {

namespace asio = boost::asio;

// Not loopback, private (RFC 1918, unique local), link-local (cloud metadata), carrier-grade
// NAT, multicast or unspecified: where a customer's callback URL may lead.
bool public_address(const boost::asio::ip::address& a);

class HttpCallbacks final : public gateway::DeliveryDivert, public gateway::CallbackEvents {
 public:
  static constexpr std::size_t kMaxPending = 100'000;

  // Registers itself with the gateway (before the gateway starts: stored deliveries are read
  // back at start). `executor`: where timers and HTTP run.
  HttpCallbacks(asio::any_io_executor executor, gateway::Gateway& gateway, Counters& counters,
                const config::Config& config);
  ~HttpCallbacks() override;

  // Clients' callbacks settings from a new configuration: for the next callback.
  void reconfigure(const config::Config& config);
  // Stops retrying and calling; what is stored is called again after a restart.
  void stop();
  // One GET whose answer does not matter (Jasmin's batch callbacks, a URL the client gave: its
  // allow_private_networks applies): made once, a failure logged. Any thread.
  void notify(std::string_view system_id, std::string url);

  // gateway::DeliveryDivert
  Taken take(std::string_view system_id, smpp::Pdu& pdu, uint64_t stored,
             std::string_view upstream, bool accepted) override;
  std::size_t waiting(std::string_view system_id) override;
  // gateway::CallbackEvents
  void submit_outcome(const gateway::SubmitOutcome& outcome) override;

 private:
  // A client's settings and the HTTP client made with them (a client without `callbacks` has
  // the defaults). Replaced whole by a reload; jobs keep the one they started with.
  struct Receiver {
    config::ClientCallbacks settings;
    std::shared_ptr<http::AsyncClient> http;  // the operator's URLs (receipt_url, mo_url)
    // URLs from the client's messages: public addresses only, unless allow_private_networks.
    std::shared_ptr<http::AsyncClient> untrusted;
    std::shared_ptr<const gateway::CallbackSpec> receipts;  // its receipt_url as a spec
  };
  struct Job;
  std::shared_ptr<Receiver> receiver(std::string_view system_id);
  std::shared_ptr<Receiver> make_receiver(const config::ClientCallbacks& settings);
  Taken take_receipt(std::string_view system_id, smpp::Pdu& pdu, uint64_t stored,
                     std::string_view upstream, bool accepted);
  Taken take_mo(std::string_view system_id, smpp::Pdu& pdu, uint64_t stored,
                std::string_view upstream, bool accepted);
  bool reserve(std::string_view system_id, bool accepted);
  void send(std::shared_ptr<Job> job);
  void answered(const std::shared_ptr<Job>& job, http::AsyncClient::Result r);
  void retry_later(std::shared_ptr<Job> job, std::chrono::milliseconds delay);
  void finish(const Job& job, std::string_view outcome);
  void post_mo(std::string_view system_id, std::shared_ptr<Receiver> r, struct MoParts parts);
  void expire_mo();

  asio::any_io_executor executor_;
  gateway::Gateway& gateway_;
  Counters& counters_;
  std::atomic<bool> stopping_{false};
  // Any client with a receipt_url or mo_url (else only messages' own callbacks divert).
  std::atomic<bool> configured_{false};

  std::mutex mutex_;
  std::map<std::string, std::shared_ptr<Receiver>, std::less<>> receivers_;
  std::shared_ptr<Receiver> defaults_;  // for clients without `callbacks`
  std::map<std::string, std::size_t, std::less<>> pending_;  // callbacks per client
  std::set<std::shared_ptr<asio::steady_timer>> timers_;

  // Long MO being joined, with the stored numbers of its parts.
  std::mutex mo_mutex_;
  smpp::Reassembler reassembler_;
  std::map<smpp::ReassemblyKey, std::vector<uint64_t>> mo_stored_;
  std::map<smpp::ReassemblyKey, std::string> mo_upstream_;
  std::shared_ptr<asio::steady_timer> mo_timer_;
};

}  // namespace smppd::callbacks
