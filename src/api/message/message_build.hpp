// One validated MessageRequest and one of its recipients turned into the submit_sm PDUs an
// upstream is sent. Pure: the concatenation reference comes from the caller (a counter per
// upstream connection or destination), so the same request always builds the same PDUs.
//
// Every part carries the same addresses, priority_flag, schedule, validity and
// registered_delivery. The receipt flag goes on every part, not only the last: each part is a
// message of its own at the SMSC with its own message_id, and a part that asks for no receipt
// leaves its fate unknown, so the gateway could not tell the client whether the whole message
// arrived. (SMSCs that bill receipts bill per part either way.)
//
// Times are absolute, in UTC ("YYMMDDhhmmss000+"): the instants were fixed when the request was
// accepted, so a message that waits in smppd's store does not get its validity extended.
#pragma once

#include <cstddef>
#include <cstdint>
#include <variant>
#include <vector>

#include "api/message/message_request.hpp"
#include "smpp/pdu.hpp"
#include "smpp/segment.hpp"

namespace smppd::api {

struct BuildOptions {
  // udh8/udh16: a UDH in each part; sar: SAR TLVs (parts sized as udh8); payload: the whole
  // text in one message_payload TLV, split by the SMSC.
  smpp::ConcatMethod method = smpp::ConcatMethod::udh8;
  uint16_t reference = 0;  // the concatenation reference; udh8 uses its low 8 bits
  std::size_t max_parts = 10;
};

struct BuiltMessage {
  std::vector<smpp::Pdu> pdus;  // submit_sm, sequence_number 0 (the session numbers them)
  // The SMS parts the handset receives, which is what a message costs: pdus.size(), except with
  // `payload`, where one PDU carries the parts the SMSC will cut (counted as udh8 would).
  std::size_t parts = 0;
};

// The parts `request` takes with these options. A FieldError naming "text" or "binary" ("needs
// 12 parts, at most 10") when above max_parts. A binary message with its own UDH is one part.
std::variant<std::size_t, FieldError> count_parts(const MessageRequest& request,
                                                  const BuildOptions& options = {});

// The submit_sm PDUs for `recipient` (one of request.to). A binary message with its own UDH is
// one short_message (UDH then data, UDHI set) whatever the method: its sender does its own
// concatenation. Errors: too many parts (as count_parts), or an address longer than SMPP's 20
// octets in a request that did not come from parse_message_request.
std::variant<BuiltMessage, FieldError> build_submits(const MessageRequest& request,
                                                     const Address& recipient,
                                                     const BuildOptions& options = {});

}  // namespace smppd::api
