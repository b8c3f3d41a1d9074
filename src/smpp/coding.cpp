#include "smpp/coding.hpp"

namespace smpp {

Alphabet alphabet_of(uint8_t dc, bool default_is_latin1) {
  switch (dc) {
    case data_coding::kSmscDefault:
      return default_is_latin1 ? Alphabet::latin1 : Alphabet::gsm7;
    case data_coding::kIa5:
      return Alphabet::ia5;
    case data_coding::kLatin1:
      return Alphabet::latin1;
    case data_coding::kUcs2:
      return Alphabet::ucs2;
    case data_coding::kCyrillic:
    case data_coding::kLatinHebrew:
      return Alphabet::latin1;  // one character per octet
    default:
      break;
  }
  // The rest of 0x00-0x0F is SMPP's own table (binary, JIS, Kanji, KS C 5601): opaque octets.
  if (dc < 0x10) return Alphabet::binary;
  // GSM 03.38 §4 data coding groups: 0000xxxx and 01xxxxxx (general), 1111xxxx (message class):
  // bits 3..2 give the alphabet (00 default, 01 8-bit, 10 UCS2).
  if ((dc & 0xC0) == 0x00 || (dc & 0xC0) == 0x40 || (dc & 0xF0) == 0xF0) {
    if ((dc & 0xF0) == 0xF0) return (dc & 0x04) ? Alphabet::binary : Alphabet::gsm7;
    if (dc & 0x20) return Alphabet::binary;  // compressed: opaque
    switch ((dc >> 2) & 0x03) {
      case 0:
        return Alphabet::gsm7;
      case 2:
        return Alphabet::ucs2;
      default:
        return Alphabet::binary;
    }
  }
  // Message waiting groups 1100/1101 use the default alphabet, 1110 UCS2.
  if ((dc & 0xF0) == 0xC0 || (dc & 0xF0) == 0xD0) return Alphabet::gsm7;
  if ((dc & 0xF0) == 0xE0) return Alphabet::ucs2;
  return Alphabet::binary;
}

}  // namespace smpp
