// Cutting a long message into parts for a peer that takes no long ones: a submit_sm whose text,
// in short_message or in a message_payload TLV, is longer than the peer's `max_length`
// characters becomes the first of several submit_sm parts tied together by a UDH (IEI 0x00 or
// 0x08) or SAR TLVs, cut as smpp::segment cuts (never inside a GSM escape or a UTF-16 surrogate
// pair). A message that is already a part (UDHI set, SAR TLVs) or has a UDH of its own is left
// as it is: its sender cut it.
//
// Only the last part asks for the SMSC's delivery receipt (registered_delivery bits 0-1), so that
// a client that asked for one receipt for its message gets one; the other bits are kept on every
// part.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "smpp/pdu.hpp"
#include "smpp/segment.hpp"

namespace smpp {

struct SplitOptions {
  ConcatMethod method = ConcatMethod::udh8;  // udh8, udh16 or sar (payload is not a split)
  uint16_t reference = 0;                    // its low 8 bits for udh8
  std::size_t max_parts = 10;                // more is refused: ESME_RINVMSGLEN
  // The longest text sent whole, in characters of its alphabet (GSM 03.38 septets, UTF-16 units,
  // octets); longer is cut into parts of the standard sizes (153/152 septets, 67/66 units,
  // 134/133 octets).
  std::size_t max_length = 160;
};

struct Split {
  uint32_t status = 0;  // ESME_ROK, or why it cannot be sent (the PDU is then unchanged)
  bool split = false;   // the PDU became the first part; `more` holds the others, in order
  std::vector<SubmitSm> more;
};

// Other PDUs than submit_sm are left as they are (a data_sm carries message_payload by design).
Split split_long(Pdu& pdu, const SplitOptions& options);

// Only the last part keeps the request of the SMSC's delivery receipt (bits 0-1 of
// registered_delivery): of `first` and `more`, every other part has them cleared.
void receipt_on_last_part(SubmitSm& first, std::vector<SubmitSm>& more);

}  // namespace smpp
