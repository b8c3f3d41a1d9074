// SMPP version rules the sessions apply: which interface_version means what, what each version
// may carry, and how a PDU is adapted before it goes to a peer of a given version.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "smpp/pdu.hpp"

namespace smpp {

enum class Version : uint8_t { v33 = 0x33, v34 = 0x34, v50 = 0x50 };

// interface_version 0x00-0x33 is 3.3 or earlier, 0x34-0x4F 3.4, 0x50 and above 5.0.
Version version_from_interface(uint8_t interface_version);
constexpr uint8_t interface_version_of(Version v) {
  return static_cast<uint8_t>(v);
}
// "3.3", "3.4", "5.0".
std::string_view version_name(Version v);
// Parses "3.3", "3.4", "5.0" (also "33", "34", "50", "0x34").
std::optional<Version> parse_version(std::string_view s);

constexpr bool supports_tlvs(Version v) {
  return v != Version::v33;
}

// Longest message_id a peer of this version accepts: 8 octets for 3.3, 64 otherwise.
constexpr std::size_t max_message_id_length(Version v) {
  return v == Version::v33 ? 8 : 64;
}

// Whether the command exists in this version (broadcast_* only in 5.0, data_sm and
// bind_transceiver from 3.4, param_retrieve / query_last_msgs / query_msg_details only in 3.3).
bool command_in_version(CommandId id, Version v);

// Makes a PDU fit a peer of this version: towards 3.3 every TLV is removed. Returns the number
// of TLVs removed, so the caller can count what a 3.3 peer could not receive.
std::size_t adapt_for_version(Pdu& pdu, Version peer);

// The version a bind with this interface_version is served with, given the highest version the
// server speaks: the lower of the two.
Version negotiate(uint8_t peer_interface_version, Version highest_supported);

// The version an ESME speaks once the SMSC accepted its bind: the lower of the version it bound
// with and the one the bind_resp announced in sc_interface_version. Without that TLV the SMSC
// must be taken to accept no TLVs, i.e. 3.3 (3.4 §5.3.2.25), unless `keep_when_unannounced`
// (the operator wrote the version down): then `bound` stays.
Version version_after_bind(Version bound, std::optional<uint8_t> sc_interface_version,
                           bool keep_when_unannounced);

}  // namespace smpp
