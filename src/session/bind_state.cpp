#include "session/bind_state.hpp"

namespace smppd::session {

using smpp::CommandId;

std::string_view state_name(BindState s) {
  switch (s) {
    case BindState::open:
      return "open";
    case BindState::bound_tx:
      return "bound_tx";
    case BindState::bound_rx:
      return "bound_rx";
    case BindState::bound_trx:
      return "bound_trx";
    case BindState::unbinding:
      return "unbinding";
    case BindState::closed:
      return "closed";
  }
  return "?";
}

BindState state_after_bind(CommandId bind) {
  switch (bind) {
    case CommandId::bind_transmitter:
      return BindState::bound_tx;
    case CommandId::bind_receiver:
      return BindState::bound_rx;
    case CommandId::bind_transceiver:
      return BindState::bound_trx;
    default:
      return BindState::open;
  }
}

namespace {

// Requests an ESME sends over a transmitter (or transceiver) bind.
bool is_esme_submission(CommandId id) {
  switch (id) {
    case CommandId::submit_sm:
    case CommandId::submit_multi:
    case CommandId::data_sm:
    case CommandId::query_sm:
    case CommandId::cancel_sm:
    case CommandId::replace_sm:
    case CommandId::broadcast_sm:
    case CommandId::query_broadcast_sm:
    case CommandId::cancel_broadcast_sm:
    case CommandId::param_retrieve:
    case CommandId::query_last_msgs:
    case CommandId::query_msg_details:
      return true;
    default:
      return false;
  }
}

// Requests an SMSC sends over a receiver (or transceiver) bind.
bool is_smsc_delivery(CommandId id) {
  return id == CommandId::deliver_sm || id == CommandId::data_sm ||
         id == CommandId::alert_notification;
}

// What the ESME side may send in `state` (the SMSC side mirrors it).
bool esme_may_send(BindState state, CommandId id) {
  if (id == CommandId::enquire_link) return state != BindState::closed;
  if (id == CommandId::unbind) return is_bound(state);
  if (is_bind(id)) return state == BindState::open;
  if (!is_esme_submission(id)) return false;
  return state == BindState::bound_tx || state == BindState::bound_trx;
}

bool smsc_may_send(BindState state, CommandId id) {
  if (id == CommandId::enquire_link) return state != BindState::closed;
  if (id == CommandId::unbind) return is_bound(state);
  if (id == CommandId::outbind) return state == BindState::open;
  if (!is_smsc_delivery(id)) return false;
  return state == BindState::bound_rx || state == BindState::bound_trx;
}

}  // namespace

bool peer_may_send(Role role, BindState state, CommandId request) {
  return role == Role::smsc ? esme_may_send(state, request) : smsc_may_send(state, request);
}

bool we_may_send(Role role, BindState state, CommandId request) {
  return role == Role::smsc ? smsc_may_send(state, request) : esme_may_send(state, request);
}

}  // namespace smppd::session
