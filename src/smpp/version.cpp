#include "smpp/version.hpp"

#include <algorithm>

namespace smpp {

Version version_from_interface(uint8_t iv) {
  if (iv <= 0x33) return Version::v33;
  if (iv < 0x50) return Version::v34;
  return Version::v50;
}

std::string_view version_name(Version v) {
  switch (v) {
    case Version::v33:
      return "3.3";
    case Version::v34:
      return "3.4";
    case Version::v50:
      return "5.0";
  }
  return "?";
}

std::optional<Version> parse_version(std::string_view s) {
  if (s == "3.3" || s == "33" || s == "0x33") return Version::v33;
  if (s == "3.4" || s == "34" || s == "0x34") return Version::v34;
  if (s == "5.0" || s == "5" || s == "50" || s == "0x50") return Version::v50;
  return std::nullopt;
}

bool command_in_version(CommandId id, Version v) {
  switch (static_cast<CommandId>(static_cast<uint32_t>(id) & ~kResponseBit)) {
    case CommandId::broadcast_sm:
    case CommandId::query_broadcast_sm:
    case CommandId::cancel_broadcast_sm:
      return v == Version::v50;
    case CommandId::data_sm:
    case CommandId::alert_notification:
    case CommandId::bind_transceiver:
    case CommandId::outbind:
      return v != Version::v33;
    case CommandId::param_retrieve:
    case CommandId::query_last_msgs:
    case CommandId::query_msg_details:
      return v == Version::v33;
    default:
      return true;
  }
}

std::size_t adapt_for_version(Pdu& pdu, Version peer) {
  if (supports_tlvs(peer)) return 0;
  return std::visit(
      [](auto& b) -> std::size_t {
        if constexpr (requires { b.tlvs; }) {
          const std::size_t n = b.tlvs.count();
          b.tlvs.clear();
          return n;
        } else {
          return 0;
        }
      },
      pdu.body);
}

Version negotiate(uint8_t peer_interface_version, Version highest_supported) {
  const Version peer = version_from_interface(peer_interface_version);
  return static_cast<uint8_t>(peer) < static_cast<uint8_t>(highest_supported) ? peer
                                                                              : highest_supported;
}

Version version_after_bind(Version bound, std::optional<uint8_t> sc_interface_version,
                           bool keep_when_unannounced) {
  if (!sc_interface_version) return keep_when_unannounced ? bound : Version::v33;
  return std::min(bound, version_from_interface(*sc_interface_version));
}

}  // namespace smpp
