// The bind state machine of SMPP (3.4 §2.3, 5.0 §2.4) as pure rules: which requests each side
// may send in each state. The session applies them to every PDU; they know no sockets.
#pragma once

#include <cstdint>
#include <string_view>

#include "smpp/command.hpp"

namespace smppd::session {

// Which side of the protocol this end of the connection plays.
enum class Role : uint8_t {
  smsc,  // we accept binds (a listener serving ESMEs, the simulator)
  esme,  // we bind (an upstream connection, the load generator)
};

enum class BindState : uint8_t {
  open,  // connected, not bound
  bound_tx,
  bound_rx,
  bound_trx,
  unbinding,  // an unbind was sent or received; only responses and the unbind exchange remain
  closed,
};

std::string_view state_name(BindState s);

constexpr bool is_bound(BindState s) {
  return s == BindState::bound_tx || s == BindState::bound_rx || s == BindState::bound_trx;
}

// The state a successful bind of this command_id leads to (open when it is not a bind).
BindState state_after_bind(smpp::CommandId bind);

constexpr bool is_bind(smpp::CommandId id) {
  return id == smpp::CommandId::bind_transmitter || id == smpp::CommandId::bind_receiver ||
         id == smpp::CommandId::bind_transceiver;
}

// Whether the peer may send this request to us while we are `role` in `state`. enquire_link is
// allowed in every state but closed (5.0 allows it in OPEN), unbind in every bound state.
// Binds are not covered here: in OPEN a bind is served, otherwise it gets ESME_RALYBND.
bool peer_may_send(Role role, BindState state, smpp::CommandId request);

// Whether we may send this request to the peer in `state` (the same table from our side).
bool we_may_send(Role role, BindState state, smpp::CommandId request);

}  // namespace smppd::session
