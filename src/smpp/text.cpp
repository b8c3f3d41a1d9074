#include "smpp/text.hpp"

#include <algorithm>
#include <array>

namespace smpp {

namespace {

constexpr char32_t kReplacement = 0xFFFD;
constexpr char32_t kNoBreakSpace = 0x00A0;
constexpr char32_t kMaxCodePoint = 0x10FFFF;

// GSM 03.38 default alphabet (Unicode GSM0338.TXT). 0x1B is the escape, not a character: it is
// 0 here so that no character encodes to it.
constexpr std::array<char16_t, 128> kGsmBasic = {
    0x0040, 0x00A3, 0x0024, 0x00A5, 0x00E8, 0x00E9, 0x00F9, 0x00EC,  //
    0x00F2, 0x00E7, 0x000A, 0x00D8, 0x00F8, 0x000D, 0x00C5, 0x00E5,  //
    0x0394, 0x005F, 0x03A6, 0x0393, 0x039B, 0x03A9, 0x03A0, 0x03A8,  //
    0x03A3, 0x0398, 0x039E, 0x0000, 0x00C6, 0x00E6, 0x00DF, 0x00C9,  //
    0x0020, 0x0021, 0x0022, 0x0023, 0x00A4, 0x0025, 0x0026, 0x0027,  //
    0x0028, 0x0029, 0x002A, 0x002B, 0x002C, 0x002D, 0x002E, 0x002F,  //
    0x0030, 0x0031, 0x0032, 0x0033, 0x0034, 0x0035, 0x0036, 0x0037,  //
    0x0038, 0x0039, 0x003A, 0x003B, 0x003C, 0x003D, 0x003E, 0x003F,  //
    0x00A1, 0x0041, 0x0042, 0x0043, 0x0044, 0x0045, 0x0046, 0x0047,  //
    0x0048, 0x0049, 0x004A, 0x004B, 0x004C, 0x004D, 0x004E, 0x004F,  //
    0x0050, 0x0051, 0x0052, 0x0053, 0x0054, 0x0055, 0x0056, 0x0057,  //
    0x0058, 0x0059, 0x005A, 0x00C4, 0x00D6, 0x00D1, 0x00DC, 0x00A7,  //
    0x00BF, 0x0061, 0x0062, 0x0063, 0x0064, 0x0065, 0x0066, 0x0067,  //
    0x0068, 0x0069, 0x006A, 0x006B, 0x006C, 0x006D, 0x006E, 0x006F,  //
    0x0070, 0x0071, 0x0072, 0x0073, 0x0074, 0x0075, 0x0076, 0x0077,  //
    0x0078, 0x0079, 0x007A, 0x00E4, 0x00F6, 0x00F1, 0x00FC, 0x00E0,  //
};

struct GsmExtension {
  uint8_t code;  // the septet after 0x1B
  char16_t character;
};
constexpr std::array<GsmExtension, 10> kGsmExtension = {{
    {0x0A, 0x000C},  // form feed
    {0x14, 0x005E},  // ^
    {0x28, 0x007B},  // {
    {0x29, 0x007D},  // }
    {0x2F, 0x005C},  // backslash
    {0x3C, 0x005B},  // [
    {0x3D, 0x007E},  // ~
    {0x3E, 0x005D},  // ]
    {0x40, 0x007C},  // |
    {0x65, 0x20AC},  // euro sign
}};

// Septet(s) for a character: the septet, (0x1B << 8 | code) for an extension character, or -1.
constexpr int kNotGsm = -1;
constexpr char32_t kGsmLookupSize = 0x400;  // covers Latin-1 and the Greek capitals

constexpr std::array<int16_t, kGsmLookupSize> make_gsm_lookup() {
  std::array<int16_t, kGsmLookupSize> t{};
  for (auto& v : t) v = kNotGsm;
  for (std::size_t i = 0; i < kGsmBasic.size(); ++i) {
    if (i == kGsmEscape) continue;
    t[kGsmBasic[i]] = static_cast<int16_t>(i);
  }
  for (const auto& e : kGsmExtension) {
    if (e.character < kGsmLookupSize)
      t[e.character] = static_cast<int16_t>((kGsmEscape << 8) | e.code);
  }
  return t;
}
constexpr std::array<int16_t, kGsmLookupSize> kGsmLookup = make_gsm_lookup();

int gsm_code(char32_t c) {
  if (c < kGsmLookupSize) return kGsmLookup[c];
  for (const auto& e : kGsmExtension) {
    if (e.character == c) return (kGsmEscape << 8) | e.code;
  }
  return kNotGsm;
}

std::optional<char16_t> gsm_extension(uint8_t code) {
  for (const auto& e : kGsmExtension) {
    if (e.code == code) return e.character;
  }
  return std::nullopt;
}

// Reads one code point of strict UTF-8 at utf8[i] and advances i past it. Empty (i unchanged)
// for overlong forms, truncated sequences, stray continuation octets, surrogates and values
// above U+10FFFF.
std::optional<char32_t> next_code_point(std::string_view utf8, std::size_t& i) {
  const auto b0 = static_cast<uint8_t>(utf8[i]);
  if (b0 < 0x80) {
    ++i;
    return b0;
  }
  std::size_t len = 0;
  char32_t cp = 0;
  char32_t min = 0;
  if ((b0 & 0xE0) == 0xC0) {
    len = 2;
    cp = b0 & 0x1Fu;
    min = 0x80;
  } else if ((b0 & 0xF0) == 0xE0) {
    len = 3;
    cp = b0 & 0x0Fu;
    min = 0x800;
  } else if ((b0 & 0xF8) == 0xF0) {
    len = 4;
    cp = b0 & 0x07u;
    min = 0x10000;
  } else {
    return std::nullopt;
  }
  if (utf8.size() - i < len) return std::nullopt;
  for (std::size_t k = 1; k < len; ++k) {
    const auto b = static_cast<uint8_t>(utf8[i + k]);
    if ((b & 0xC0) != 0x80) return std::nullopt;
    cp = (cp << 6) | (b & 0x3Fu);
  }
  if (cp < min || cp > kMaxCodePoint || (cp >= 0xD800 && cp <= 0xDFFF)) return std::nullopt;
  i += len;
  return cp;
}

void append_utf8(std::string& out, char32_t cp) {
  auto put = [&out](char32_t v) { out.push_back(static_cast<char>(static_cast<uint8_t>(v))); };
  if (cp < 0x80) {
    put(cp);
  } else if (cp < 0x800) {
    put(0xC0 | (cp >> 6));
    put(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    put(0xE0 | (cp >> 12));
    put(0x80 | ((cp >> 6) & 0x3F));
    put(0x80 | (cp & 0x3F));
  } else {
    put(0xF0 | (cp >> 18));
    put(0x80 | ((cp >> 12) & 0x3F));
    put(0x80 | ((cp >> 6) & 0x3F));
    put(0x80 | (cp & 0x3F));
  }
}

// Encodes UTF-8 into one octet per character, with `map` giving the octet or -1. With
// `gsm_extension`, a value above 0x7F is a GSM extension character: 0x1B, then its code.
template <class Map>
EncodedBytes encode_octets(std::string_view utf8, OnInvalid on_invalid, Map map,
                           bool gsm_extension = false) {
  EncodedBytes r;
  r.bytes.reserve(utf8.size());
  std::size_t i = 0;
  while (i < utf8.size()) {
    const std::size_t at = i;
    const auto cp = next_code_point(utf8, i);
    if (!cp) {
      r.error = TextError::invalid_utf8;
      r.error_offset = at;
      return r;
    }
    const int v = map(*cp);
    if (v < 0) {
      if (on_invalid == OnInvalid::reject) {
        r.error = TextError::unmappable;
        r.error_offset = at;
        return r;
      }
      r.bytes.push_back('?');
      continue;
    }
    if (gsm_extension && v > 0x7F) {
      r.bytes.push_back(kGsmEscape);
      r.bytes.push_back(static_cast<uint8_t>(v & 0x7F));
      continue;
    }
    r.bytes.push_back(static_cast<uint8_t>(v));
  }
  return r;
}

// Decodes one octet per character, with `map` giving the code point or empty.
template <class Map>
DecodedText decode_octets(std::span<const uint8_t> octets, OnInvalid on_invalid, TextError error,
                          Map map) {
  DecodedText r;
  r.text.reserve(octets.size());
  for (std::size_t i = 0; i < octets.size(); ++i) {
    const std::optional<char32_t> cp = map(octets[i]);
    if (!cp) {
      if (on_invalid == OnInvalid::reject) {
        r.error = error;
        r.error_offset = i;
        return r;
      }
      append_utf8(r.text, kReplacement);
      continue;
    }
    append_utf8(r.text, *cp);
  }
  return r;
}

// ISO-8859-5 (data_coding 6) octet to Unicode.
std::optional<char32_t> iso8859_5(uint8_t b) {
  if (b <= 0xA0 || b == 0xAD) return b;
  if (b == 0xF0) return 0x2116;  // numero sign
  if (b == 0xFD) return 0x00A7;  // section sign
  return char32_t{b} + 0x360;    // Cyrillic letters U+0401-U+045F
}

// ISO-8859-8 (data_coding 7) octet to Unicode; empty for the unassigned positions.
std::optional<char32_t> iso8859_8(uint8_t b) {
  if (b == 0xAA) return 0x00D7;  // multiplication sign
  if (b == 0xBA) return 0x00F7;  // division sign
  if (b == 0xA1 || (b >= 0xBF && b <= 0xDE) || b == 0xFB || b == 0xFC || b == 0xFF) {
    return std::nullopt;
  }
  if (b <= 0xBE) return b;
  if (b == 0xDF) return 0x2017;                                    // double low line
  if (b >= 0xE0 && b <= 0xFA) return char32_t{b} - 0xE0 + 0x05D0;  // Hebrew letters
  if (b == 0xFD) return 0x200E;                                    // left-to-right mark
  return 0x200F;                                                   // 0xFE: right-to-left mark
}

bool is_high_surrogate(uint32_t u) {
  return u >= 0xD800 && u <= 0xDBFF;
}
bool is_low_surrogate(uint32_t u) {
  return u >= 0xDC00 && u <= 0xDFFF;
}

}  // namespace

std::string_view to_string(TextError e) {
  switch (e) {
    case TextError::ok:
      return "ok";
    case TextError::invalid_utf8:
      return "invalid UTF-8";
    case TextError::unmappable:
      return "character not in the target alphabet";
    case TextError::invalid_septet:
      return "GSM octet above 0x7F";
    case TextError::lone_surrogate:
      return "lone UTF-16 surrogate";
    case TextError::odd_length:
      return "UCS-2 data of odd length";
    case TextError::invalid_ia5:
      return "IA5 octet above 0x7F";
    case TextError::not_text:
      return "data_coding is not text";
    case TextError::too_short:
      return "packed data shorter than its septet count";
  }
  return "unknown";
}

// ---- GSM 03.38 ----

EncodedBytes utf8_to_gsm7(std::string_view utf8, OnInvalid on_invalid) {
  // '?' (the replacement) is 0x3F in the default alphabet too.
  return encode_octets(utf8, on_invalid, gsm_code, /*gsm_extension=*/true);
}

DecodedText gsm7_to_utf8(std::span<const uint8_t> septets, OnInvalid on_invalid) {
  DecodedText r;
  r.text.reserve(septets.size());
  for (std::size_t i = 0; i < septets.size(); ++i) {
    const uint8_t s = septets[i];
    if (s > 0x7F) {
      if (on_invalid == OnInvalid::reject) {
        r.error = TextError::invalid_septet;
        r.error_offset = i;
        return r;
      }
      append_utf8(r.text, kReplacement);
      continue;
    }
    if (s == kGsmEscape) {
      if (i + 1 < septets.size()) {
        if (const auto ext = gsm_extension(septets[i + 1])) {
          append_utf8(r.text, *ext);
          ++i;
          continue;
        }
      }
      append_utf8(r.text, kNoBreakSpace);
      continue;
    }
    append_utf8(r.text, kGsmBasic[s]);
  }
  return r;
}

bool fits_gsm7(std::string_view utf8) {
  std::size_t i = 0;
  while (i < utf8.size()) {
    const auto cp = next_code_point(utf8, i);
    if (!cp || gsm_code(*cp) == kNotGsm) return false;
  }
  return true;
}

std::size_t fill_bits(std::size_t udh_octets) {
  return (7 - (udh_octets * 8) % 7) % 7;
}

std::size_t packed_size(std::size_t septets, std::size_t udh_octets) {
  return (fill_bits(udh_octets) + septets * 7 + 7) / 8;
}

std::size_t septet_capacity(std::size_t packed_octets, std::size_t udh_octets) {
  const std::size_t bits = packed_octets * 8;
  const std::size_t fill = fill_bits(udh_octets);
  return bits < fill ? 0 : (bits - fill) / 7;
}

std::vector<uint8_t> pack_septets(std::span<const uint8_t> septets, std::size_t udh_octets) {
  std::vector<uint8_t> out(packed_size(septets.size(), udh_octets), 0);
  std::size_t bit = fill_bits(udh_octets);
  for (const uint8_t raw : septets) {
    const unsigned s = raw & 0x7Fu;
    const std::size_t byte = bit / 8;
    const unsigned shift = static_cast<unsigned>(bit % 8);
    out[byte] = static_cast<uint8_t>(out[byte] | (s << shift));
    if (shift > 1) out[byte + 1] = static_cast<uint8_t>(out[byte + 1] | (s >> (8 - shift)));
    bit += 7;
  }
  return out;
}

EncodedBytes unpack_septets(std::span<const uint8_t> packed, std::size_t septet_count,
                            std::size_t udh_octets) {
  EncodedBytes r;
  const std::size_t available = septet_capacity(packed.size(), udh_octets);
  if (septet_count > available) {
    r.error = TextError::too_short;
    r.error_offset = packed.size();
    septet_count = available;
  }
  r.bytes.reserve(septet_count);
  std::size_t bit = fill_bits(udh_octets);
  for (std::size_t k = 0; k < septet_count; ++k) {
    const std::size_t byte = bit / 8;
    const unsigned shift = static_cast<unsigned>(bit % 8);
    unsigned v = packed[byte] >> shift;
    if (shift > 1) v |= static_cast<unsigned>(packed[byte + 1]) << (8 - shift);
    r.bytes.push_back(static_cast<uint8_t>(v & 0x7F));
    bit += 7;
  }
  return r;
}

// ---- UCS-2 / UTF-16BE ----

EncodedBytes utf8_to_ucs2(std::string_view utf8) {
  EncodedBytes r;
  r.bytes.reserve(utf8.size() * 2);
  auto put16 = [&r](char32_t u) {
    r.bytes.push_back(static_cast<uint8_t>(u >> 8));
    r.bytes.push_back(static_cast<uint8_t>(u & 0xFF));
  };
  std::size_t i = 0;
  while (i < utf8.size()) {
    const std::size_t at = i;
    const auto cp = next_code_point(utf8, i);
    if (!cp) {
      r.error = TextError::invalid_utf8;
      r.error_offset = at;
      return r;
    }
    if (*cp < 0x10000) {
      put16(*cp);
    } else {
      const char32_t v = *cp - 0x10000;
      put16(0xD800 + (v >> 10));
      put16(0xDC00 + (v & 0x3FF));
    }
  }
  return r;
}

DecodedText ucs2_to_utf8(std::span<const uint8_t> utf16be, OnInvalid on_invalid) {
  DecodedText r;
  r.text.reserve(utf16be.size());
  auto unit_at = [&utf16be](std::size_t i) {
    return static_cast<uint32_t>((utf16be[i] << 8) | utf16be[i + 1]);
  };
  std::size_t i = 0;
  const std::size_t whole = utf16be.size() & ~std::size_t{1};
  while (i < whole) {
    const uint32_t u = unit_at(i);
    if (is_high_surrogate(u) && i + 2 < whole && is_low_surrogate(unit_at(i + 2))) {
      const uint32_t lo = unit_at(i + 2);
      append_utf8(r.text, 0x10000 + ((u - 0xD800) << 10) + (lo - 0xDC00));
      i += 4;
      continue;
    }
    if (is_high_surrogate(u) || is_low_surrogate(u)) {
      if (on_invalid == OnInvalid::reject) {
        r.error = TextError::lone_surrogate;
        r.error_offset = i;
        return r;
      }
      append_utf8(r.text, kReplacement);
    } else {
      append_utf8(r.text, u);
    }
    i += 2;
  }
  if (whole != utf16be.size()) {
    if (on_invalid == OnInvalid::reject) {
      r.error = TextError::odd_length;
      r.error_offset = whole;
      return r;
    }
    append_utf8(r.text, kReplacement);
  }
  return r;
}

// ---- one octet per character ----

EncodedBytes utf8_to_latin1(std::string_view utf8, OnInvalid on_invalid) {
  return encode_octets(utf8, on_invalid,
                       [](char32_t c) { return c <= 0xFF ? static_cast<int>(c) : -1; });
}

DecodedText latin1_to_utf8(std::span<const uint8_t> octets) {
  return decode_octets(octets, OnInvalid::reject, TextError::ok,
                       [](uint8_t b) -> std::optional<char32_t> { return b; });
}

EncodedBytes utf8_to_ia5(std::string_view utf8, OnInvalid on_invalid) {
  return encode_octets(utf8, on_invalid,
                       [](char32_t c) { return c <= 0x7F ? static_cast<int>(c) : -1; });
}

DecodedText ia5_to_utf8(std::span<const uint8_t> octets, OnInvalid on_invalid) {
  return decode_octets(octets, on_invalid, TextError::invalid_ia5,
                       [](uint8_t b) -> std::optional<char32_t> {
                         if (b > 0x7F) return std::nullopt;
                         return b;
                       });
}

// ---- short_message ----

DecodedText decode_message(std::span<const uint8_t> bytes, uint8_t dc,
                           const TextDecodeOptions& options) {
  if (dc == data_coding::kCyrillic) {
    return decode_octets(bytes, options.on_invalid, TextError::unmappable, iso8859_5);
  }
  if (dc == data_coding::kLatinHebrew) {
    return decode_octets(bytes, options.on_invalid, TextError::unmappable, iso8859_8);
  }
  switch (alphabet_of(dc, options.default_is_latin1)) {
    case Alphabet::gsm7:
      return gsm7_to_utf8(bytes, options.on_invalid);
    case Alphabet::latin1:
      return latin1_to_utf8(bytes);
    case Alphabet::ia5:
      return ia5_to_utf8(bytes, options.on_invalid);
    case Alphabet::ucs2:
      return ucs2_to_utf8(bytes, options.on_invalid);
    case Alphabet::binary:
      break;
  }
  DecodedText r;
  r.error = TextError::not_text;
  return r;
}

// ---- choosing an encoding and counting ----

PartLimits part_limits(Alphabet alphabet, ConcatRef ref) {
  const std::size_t extra = ref == ConcatRef::ref16 ? 1 : 0;  // one more UDH octet
  switch (alphabet) {
    case Alphabet::gsm7:
      return {160, 153 - extra};
    case Alphabet::ucs2:
      return {70, 67 - extra};
    case Alphabet::latin1:
    case Alphabet::ia5:
    case Alphabet::binary:
      break;
  }
  return {140, 134 - extra};
}

std::size_t unit_octets(Alphabet alphabet) {
  return alphabet == Alphabet::ucs2 ? 2 : 1;
}

std::size_t chunk_length(std::span<const uint8_t> encoded, Alphabet alphabet,
                         std::size_t max_octets) {
  const std::size_t limit = std::min(max_octets, encoded.size());
  if (alphabet != Alphabet::gsm7 && alphabet != Alphabet::ucs2) return limit;
  std::size_t n = 0;
  while (n < limit) {
    std::size_t step = 1;
    if (alphabet == Alphabet::gsm7) {
      if (encoded[n] == kGsmEscape && n + 1 < encoded.size()) step = 2;
    } else if (n + 1 < encoded.size()) {
      step = 2;
      const auto u = static_cast<uint32_t>((encoded[n] << 8) | encoded[n + 1]);
      if (is_high_surrogate(u) && n + 3 < encoded.size()) {
        const auto lo = static_cast<uint32_t>((encoded[n + 2] << 8) | encoded[n + 3]);
        if (is_low_surrogate(lo)) step = 4;
      }
    }
    if (n + step > limit) break;
    n += step;
  }
  return n;
}

TextInfo count_encoded(std::span<const uint8_t> encoded, Alphabet alphabet, ConcatRef ref) {
  TextInfo info;
  info.alphabet = alphabet;
  const std::size_t unit = unit_octets(alphabet);
  info.units = (encoded.size() + unit - 1) / unit;
  const PartLimits limits = part_limits(alphabet, ref);
  if (info.units <= limits.single) {
    info.parts = 1;
    info.units_per_part = limits.single;
    return info;
  }
  info.units_per_part = limits.per_part;
  std::size_t pos = 0;
  while (pos < encoded.size()) {
    const std::size_t n = chunk_length(encoded.subspan(pos), alphabet, limits.per_part * unit);
    pos += n;
    ++info.parts;
  }
  return info;
}

std::optional<Alphabet> choose_alphabet(std::string_view utf8, bool allow_latin1) {
  bool gsm = true;
  bool latin1 = allow_latin1;
  std::size_t i = 0;
  while (i < utf8.size()) {
    const auto cp = next_code_point(utf8, i);
    if (!cp) return std::nullopt;
    if (gsm && gsm_code(*cp) == kNotGsm) gsm = false;
    if (*cp > 0xFF) latin1 = false;
  }
  if (gsm) return Alphabet::gsm7;
  if (latin1) return Alphabet::latin1;
  return Alphabet::ucs2;
}

uint8_t data_coding_for(Alphabet alphabet) {
  switch (alphabet) {
    case Alphabet::gsm7:
      return data_coding::kSmscDefault;
    case Alphabet::latin1:
      return data_coding::kLatin1;
    case Alphabet::ia5:
      return data_coding::kIa5;
    case Alphabet::ucs2:
      return data_coding::kUcs2;
    case Alphabet::binary:
      break;
  }
  return data_coding::kBinary;
}

EncodedText encode_text(std::string_view utf8, const EncodeOptions& options) {
  EncodedText r;
  const auto alphabet = choose_alphabet(utf8, options.allow_latin1);
  if (!alphabet) {
    // Find where the UTF-8 breaks, for the error offset.
    std::size_t i = 0;
    while (i < utf8.size() && next_code_point(utf8, i)) {
    }
    r.error = TextError::invalid_utf8;
    r.error_offset = i;
    return r;
  }
  r.alphabet = *alphabet;
  r.data_coding = data_coding_for(*alphabet);
  EncodedBytes e;
  switch (*alphabet) {
    case Alphabet::gsm7:
      e = utf8_to_gsm7(utf8);
      break;
    case Alphabet::latin1:
      e = utf8_to_latin1(utf8);
      break;
    default:
      e = utf8_to_ucs2(utf8);
      break;
  }
  r.bytes = std::move(e.bytes);
  r.error = e.error;
  r.error_offset = e.error_offset;
  return r;
}

TextInfo analyze_text(std::string_view utf8, const EncodeOptions& options) {
  const EncodedText e = encode_text(utf8, options);
  if (!e.ok()) {
    TextInfo info;
    info.error = e.error;
    info.error_offset = e.error_offset;
    return info;
  }
  return count_encoded(e.bytes, e.alphabet, options.ref);
}

}  // namespace smpp
