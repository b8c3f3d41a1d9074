// Health checks of an upstream's hosts (`health:`). Each host has a health state apart from
// whether its connections are up: `threshold` consecutive failed checks make it unhealthy,
// `recovery_threshold` consecutive successes healthy again. An unhealthy host takes no traffic
// (the pool treats its connections as down, so backups of a higher priority take over); its
// connections stay open, so that checks can see it recover. A host starts healthy, and stays so
// with `health.enabled: false`.
//
// The pool runs one check per host every `interval`, each within `timeout`, on the executor of
// one of that host's connections (no thread of its own):
//   tcp           a plain TCP connect to the host's address, closed at once. Works with no SMPP
//                 session bound; says nothing about the SMSC behind the port.
//   enquire_link  an enquire_link on a bound connection of the host; an enquire_link_resp of any
//                 command_status counts as alive; no answer in time or the connection closing is
//                 a failure. With no connection of the host bound there is nothing to check:
//                 no result is counted (the host is down, which takes it out of traffic anyway,
//                 and it takes traffic again as soon as it is bound, unless checks while bound
//                 had made it unhealthy).
//   submit        a submit_sm on a bound connection (transmitter or transceiver bind; none bound:
//                 no result, as for enquire_link): to
//                 destination "0", no text, registered_delivery 0 (no receipt). Any submit_sm_resp
//                 in time counts as alive, whatever its command_status: the point is that the
//                 SMSC processes submits, and most refuse this one (ESME_RINVDSTADR). An SMSC that
//                 accepts it has a message to "0" it may try to deliver, and bill.
// The enquire_link and submit probes go outside the SMPP window (Session::send_probe), one at a
// time per session, so a check never takes a slot from traffic.
#pragma once

#include <boost/asio/awaitable.hpp>

#include <cstdint>
#include <string>

#include "config/config.hpp"
#include "session/session.hpp"
#include "smpp/pdu.hpp"

namespace smppd::upstream {

// The state machine of one host; not thread safe (the pool holds its lock around it).
class HostHealth {
 public:
  enum class Change : uint8_t { none, became_unhealthy, became_healthy };

  // One check's result under `config`'s thresholds; says whether the state changed.
  Change record(bool ok, const config::HealthConfig& config);

  bool healthy() const { return healthy_; }
  uint32_t consecutive_failures() const { return failures_; }
  uint32_t consecutive_successes() const { return successes_; }

 private:
  bool healthy_ = true;
  uint32_t failures_ = 0;
  uint32_t successes_ = 0;
};

// A tcp check, on the calling coroutine's executor: connects to `address` within `timeout`,
// then closes. Empty when it connected, else why not.
boost::asio::awaitable<std::string> tcp_check(const config::HostPort& address,
                                              session::Duration timeout);

// The submit_sm of a submit check.
smpp::Pdu submit_probe();

}  // namespace smppd::upstream
