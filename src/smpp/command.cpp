#include "smpp/command.hpp"

#include <array>
#include <iterator>

namespace smpp {

namespace {
struct CommandInfo {
  CommandId id;
  std::string_view name;
};

constexpr CommandInfo kCommands[] = {
    {CommandId::generic_nack, "generic_nack"},
    {CommandId::bind_receiver, "bind_receiver"},
    {CommandId::bind_receiver_resp, "bind_receiver_resp"},
    {CommandId::bind_transmitter, "bind_transmitter"},
    {CommandId::bind_transmitter_resp, "bind_transmitter_resp"},
    {CommandId::query_sm, "query_sm"},
    {CommandId::query_sm_resp, "query_sm_resp"},
    {CommandId::submit_sm, "submit_sm"},
    {CommandId::submit_sm_resp, "submit_sm_resp"},
    {CommandId::deliver_sm, "deliver_sm"},
    {CommandId::deliver_sm_resp, "deliver_sm_resp"},
    {CommandId::unbind, "unbind"},
    {CommandId::unbind_resp, "unbind_resp"},
    {CommandId::replace_sm, "replace_sm"},
    {CommandId::replace_sm_resp, "replace_sm_resp"},
    {CommandId::cancel_sm, "cancel_sm"},
    {CommandId::cancel_sm_resp, "cancel_sm_resp"},
    {CommandId::bind_transceiver, "bind_transceiver"},
    {CommandId::bind_transceiver_resp, "bind_transceiver_resp"},
    {CommandId::outbind, "outbind"},
    {CommandId::enquire_link, "enquire_link"},
    {CommandId::enquire_link_resp, "enquire_link_resp"},
    {CommandId::submit_multi, "submit_multi"},
    {CommandId::submit_multi_resp, "submit_multi_resp"},
    {CommandId::param_retrieve, "param_retrieve"},
    {CommandId::param_retrieve_resp, "param_retrieve_resp"},
    {CommandId::query_last_msgs, "query_last_msgs"},
    {CommandId::query_last_msgs_resp, "query_last_msgs_resp"},
    {CommandId::query_msg_details, "query_msg_details"},
    {CommandId::query_msg_details_resp, "query_msg_details_resp"},
    {CommandId::alert_notification, "alert_notification"},
    {CommandId::data_sm, "data_sm"},
    {CommandId::data_sm_resp, "data_sm_resp"},
    {CommandId::broadcast_sm, "broadcast_sm"},
    {CommandId::broadcast_sm_resp, "broadcast_sm_resp"},
    {CommandId::query_broadcast_sm, "query_broadcast_sm"},
    {CommandId::query_broadcast_sm_resp, "query_broadcast_sm_resp"},
    {CommandId::cancel_broadcast_sm, "cancel_broadcast_sm"},
    {CommandId::cancel_broadcast_sm_resp, "cancel_broadcast_sm_resp"},
};

const CommandInfo* find(uint32_t id) {
  for (const auto& c : kCommands) {
    if (static_cast<uint32_t>(c.id) == id) return &c;
  }
  return nullptr;
}
}  // namespace

static_assert(std::size(kCommands) + 1 == kCommandOrdinals);

namespace {
// By (id & 0x1FF) | (response ? 0x200 : 0): the ordinal + 1, 0 for none. Every known id fits
// in those bits (the highest is 0x112).
constexpr auto kOrdinals = [] {
  std::array<uint8_t, 1024> t{};
  for (std::size_t i = 0; i < std::size(kCommands); ++i) {
    const auto id = static_cast<uint32_t>(kCommands[i].id);
    t[(id & 0x1FF) | ((id & kResponseBit) != 0 ? 0x200 : 0)] = static_cast<uint8_t>(i + 1);
  }
  return t;
}();
}  // namespace

std::size_t command_ordinal(uint32_t id) {
  const uint8_t k = kOrdinals[(id & 0x1FF) | ((id & kResponseBit) != 0 ? 0x200 : 0)];
  // The low bits may match a known id while the others do not.
  if (k == 0 || static_cast<uint32_t>(kCommands[k - 1].id) != id) return kCommandOrdinals - 1;
  return k - 1u;
}

std::string_view command_ordinal_name(std::size_t ordinal) {
  return ordinal < std::size(kCommands) ? kCommands[ordinal].name : std::string_view("unknown");
}

bool is_known_command(uint32_t id) {
  return find(id) != nullptr;
}

bool has_response(CommandId id) {
  if (is_response(id)) return false;
  return id != CommandId::alert_notification && id != CommandId::outbind;
}

std::string_view command_name(CommandId id) {
  const CommandInfo* c = find(static_cast<uint32_t>(id));
  return c ? c->name : std::string_view("unknown");
}

}  // namespace smpp
