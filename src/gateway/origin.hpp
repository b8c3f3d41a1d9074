// Who sent a message and where its answer goes: an SMPP client session, or a request of another
// face (HTTP, gRPC). The gateway answers every message it takes exactly once, on the origin's
// executor, with the response PDU an SMPP client would get (its command_status, and smppd's
// message id when accepted); a face turns that into its own answer. The origin is held weakly:
// one that went away (a closed session, an HTTP request given up) gets nothing.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/dispatch.hpp>

#include <cstdint>
#include <memory>
#include <string_view>

#include "smpp/pdu.hpp"
#include "smpp/version.hpp"

namespace smppd::session {
class Session;
}

namespace smppd::config {
struct ClientConfig;
}  // namespace smppd::config

namespace smppd::gateway {

struct ClientLimit;

struct Origin {
  std::weak_ptr<void> target;
  // Called on `executor` with the target alive; the response may be moved from.
  void (*respond)(void* target, smpp::Pdu& response) = nullptr;
  boost::asio::any_io_executor executor;
  smpp::Version version = smpp::Version::v34;  // how its message ids are written

  // An SMPP client session: its response goes out with Session::respond.
  static Origin of(session::Session& s);

  // At once when already on the origin's thread, else posted there.
  void answer(smpp::Pdu out) const {
    boost::asio::dispatch(executor, [t = target, f = respond, out = std::move(out)]() mutable {
      if (auto p = t.lock()) f(p.get(), out);
    });
  }
  // On the origin's thread only.
  void answer_here(smpp::Pdu& out) const {
    if (auto p = target.lock()) respond(p.get(), out);
  }
};

// The client a message is from, as the gateway needs it: found once per bind (SMPP) or per
// request (other faces).
struct ClientRef {
  std::string_view system_id;
  uint16_t client_index = 0xFFFF;  // MessageMetrics::client_index
  ClientLimit* limit = nullptr;    // its rate_limit; null for none
  // An externally authenticated client's settings (extauth/): its forced upstream, tier and
  // tags. Null for a configured client (the configuration has them).
  std::shared_ptr<const config::ClientConfig> external;
};

}  // namespace smppd::gateway
