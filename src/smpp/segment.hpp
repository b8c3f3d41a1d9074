// Splitting encoded message bytes into the parts of a concatenated message (UDH with IEI 0x00 or
// 0x08, SAR TLVs, or one message_payload TLV), turning the parts into submit_sm PDUs, and parsing
// a user data header.
//
// UDH layout (3GPP TS 23.040 §9.2.3.24): UDHL, then elements of IEI, IEDL, data.
//   8-bit reference:  05 00 03 ref total seq
//   16-bit reference: 06 08 04 refH refL total seq
// seq starts at 1.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "smpp/coding.hpp"
#include "smpp/pdu.hpp"
#include "smpp/text.hpp"

namespace smpp {

// Information element identifiers this library knows by name.
namespace iei {
inline constexpr uint8_t kConcat8 = 0x00;   // concatenation, 8-bit reference
inline constexpr uint8_t kPort8 = 0x04;     // application port addressing, 8-bit ports
inline constexpr uint8_t kPort16 = 0x05;    // application port addressing, 16-bit ports
inline constexpr uint8_t kConcat16 = 0x08;  // concatenation, 16-bit reference
}  // namespace iei

// How the parts of a long message are tied together.
enum class ConcatMethod : uint8_t {
  udh8,     // UDH IEI 0x00 in short_message, esm_class UDHI; reference 0-255
  udh16,    // UDH IEI 0x08 in short_message, esm_class UDHI
  sar,      // sar_msg_ref_num / sar_total_segments / sar_segment_seqnum TLVs, no UDH
  payload,  // the whole message in one message_payload TLV; the SMSC splits it
};

struct SegmentOptions {
  ConcatMethod method = ConcatMethod::udh8;
  uint16_t reference = 0;       // the concatenation reference; at most 255 for udh8
  std::size_t max_parts = 255;  // more parts is an error (255 is the most a UDH can number)
};

enum class SegmentError : uint8_t {
  ok,
  too_many_parts,          // more parts than max_parts (or 255)
  reference_out_of_range,  // udh8 with a reference above 255
  payload_too_long,        // more than 65535 octets for one message_payload TLV
};

std::string_view to_string(SegmentError e);

struct SegmentPart {
  uint8_t seq = 1;  // 1-based
  // The short_message of this part: for udh8/udh16 the UDH followed by the data; for sar and
  // single parts the data only; for payload the whole message (it goes in message_payload).
  std::vector<uint8_t> bytes;
};

struct Segmented {
  SegmentError error = SegmentError::ok;
  ConcatMethod method = ConcatMethod::udh8;
  // False when the message fits in one short_message and is sent without UDH or SAR (always
  // false for `payload`).
  bool concatenated = false;
  uint16_t reference = 0;
  uint8_t total = 0;
  std::vector<SegmentPart> parts;  // empty on error
  bool ok() const { return error == SegmentError::ok; }
};

// Splits `encoded` (text already encoded in `alphabet`, e.g. by encode_text, or binary data).
// A message within the single-message limit of its alphabet (160 septets, 70 UTF-16 units, 140
// octets) is one part without UDH or SAR. Longer ones are cut into parts of at most 153/152
// septets, 67/66 UTF-16 units or 134/133 octets (udh8/udh16; SAR parts are sized as for an 8-bit
// reference, the UDH an SMSC usually builds from them). A GSM escape pair or UTF-16 surrogate
// pair is never cut: its part ends before it. With `payload`, the whole message is one part.
Segmented segment(std::span<const uint8_t> encoded, Alphabet alphabet,
                  const SegmentOptions& options = {});

// One submit_sm per part, copies of `tmpl` with data_coding, short_message, esm_class and TLVs
// set: UDHI (0x40) for udh8/udh16 and cleared otherwise, sar_* TLVs for sar, message_payload
// (and an empty short_message) for payload. Any sar_* or message_payload TLV in `tmpl` is
// removed first so that methods never mix. `tmpl.short_message` is not used. Empty when
// `segmented` holds an error.
std::vector<SubmitSm> make_submits(const Segmented& segmented, const SubmitSm& tmpl,
                                   uint8_t data_coding);

// ---- parsing a user data header ----

struct InformationElement {
  uint8_t iei = 0;
  std::span<const uint8_t> data;  // a view into the parsed short_message
};

struct ConcatInfo {
  uint16_t reference = 0;
  uint8_t total = 0;
  uint8_t seq = 0;
  bool ref16 = false;  // IEI 0x08 (or SAR, whose reference is 16-bit)
  friend bool operator==(const ConcatInfo&, const ConcatInfo&) = default;
};

enum class UdhError : uint8_t {
  ok,
  empty,              // no octet for UDHL
  header_past_end,    // UDHL says more octets than the short_message has
  element_overrun,    // an element's length runs past the end of the UDH (or is missing)
  bad_concat_length,  // a concatenation element whose length is not 3 (0x00) or 4 (0x08)
};

std::string_view to_string(UdhError e);

struct Udh {
  UdhError error = UdhError::ok;
  std::vector<InformationElement> elements;  // every element, in order
  // The concatenation element, if any (the last one when repeated, as TS 23.040 says). Its
  // values are as found: total 0, seq 0 or seq > total are for the caller to reject.
  std::optional<ConcatInfo> concat;
  std::size_t header_length = 0;     // UDHL octet included
  std::span<const uint8_t> payload;  // what follows the UDH
  bool ok() const { return error == UdhError::ok; }
};

// Parses the UDH at the start of a short_message whose esm_class has UDHI set. The spans in the
// result point into `short_message`, which must outlive them.
Udh parse_udh(std::span<const uint8_t> short_message);

// The concatenation carried by SAR TLVs: all three present with their sizes (u16, u8, u8).
// Empty when none is present. `partial` (if given) is set when some but not all are present.
std::optional<ConcatInfo> sar_concat(const TlvList& tlvs, bool* partial = nullptr);

}  // namespace smpp
