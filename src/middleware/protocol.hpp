// The `protocol` middleware: `version_mapping` ("3.3": "3.4") says in which SMPP version a
// client's messages go on, by the version the client bound with.
//
// What smppd does without it: each peer is spoken to in its own version. A client's message is
// taken in the version it bound with and sent to the SMSC in the version the upstream bound
// with; towards a 3.3 SMSC, what a message carries in TLVs is rewritten the 3.3 way
// (smpp/downgrade.hpp, in upstream/connection.cpp). So the design's "3.3": "3.4" is what
// happens anyway: a 3.3 client's submit_sm is a valid 3.4 one and goes to a 3.4 SMSC as such.
// Likewise any mapping to "3.4" or "5.0": the upstream's own version decides the wire, and a
// 5.0 client's TLVs that a 3.4 SMSC does not know are ones SMPP tells it to ignore. These
// mappings are accepted and change nothing (tests/middleware/protocol_test.cpp shows it).
//
// A mapping to "3.3" from 3.4 or 5.0 is what this filter does: such a client's messages are
// expressed as 3.3 carries them whatever the upstream's version, before routing: no TLVs
// (message_payload into short_message, segmented into UDH parts when longer than 254 octets;
// SAR TLVs into a concatenation element; ports into a port element); a data_sm becomes a
// submit_sm (the client still gets a data_sm_resp). For an SMSC that binds as 3.4 but
// mishandles TLVs. What has no 3.3 form is refused with the status smpp::express_for_v33 gives,
// filter "protocol", rule "3.4: 3.3".
//
// Pure: no sockets, no logging, no clock.
#pragma once

#include <array>
#include <atomic>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "middleware/rejection.hpp"
#include "middleware/transform.hpp"
#include "smpp/pdu.hpp"
#include "smpp/version.hpp"

namespace smppd::middleware {

class Protocol {
 public:
  explicit Protocol(const std::vector<std::pair<smpp::Version, smpp::Version>>& mapping);
  Protocol(const Protocol&) = delete;
  Protocol& operator=(const Protocol&) = delete;

  // True when some mapping changes a message (a mapping to 3.3 from another version).
  bool acts() const;

  // A client's message (bound as `client_version`), rewritten in place; parts already in `out`
  // (a transform's) are rewritten too, and parts it makes are added before them.
  // `parts_allowed` false: a message that would need more parts is refused (ESME_RINVMSGLEN).
  std::optional<Rejection> apply(smpp::Pdu& request, smpp::Version client_version,
                                 bool parts_allowed, Rewrite& out) const;

 private:
  static std::size_t index(smpp::Version v);
  std::array<std::optional<smpp::Version>, 3> to_;  // by the client's version: 3.3, 3.4, 5.0
  std::array<std::string, 3> rule_;                 // "3.4: 3.3"
  mutable std::atomic<uint32_t> reference_{0};
};

}  // namespace smppd::middleware
