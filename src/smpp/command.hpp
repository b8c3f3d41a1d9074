// SMPP command identifiers (3.3, 3.4 and 5.0) and what is known about each.
#pragma once

#include <cstdint>
#include <string_view>

namespace smpp {

enum class CommandId : uint32_t {
  generic_nack = 0x80000000,
  bind_receiver = 0x00000001,
  bind_receiver_resp = 0x80000001,
  bind_transmitter = 0x00000002,
  bind_transmitter_resp = 0x80000002,
  query_sm = 0x00000003,
  query_sm_resp = 0x80000003,
  submit_sm = 0x00000004,
  submit_sm_resp = 0x80000004,
  deliver_sm = 0x00000005,
  deliver_sm_resp = 0x80000005,
  unbind = 0x00000006,
  unbind_resp = 0x80000006,
  replace_sm = 0x00000007,
  replace_sm_resp = 0x80000007,
  cancel_sm = 0x00000008,
  cancel_sm_resp = 0x80000008,
  bind_transceiver = 0x00000009,
  bind_transceiver_resp = 0x80000009,
  outbind = 0x0000000B,
  enquire_link = 0x00000015,
  enquire_link_resp = 0x80000015,
  submit_multi = 0x00000021,
  submit_multi_resp = 0x80000021,
  // SMPP 3.3 only.
  param_retrieve = 0x00000022,
  param_retrieve_resp = 0x80000022,
  query_last_msgs = 0x00000023,
  query_last_msgs_resp = 0x80000023,
  query_msg_details = 0x00000024,
  query_msg_details_resp = 0x80000024,
  // SMPP 3.4 and later.
  alert_notification = 0x00000102,
  data_sm = 0x00000103,
  data_sm_resp = 0x80000103,
  // SMPP 5.0.
  broadcast_sm = 0x00000111,
  broadcast_sm_resp = 0x80000111,
  query_broadcast_sm = 0x00000112,
  query_broadcast_sm_resp = 0x80000112,
  cancel_broadcast_sm = 0x00000113,
  cancel_broadcast_sm_resp = 0x80000113,
};

inline constexpr uint32_t kResponseBit = 0x80000000u;

constexpr bool is_response(CommandId id) {
  return (static_cast<uint32_t>(id) & kResponseBit) != 0;
}

// The response command id of a request (generic_nack for generic_nack itself).
constexpr CommandId response_of(CommandId id) {
  return static_cast<CommandId>(static_cast<uint32_t>(id) | kResponseBit);
}

// True for command ids this library knows (requests and responses).
bool is_known_command(uint32_t id);

// True when the request is answered by a response PDU (false for alert_notification, outbind,
// generic_nack and every response).
bool has_response(CommandId id);

// "submit_sm", "deliver_sm_resp", ...; "unknown" for ids not in the table.
std::string_view command_name(CommandId id);

// Every command id this library knows has a small number, 0 .. kCommandOrdinals - 2; the last
// one stands for every other id. A table lookup (for counting PDUs per command).
inline constexpr std::size_t kCommandOrdinals = 40;
std::size_t command_ordinal(uint32_t id);
std::string_view command_ordinal_name(std::size_t ordinal);

}  // namespace smpp
