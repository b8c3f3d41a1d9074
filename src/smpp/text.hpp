// Text encodings of short messages: GSM 03.38 default alphabet with its extension table (as SMPP
// carries it: one septet per octet, and packed 7-bit), UCS-2/UTF-16BE, Latin-1 and IA5, all to
// and from UTF-8; the choice of the cheapest encoding for a text; and counting characters and
// parts the way a handset does.
//
// Nothing here throws or reads outside its input: every failure is a TextError value with the
// offset of the offending input.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "smpp/coding.hpp"

namespace smpp {

enum class TextError : uint8_t {
  ok,
  invalid_utf8,    // UTF-8 input is malformed (overlong, truncated, surrogate code point, ...)
  unmappable,      // a character the target alphabet cannot carry
  invalid_septet,  // a GSM octet above 0x7F
  lone_surrogate,  // UTF-16 high surrogate without its low one, or a stray low surrogate
  odd_length,      // UCS-2 data with an odd number of octets
  invalid_ia5,     // an IA5 octet above 0x7F
  not_text,        // data_coding is binary (or JIS, Kanji...): there is no text to decode
  too_short,       // packed septets: fewer octets than the septet count needs
};

std::string_view to_string(TextError e);

// What to do with input that cannot be converted. `reject` stops at the first problem and
// returns the error; `replace` substitutes and goes on: U+FFFD when decoding to UTF-8, '?' when
// encoding to GSM/Latin-1/IA5. Malformed UTF-8 input is always rejected, whatever the policy:
// there is no character to substitute for.
enum class OnInvalid : uint8_t { reject, replace };

// Result of an encoding to octets. On error, `bytes` holds what was produced before it.
struct EncodedBytes {
  std::vector<uint8_t> bytes;
  TextError error = TextError::ok;
  std::size_t error_offset = 0;  // offset in the input of the first problem
  bool ok() const { return error == TextError::ok; }
};

// Result of a decoding to UTF-8. On error, `text` holds what was decoded before it.
struct DecodedText {
  std::string text;
  TextError error = TextError::ok;
  std::size_t error_offset = 0;
  bool ok() const { return error == TextError::ok; }
};

// ---- GSM 03.38 ----

inline constexpr uint8_t kGsmEscape = 0x1B;

// UTF-8 to unpacked septets (one per octet, 0x00-0x7F). Extension characters (€ [ ] { } \ ^ ~ |
// and form feed) become 0x1B followed by their code. '@' is 0x00.
EncodedBytes utf8_to_gsm7(std::string_view utf8, OnInvalid on_invalid = OnInvalid::reject);

// Unpacked septets to UTF-8. An octet above 0x7F is invalid_septet (or U+FFFD). A 0x1B that does
// not start a known extension sequence (unknown code, 0x1B 0x1B, or 0x1B at the end) decodes to
// U+00A0 on its own and the next septet is read normally, as the Unicode GSM0338 table does:
// nothing is dropped. (U+00A0 itself does not encode back: it is not in the alphabet.)
DecodedText gsm7_to_utf8(std::span<const uint8_t> septets,
                         OnInvalid on_invalid = OnInvalid::reject);

// True when every character of the UTF-8 text is in the default alphabet or its extension table.
// False for malformed UTF-8.
bool fits_gsm7(std::string_view utf8);

// Packed 7-bit (GSM 03.38 §6.1.2.1). `udh_octets` is the length of a user data header that
// precedes the septets in the same user data (UDHL octet included, 0 for none): the septets then
// start after (7 - udh_octets*8 % 7) % 7 fill bits so that they begin on a septet boundary. The
// packed octets returned and taken here are those after the UDH only.
std::size_t fill_bits(std::size_t udh_octets);
// Octets that `septets` septets take after a UDH of `udh_octets` octets.
std::size_t packed_size(std::size_t septets, std::size_t udh_octets = 0);
// Septets that fit in `packed_octets` octets after such a UDH (the most a receiver can read).
std::size_t septet_capacity(std::size_t packed_octets, std::size_t udh_octets = 0);
// Septets above 0x7F are masked to 7 bits.
std::vector<uint8_t> pack_septets(std::span<const uint8_t> septets, std::size_t udh_octets = 0);
// too_short when `packed` holds fewer than `septet_count` septets.
EncodedBytes unpack_septets(std::span<const uint8_t> packed, std::size_t septet_count,
                            std::size_t udh_octets = 0);

// ---- UCS-2 / UTF-16BE ----

// UTF-8 to UTF-16BE; characters beyond U+FFFF become surrogate pairs. Never unmappable.
EncodedBytes utf8_to_ucs2(std::string_view utf8);
// UTF-16BE to UTF-8. Surrogate pairs are joined; a lone surrogate is lone_surrogate under
// `reject`, U+FFFD under `replace`. An odd trailing octet is odd_length (or U+FFFD).
DecodedText ucs2_to_utf8(std::span<const uint8_t> utf16be,
                         OnInvalid on_invalid = OnInvalid::reject);

// ---- one octet per character ----

// U+0000-U+00FF only.
EncodedBytes utf8_to_latin1(std::string_view utf8, OnInvalid on_invalid = OnInvalid::reject);
// Always succeeds: every octet is a Latin-1 character.
DecodedText latin1_to_utf8(std::span<const uint8_t> octets);
// U+0000-U+007F only.
EncodedBytes utf8_to_ia5(std::string_view utf8, OnInvalid on_invalid = OnInvalid::reject);
DecodedText ia5_to_utf8(std::span<const uint8_t> octets, OnInvalid on_invalid = OnInvalid::reject);

// ---- short_message ----

struct TextDecodeOptions {
  bool default_is_latin1 = false;  // data_coding 0 read as Latin-1 (see alphabet_of)
  OnInvalid on_invalid = OnInvalid::reject;
};

// The text of a short_message (or message_payload) given its data_coding, without any UDH (see
// parse_udh in segment.hpp). data_coding 6 and 7 are read as ISO-8859-5 and ISO-8859-8;
// binary codings give not_text.
DecodedText decode_message(std::span<const uint8_t> bytes, uint8_t data_coding,
                           const TextDecodeOptions& options = {});

// ---- choosing an encoding and counting ----

// Kind of concatenation reference, which sets the UDH size and so the room left per part.
enum class ConcatRef : uint8_t { ref8, ref16 };

// Units a message can hold in one part (`single`) and per part of a concatenated message.
// Units are septets (gsm7), UTF-16 code units (ucs2) or octets (latin1, ia5, binary):
// gsm7 160 / 153 (152), ucs2 70 / 67 (66), others 140 / 134 (133). Latin-1 and IA5 are counted
// as 8-bit data, the limit when the SMSC passes the octets on unchanged.
struct PartLimits {
  std::size_t single;
  std::size_t per_part;
};
PartLimits part_limits(Alphabet alphabet, ConcatRef ref = ConcatRef::ref8);

// Octets one unit takes in SMPP's encoding of this alphabet (2 for ucs2, else 1).
std::size_t unit_octets(Alphabet alphabet);

// Length in octets of the longest prefix of `encoded` that is at most `max_octets` long and does
// not end inside a GSM escape pair (gsm7) or a UTF-16 surrogate pair or code unit (ucs2). It is
// shorter than `max_octets` only to keep such a pair whole. 0 only when `encoded` is empty or
// `max_octets` cannot hold the first character.
std::size_t chunk_length(std::span<const uint8_t> encoded, Alphabet alphabet,
                         std::size_t max_octets);

struct TextInfo {
  Alphabet alphabet = Alphabet::gsm7;
  std::size_t units = 0;           // septets (an extension character counts 2), UTF-16 units...
  std::size_t parts = 0;           // 1 for an empty text
  std::size_t units_per_part = 0;  // the limit that applied: single or per concatenated part
  TextError error = TextError::ok;
  std::size_t error_offset = 0;
  bool ok() const { return error == TextError::ok; }
};

// Parts needed for already encoded bytes, splitting as segment() does (never inside an escape
// or surrogate pair), so a pair at a part boundary can cost a part more than units / per_part.
TextInfo count_encoded(std::span<const uint8_t> encoded, Alphabet alphabet,
                       ConcatRef ref = ConcatRef::ref8);

struct EncodeOptions {
  bool allow_latin1 = false;  // Latin-1 (data_coding 3) before UCS-2 when the text fits in it
  ConcatRef ref = ConcatRef::ref8;
};

// The cheapest alphabet that carries the text: gsm7 when every character is in the default
// alphabet or extension table, else latin1 if allowed and it fits, else ucs2.
// Empty for malformed UTF-8.
std::optional<Alphabet> choose_alphabet(std::string_view utf8, bool allow_latin1 = false);

// The text encoded in its cheapest alphabet, with its data_coding.
struct EncodedText {
  Alphabet alphabet = Alphabet::gsm7;
  uint8_t data_coding = data_coding::kSmscDefault;
  std::vector<uint8_t> bytes;
  TextError error = TextError::ok;
  std::size_t error_offset = 0;
  bool ok() const { return error == TextError::ok; }
};
EncodedText encode_text(std::string_view utf8, const EncodeOptions& options = {});

// The data_coding that announces this alphabet (gsm7 -> 0, latin1 -> 3, ia5 -> 1, ucs2 -> 8,
// binary -> 4).
uint8_t data_coding_for(Alphabet alphabet);

// Count as a handset does: the cheapest alphabet, its units and the number of parts.
TextInfo analyze_text(std::string_view utf8, const EncodeOptions& options = {});

}  // namespace smpp
