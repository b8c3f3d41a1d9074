// Content towards an SMPP 3.3 peer, which takes no TLVs (3.4 §5.3.2.25): what a message carries
// in TLVs is written the 3.3 way instead of being lost. message_payload becomes short_message;
// SAR TLVs become a concatenation element (IEI 0x08) of the UDH; source_port/destination_port an
// application port element (IEI 0x05); a data_sm, which 3.3 does not have, becomes a submit_sm.
// What cannot be expressed (a payload that does not fit the 254 octets of short_message) is
// refused with a command_status, never sent without its content.
#pragma once

#include <cstddef>
#include <cstdint>

#include "smpp/pdu.hpp"

namespace smpp {

struct Downgrade {
  uint32_t status = 0;         // ESME_ROK: expressible; else the status to refuse it with
  std::size_t converted = 0;   // TLVs written the 3.3 way
  std::size_t left = 0;        // TLVs with no 3.3 form (stripped when sent: not content)
  bool became_submit = false;  // a data_sm rewritten as submit_sm
};

// Rewrites a submit_sm or data_sm in place for a 3.3 peer. Other PDUs are left as they are.
// On a refusal the PDU is unchanged.
Downgrade express_for_v33(Pdu& pdu);

}  // namespace smpp
