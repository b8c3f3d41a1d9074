// data_coding values (3.4 §5.2.19) and the alphabets the text and segmentation code work in.
#pragma once

#include <cstdint>

namespace smpp {

namespace data_coding {
inline constexpr uint8_t kSmscDefault = 0x00;  // usually GSM 03.38 default alphabet
inline constexpr uint8_t kIa5 = 0x01;          // IA5 (CCITT T.50) / ASCII
inline constexpr uint8_t kBinary8 = 0x02;      // 8-bit binary
inline constexpr uint8_t kLatin1 = 0x03;       // ISO-8859-1
inline constexpr uint8_t kBinary = 0x04;       // 8-bit binary
inline constexpr uint8_t kJis = 0x05;
inline constexpr uint8_t kCyrillic = 0x06;     // ISO-8859-5
inline constexpr uint8_t kLatinHebrew = 0x07;  // ISO-8859-8
inline constexpr uint8_t kUcs2 = 0x08;         // UCS-2 (UTF-16BE in practice)
}  // namespace data_coding

// How the octets of a short_message are to be read, for counting and splitting.
enum class Alphabet : uint8_t {
  gsm7,    // one GSM 03.38 septet per octet (unpacked, as SMPP carries it); 0x1B escapes
  latin1,  // one character per octet
  ia5,     // ASCII, one character per octet
  ucs2,    // UTF-16BE, two octets per unit; surrogate pairs must stay together
  binary,  // opaque octets
};

// The alphabet a data_coding value implies. `default_is_latin1` covers SMSCs that read
// data_coding 0 as Latin-1 rather than GSM 03.38.
Alphabet alphabet_of(uint8_t data_coding, bool default_is_latin1 = false);

}  // namespace smpp
