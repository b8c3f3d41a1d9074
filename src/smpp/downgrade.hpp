// Content towards an SMPP 3.3 peer, which takes no TLVs (3.4 §5.3.2.25): what a message carries
// in TLVs is written the 3.3 way instead of being lost. message_payload becomes short_message;
// SAR TLVs become a concatenation element (IEI 0x08) of the UDH; source_port/destination_port an
// application port element (IEI 0x05); a data_sm, which 3.3 does not have, becomes a submit_sm.
// A message_payload longer than short_message's 254 octets is segmented: parts with a
// concatenation element (IEI 0x00, the reference given), cut as smpp::segment cuts them (never
// inside a GSM escape or a UTF-16 surrogate pair). What cannot be expressed (a long payload that
// also has a UDH, SAR or ports of its own; text in both short_message and message_payload) is
// refused with a command_status, never sent without its content.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "smpp/pdu.hpp"

namespace smpp {

struct Downgrade {
  uint32_t status = 0;         // ESME_ROK: expressible; else the status to refuse it with
  std::size_t converted = 0;   // TLVs written the 3.3 way
  std::size_t left = 0;        // TLVs with no 3.3 form (stripped when sent: not content)
  bool became_submit = false;  // a data_sm rewritten as submit_sm
  // Segmented: the PDU became the first part; these are the others, in order.
  std::vector<SubmitSm> more;
  std::vector<DeliverSm> more_deliveries;  // the same, for express_delivery_for_v33
};

// Rewrites a submit_sm or data_sm in place for a 3.3 peer. Other PDUs are left as they are.
// On a refusal the PDU is unchanged.
// `reference`: the concatenation reference should it be segmented (its low 8 bits are used).
Downgrade express_for_v33(Pdu& pdu, uint16_t reference = 0);

// The same for a deliver_sm towards a 3.3 client (an MO, a receipt). A receipt that carries its
// facts only in TLVs (receipted_message_id, message_state) gets the standard receipt text in
// short_message, so that a 3.3 client can read it.
Downgrade express_delivery_for_v33(DeliverSm& m, uint16_t reference = 0);

}  // namespace smpp
