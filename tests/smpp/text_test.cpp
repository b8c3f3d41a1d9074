#include "smpp/text.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace smpp {
namespace {

using Bytes = std::vector<uint8_t>;

std::string repeat(std::string_view s, std::size_t n) {
  std::string out;
  for (std::size_t i = 0; i < n; ++i) out += s;
  return out;
}

// ---- GSM 03.38 ----

TEST(Gsm7, EveryDefaultCharacterRoundTrips) {
  for (unsigned s = 0; s < 128; ++s) {
    if (s == kGsmEscape) continue;
    const Bytes septet{static_cast<uint8_t>(s)};
    const DecodedText text = gsm7_to_utf8(septet);
    ASSERT_TRUE(text.ok()) << s;
    ASSERT_FALSE(text.text.empty()) << s;
    const EncodedBytes back = utf8_to_gsm7(text.text);
    ASSERT_TRUE(back.ok()) << s;
    EXPECT_EQ(back.bytes, septet) << "septet 0x" << std::hex << s;
  }
}

TEST(Gsm7, DefaultTableSpotChecks) {
  EXPECT_EQ(gsm7_to_utf8(Bytes{0x00}).text, "@");
  EXPECT_EQ(gsm7_to_utf8(Bytes{0x01}).text, "£");
  EXPECT_EQ(gsm7_to_utf8(Bytes{0x09}).text, "ç");  // small c-cedilla, per the Unicode table
  EXPECT_EQ(gsm7_to_utf8(Bytes{0x10}).text, "Δ");
  EXPECT_EQ(gsm7_to_utf8(Bytes{0x11}).text, "_");
  EXPECT_EQ(gsm7_to_utf8(Bytes{0x24}).text, "¤");
  EXPECT_EQ(gsm7_to_utf8(Bytes{0x40}).text, "¡");
  EXPECT_EQ(gsm7_to_utf8(Bytes{0x60}).text, "¿");
  EXPECT_EQ(gsm7_to_utf8(Bytes{0x7F}).text, "à");
  EXPECT_EQ(gsm7_to_utf8(Bytes{0x0A, 0x0D}).text, "\n\r");
}

TEST(Gsm7, ExtensionTableRoundTrips) {
  const std::string text = "\f^{}\\[~]|€";
  const Bytes expected{0x1B, 0x0A, 0x1B, 0x14, 0x1B, 0x28, 0x1B, 0x29, 0x1B, 0x2F,
                       0x1B, 0x3C, 0x1B, 0x3D, 0x1B, 0x3E, 0x1B, 0x40, 0x1B, 0x65};
  const EncodedBytes e = utf8_to_gsm7(text);
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e.bytes, expected);
  const DecodedText d = gsm7_to_utf8(expected);
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d.text, text);
}

TEST(Gsm7, EuroSign) {
  EXPECT_EQ(utf8_to_gsm7("5€").bytes, (Bytes{0x35, 0x1B, 0x65}));
  EXPECT_EQ(gsm7_to_utf8(Bytes{0x1B, 0x65, 0x35}).text, "€5");
}

TEST(Gsm7, AtSignIsSeptetZero) {
  EXPECT_EQ(utf8_to_gsm7("@a@").bytes, (Bytes{0x00, 0x61, 0x00}));
  EXPECT_EQ(gsm7_to_utf8(Bytes{0x00, 0x00}).text, "@@");
  EXPECT_EQ(gsm7_to_utf8(Bytes{0x61, 0x00}).text, "a@");
}

TEST(Gsm7, UnmappableIsAnErrorWithItsOffsetOrAQuestionMark) {
  const EncodedBytes e = utf8_to_gsm7("ab€Ж");
  EXPECT_EQ(e.error, TextError::unmappable);
  EXPECT_EQ(e.error_offset, 5u);  // 'a', 'b', then € takes three octets
  EXPECT_EQ(e.bytes, (Bytes{0x61, 0x62, 0x1B, 0x65}));

  const EncodedBytes r = utf8_to_gsm7("aЖb", OnInvalid::replace);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.bytes, (Bytes{0x61, 0x3F, 0x62}));
  // No-break space is not a character of the alphabet (0x1B is the escape, not NBSP).
  EXPECT_EQ(utf8_to_gsm7("\u00A0").error, TextError::unmappable);
  EXPECT_EQ(utf8_to_gsm7("Ç").error, TextError::unmappable);
}

TEST(Gsm7, UnknownOrLoneEscapeDecodesToNoBreakSpace) {
  EXPECT_EQ(gsm7_to_utf8(Bytes{0x1B, 0x41}).text, "\u00A0A");
  EXPECT_EQ(gsm7_to_utf8(Bytes{0x61, 0x1B}).text, "a\u00A0");
  EXPECT_EQ(gsm7_to_utf8(Bytes{0x1B, 0x1B, 0x65}).text, "\u00A0€");
}

TEST(Gsm7, OctetAbove7FIsInvalid) {
  const DecodedText d = gsm7_to_utf8(Bytes{0x61, 0x80, 0x62});
  EXPECT_EQ(d.error, TextError::invalid_septet);
  EXPECT_EQ(d.error_offset, 1u);
  const DecodedText r = gsm7_to_utf8(Bytes{0x61, 0xFF, 0x62}, OnInvalid::replace);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.text, "a\uFFFDb");
}

TEST(Gsm7, Fits) {
  EXPECT_TRUE(fits_gsm7("Hello @ 5€ {x} ÄÖÜ äöü ñ ß Ω"));
  EXPECT_FALSE(fits_gsm7("Привет"));
  EXPECT_FALSE(fits_gsm7("\xC3"));
  EXPECT_TRUE(fits_gsm7(""));
}

// ---- invalid UTF-8 ----

TEST(Utf8, MalformedInputIsRejectedEverywhere) {
  const std::vector<std::string> bad = {
      std::string("a\x80", 2),              // stray continuation octet
      std::string("a\xC0\x80", 3),          // overlong NUL
      std::string("a\xE0\x80\xAF", 4),      // overlong '/'
      std::string("a\xE2\x82", 3),          // truncated euro sign
      std::string("a\xED\xA0\x80", 4),      // UTF-16 surrogate encoded in UTF-8
      std::string("a\xF4\x90\x80\x80", 5),  // above U+10FFFF
      std::string("a\xF8\x88\x80\x80\x80", 6),
      std::string("a\xFF", 2),
  };
  for (const std::string& s : bad) {
    EXPECT_EQ(utf8_to_gsm7(s, OnInvalid::replace).error, TextError::invalid_utf8) << s;
    EXPECT_EQ(utf8_to_ucs2(s).error, TextError::invalid_utf8) << s;
    EXPECT_EQ(utf8_to_latin1(s, OnInvalid::replace).error, TextError::invalid_utf8) << s;
    EXPECT_EQ(utf8_to_ia5(s).error, TextError::invalid_utf8) << s;
    EXPECT_EQ(utf8_to_ucs2(s).error_offset, 1u) << s;
    EXPECT_EQ(encode_text(s).error, TextError::invalid_utf8) << s;
    EXPECT_EQ(encode_text(s).error_offset, 1u) << s;
    EXPECT_EQ(analyze_text(s).error, TextError::invalid_utf8) << s;
    EXPECT_FALSE(choose_alphabet(s).has_value()) << s;
  }
}

// ---- packed 7-bit ----

TEST(Packed, KnownVector) {
  const Bytes hello = utf8_to_gsm7("hello").bytes;
  EXPECT_EQ(pack_septets(hello), (Bytes{0xE8, 0x32, 0x9B, 0xFD, 0x06}));
  const EncodedBytes back = unpack_septets(Bytes{0xE8, 0x32, 0x9B, 0xFD, 0x06}, 5);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back.bytes, hello);
}

TEST(Packed, FillBitsAfterUdh) {
  EXPECT_EQ(fill_bits(0), 0u);
  EXPECT_EQ(fill_bits(6), 1u);  // 05 00 03 ref total seq: 48 bits, 1 fill bit to 49
  EXPECT_EQ(fill_bits(7), 0u);  // 06 08 04 ...: 56 bits, already a septet boundary
  EXPECT_EQ(fill_bits(1), 6u);
  // With a 6-octet UDH the first septet starts at bit 1 of the first octet after it.
  EXPECT_EQ(pack_septets(Bytes{0x7F}, 6), (Bytes{0xFE}));
  EXPECT_EQ(pack_septets(Bytes{0x68, 0x69}, 6), (Bytes{0xD0, 0x69}));
  EXPECT_EQ(pack_septets(Bytes{0x7F, 0x7F, 0x7F}, 6), (Bytes{0xFE, 0xFF, 0x3F}));
}

TEST(Packed, CapacityMatchesHandsetLimits) {
  EXPECT_EQ(septet_capacity(140, 0), 160u);
  EXPECT_EQ(septet_capacity(140 - 6, 6), 153u);
  EXPECT_EQ(septet_capacity(140 - 7, 7), 152u);
  EXPECT_EQ(packed_size(160, 0), 140u);
  EXPECT_EQ(packed_size(153, 6), 134u);
  EXPECT_EQ(packed_size(152, 7), 133u);
}

TEST(Packed, RoundTripForEveryUdhLength) {
  Bytes septets;
  for (unsigned i = 0; i < 161; ++i) septets.push_back(static_cast<uint8_t>((i * 37 + 11) & 0x7F));
  for (std::size_t udh = 0; udh < 16; ++udh) {
    for (std::size_t n : {std::size_t{0}, std::size_t{1}, std::size_t{7}, std::size_t{8},
                          std::size_t{153}, std::size_t{161}}) {
      const std::span<const uint8_t> in(septets.data(), n);
      const Bytes packed = pack_septets(in, udh);
      ASSERT_EQ(packed.size(), packed_size(n, udh));
      const EncodedBytes out = unpack_septets(packed, n, udh);
      ASSERT_TRUE(out.ok()) << udh << " " << n;
      EXPECT_EQ(out.bytes, Bytes(in.begin(), in.end())) << udh << " " << n;
    }
  }
}

TEST(Packed, UnpackingMoreThanThereIsIsAnError) {
  const EncodedBytes out = unpack_septets(Bytes{0xE8, 0x32}, 5);
  EXPECT_EQ(out.error, TextError::too_short);
  EXPECT_EQ(out.bytes.size(), 2u);  // what the two octets hold
  EXPECT_EQ(unpack_septets(Bytes{}, 1, 6).error, TextError::too_short);
}

// ---- UCS-2 ----

TEST(Ucs2, BmpAndSurrogatePairs) {
  const std::string text = "A€😀";
  const Bytes expected{0x00, 0x41, 0x20, 0xAC, 0xD8, 0x3D, 0xDE, 0x00};
  const EncodedBytes e = utf8_to_ucs2(text);
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e.bytes, expected);
  const DecodedText d = ucs2_to_utf8(expected);
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d.text, text);
  // Highest code point.
  EXPECT_EQ(utf8_to_ucs2("\U0010FFFF").bytes, (Bytes{0xDB, 0xFF, 0xDF, 0xFF}));
  EXPECT_EQ(ucs2_to_utf8(Bytes{0xDB, 0xFF, 0xDF, 0xFF}).text, "\U0010FFFF");
}

TEST(Ucs2, LoneSurrogatesAreRejectedOrReplaced) {
  const Bytes high_alone{0x00, 0x41, 0xD8, 0x3D, 0x00, 0x42};
  const DecodedText d = ucs2_to_utf8(high_alone);
  EXPECT_EQ(d.error, TextError::lone_surrogate);
  EXPECT_EQ(d.error_offset, 2u);
  EXPECT_EQ(d.text, "A");
  EXPECT_EQ(ucs2_to_utf8(high_alone, OnInvalid::replace).text, "A\uFFFDB");

  const Bytes low_first{0xDE, 0x00, 0xD8, 0x3D};  // reversed pair
  EXPECT_EQ(ucs2_to_utf8(low_first).error, TextError::lone_surrogate);
  EXPECT_EQ(ucs2_to_utf8(low_first, OnInvalid::replace).text, "\uFFFD\uFFFD");

  const Bytes high_at_end{0x00, 0x41, 0xD8, 0x3D};
  EXPECT_EQ(ucs2_to_utf8(high_at_end).error, TextError::lone_surrogate);
}

TEST(Ucs2, OddLength) {
  const DecodedText d = ucs2_to_utf8(Bytes{0x00, 0x41, 0x00});
  EXPECT_EQ(d.error, TextError::odd_length);
  EXPECT_EQ(d.error_offset, 2u);
  EXPECT_EQ(ucs2_to_utf8(Bytes{0x00, 0x41, 0x00}, OnInvalid::replace).text, "A\uFFFD");
  EXPECT_EQ(ucs2_to_utf8(Bytes{0xD8}).error, TextError::odd_length);
}

// ---- Latin-1 and IA5 ----

TEST(Latin1, EveryOctetRoundTrips) {
  Bytes all;
  for (unsigned b = 0; b < 256; ++b) all.push_back(static_cast<uint8_t>(b));
  const DecodedText d = latin1_to_utf8(all);
  ASSERT_TRUE(d.ok());
  const EncodedBytes e = utf8_to_latin1(d.text);
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e.bytes, all);
  EXPECT_EQ(utf8_to_latin1("café").bytes, (Bytes{0x63, 0x61, 0x66, 0xE9}));
}

TEST(Latin1, OutsideIsUnmappable) {
  const EncodedBytes e = utf8_to_latin1("é€");
  EXPECT_EQ(e.error, TextError::unmappable);
  EXPECT_EQ(e.error_offset, 2u);
  EXPECT_EQ(utf8_to_latin1("é€", OnInvalid::replace).bytes, (Bytes{0xE9, 0x3F}));
}

TEST(Ia5, AsciiOnly) {
  EXPECT_EQ(utf8_to_ia5("Hi!").bytes, (Bytes{0x48, 0x69, 0x21}));
  EXPECT_EQ(utf8_to_ia5("Hé").error, TextError::unmappable);
  EXPECT_EQ(ia5_to_utf8(Bytes{0x48, 0x69}).text, "Hi");
  const DecodedText d = ia5_to_utf8(Bytes{0x48, 0xE9});
  EXPECT_EQ(d.error, TextError::invalid_ia5);
  EXPECT_EQ(d.error_offset, 1u);
  EXPECT_EQ(ia5_to_utf8(Bytes{0x48, 0xE9}, OnInvalid::replace).text, "H\uFFFD");
}

// ---- decode_message ----

TEST(DecodeMessage, ByDataCoding) {
  EXPECT_EQ(decode_message(Bytes{0x00, 0x1B, 0x65}, 0x00).text, "@€");
  TextDecodeOptions latin;
  latin.default_is_latin1 = true;
  EXPECT_EQ(decode_message(Bytes{0x40, 0xE9}, 0x00, latin).text, "@é");
  EXPECT_EQ(decode_message(Bytes{0x41}, 0x01).text, "A");
  EXPECT_EQ(decode_message(Bytes{0xE9}, 0x03).text, "é");
  EXPECT_EQ(decode_message(Bytes{0x04, 0x16, 0xD8, 0x3D, 0xDE, 0x00}, 0x08).text, "Ж😀");
  EXPECT_EQ(decode_message(Bytes{0xB6, 0xD6, 0xF0}, 0x06).text, "Жж№");       // ISO-8859-5
  EXPECT_EQ(decode_message(Bytes{0xE0, 0xFA, 0xAA}, 0x07).text, "את×");       // ISO-8859-8
  EXPECT_EQ(decode_message(Bytes{0xBF}, 0x07).error, TextError::unmappable);  // unassigned
  EXPECT_EQ(decode_message(Bytes{0x01, 0x02}, 0x04).error, TextError::not_text);
  EXPECT_EQ(decode_message(Bytes{0x01, 0x02}, 0x02).error, TextError::not_text);
  EXPECT_EQ(decode_message(Bytes{0x00, 0x41}, 0x18).text, "A");  // GSM general group, UCS2
  EXPECT_EQ(decode_message(Bytes{0x00}, 0xF0).text, "@");        // message class, default
  EXPECT_EQ(decode_message(Bytes{0xD8, 0x3D}, 0x08).error, TextError::lone_surrogate);
}

// ---- choosing and counting ----

TEST(Choose, CheapestAlphabet) {
  EXPECT_EQ(choose_alphabet("hello"), Alphabet::gsm7);
  EXPECT_EQ(choose_alphabet("price: 5€ [ok]"), Alphabet::gsm7);
  EXPECT_EQ(choose_alphabet("café ñ Ü"), Alphabet::gsm7);  // all in the default alphabet
  EXPECT_EQ(choose_alphabet(""), Alphabet::gsm7);
  EXPECT_EQ(choose_alphabet("Ça va"), Alphabet::ucs2);
  EXPECT_EQ(choose_alphabet("Ça va", true), Alphabet::latin1);
  EXPECT_EQ(choose_alphabet("Ça va €", true), Alphabet::ucs2);  // € is not Latin-1
  EXPECT_EQ(choose_alphabet("hi 😀", true), Alphabet::ucs2);
  EXPECT_EQ(choose_alphabet("Привет"), Alphabet::ucs2);
}

TEST(Choose, EncodeTextGivesDataCoding) {
  const EncodedText g = encode_text("a€");
  EXPECT_EQ(g.alphabet, Alphabet::gsm7);
  EXPECT_EQ(g.data_coding, 0x00);
  EXPECT_EQ(g.bytes, (Bytes{0x61, 0x1B, 0x65}));
  const EncodedText u = encode_text("Жa");
  EXPECT_EQ(u.alphabet, Alphabet::ucs2);
  EXPECT_EQ(u.data_coding, 0x08);
  EXPECT_EQ(u.bytes, (Bytes{0x04, 0x16, 0x00, 0x61}));
  EncodeOptions latin;
  latin.allow_latin1 = true;
  const EncodedText l = encode_text("Ç", latin);
  EXPECT_EQ(l.alphabet, Alphabet::latin1);
  EXPECT_EQ(l.data_coding, 0x03);
  EXPECT_EQ(l.bytes, (Bytes{0xC7}));
}

void expect_count(std::string_view text, Alphabet alphabet, std::size_t units, std::size_t parts,
                  std::size_t per_part, const EncodeOptions& o = {}) {
  const TextInfo info = analyze_text(text, o);
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info.alphabet, alphabet);
  EXPECT_EQ(info.units, units);
  EXPECT_EQ(info.parts, parts);
  EXPECT_EQ(info.units_per_part, per_part);
}

TEST(Count, Gsm7Boundaries) {
  expect_count("", Alphabet::gsm7, 0, 1, 160);
  expect_count(repeat("a", 160), Alphabet::gsm7, 160, 1, 160);
  expect_count(repeat("a", 161), Alphabet::gsm7, 161, 2, 153);
  expect_count(repeat("a", 153 * 2), Alphabet::gsm7, 306, 2, 153);
  expect_count(repeat("a", 153 * 2 + 1), Alphabet::gsm7, 307, 3, 153);
  EncodeOptions ref16;
  ref16.ref = ConcatRef::ref16;
  expect_count(repeat("a", 152 * 2), Alphabet::gsm7, 304, 2, 152, ref16);
  expect_count(repeat("a", 152 * 2 + 1), Alphabet::gsm7, 305, 3, 152, ref16);
}

TEST(Count, ExtensionCharactersCountTwo) {
  expect_count(repeat("€", 80), Alphabet::gsm7, 160, 1, 160);
  expect_count(repeat("a", 159) + "€", Alphabet::gsm7, 161, 2, 153);
  expect_count(repeat("a", 159) + "e", Alphabet::gsm7, 160, 1, 160);
}

TEST(Count, ExtensionCharacterAtAPartBoundaryMovesToTheNextPart) {
  // 306 septets either way; with the escape pair at septets 153-154 it cannot stay in part 1.
  expect_count(repeat("a", 153) + "€" + repeat("a", 151), Alphabet::gsm7, 306, 2, 153);
  expect_count(repeat("a", 152) + "€" + repeat("a", 152), Alphabet::gsm7, 306, 3, 153);
}

TEST(Count, Ucs2Boundaries) {
  expect_count(repeat("ж", 70), Alphabet::ucs2, 70, 1, 70);
  expect_count(repeat("ж", 71), Alphabet::ucs2, 71, 2, 67);
  expect_count(repeat("ж", 134), Alphabet::ucs2, 134, 2, 67);
  expect_count(repeat("ж", 135), Alphabet::ucs2, 135, 3, 67);
  EncodeOptions ref16;
  ref16.ref = ConcatRef::ref16;
  expect_count(repeat("ж", 132), Alphabet::ucs2, 132, 2, 66, ref16);
  expect_count(repeat("ж", 133), Alphabet::ucs2, 133, 3, 66, ref16);
}

TEST(Count, EmojiTakesTwoUnitsAndStaysWhole) {
  expect_count("😀", Alphabet::ucs2, 2, 1, 70);
  expect_count(repeat("😀", 35), Alphabet::ucs2, 70, 1, 70);
  expect_count(repeat("😀", 35) + "a", Alphabet::ucs2, 71, 2, 67);
  // 134 units either way; a pair at units 67-68 cannot stay in part 1.
  expect_count(repeat("ж", 67) + "😀" + repeat("ж", 65), Alphabet::ucs2, 134, 2, 67);
  expect_count(repeat("ж", 66) + "😀" + repeat("ж", 66), Alphabet::ucs2, 134, 3, 67);
}

TEST(Count, Latin1AndBinaryCountAsOctets) {
  EncodeOptions latin;
  latin.allow_latin1 = true;
  expect_count(repeat("Ç", 140), Alphabet::latin1, 140, 1, 140, latin);
  expect_count(repeat("Ç", 141), Alphabet::latin1, 141, 2, 134, latin);
  const Bytes b140(140, 0xAB);
  EXPECT_EQ(count_encoded(b140, Alphabet::binary).parts, 1u);
  const Bytes b268(268, 0xAB);
  EXPECT_EQ(count_encoded(b268, Alphabet::binary).parts, 2u);
  const Bytes b269(269, 0xAB);
  EXPECT_EQ(count_encoded(b269, Alphabet::binary).parts, 3u);
  EXPECT_EQ(count_encoded(b269, Alphabet::binary).units_per_part, 134u);
  const Bytes b266(266, 0xAB);
  EXPECT_EQ(count_encoded(b266, Alphabet::binary, ConcatRef::ref16).parts, 2u);
  const Bytes b267(267, 0xAB);
  EXPECT_EQ(count_encoded(b267, Alphabet::binary, ConcatRef::ref16).parts, 3u);
}

TEST(Chunk, NeverSplitsPairs) {
  const Bytes gsm{0x61, 0x1B, 0x65, 0x62};
  EXPECT_EQ(chunk_length(gsm, Alphabet::gsm7, 2), 1u);
  EXPECT_EQ(chunk_length(gsm, Alphabet::gsm7, 3), 3u);
  EXPECT_EQ(chunk_length(Bytes{0x1B, 0x65}, Alphabet::gsm7, 1), 0u);
  EXPECT_EQ(chunk_length(Bytes{0x61, 0x1B}, Alphabet::gsm7, 5), 2u);  // trailing lone escape
  const Bytes ucs{0x00, 0x41, 0xD8, 0x3D, 0xDE, 0x00};
  EXPECT_EQ(chunk_length(ucs, Alphabet::ucs2, 4), 2u);
  EXPECT_EQ(chunk_length(ucs, Alphabet::ucs2, 5), 2u);
  EXPECT_EQ(chunk_length(ucs, Alphabet::ucs2, 6), 6u);
  EXPECT_EQ(chunk_length(ucs, Alphabet::ucs2, 3), 2u);  // never half a code unit
  EXPECT_EQ(chunk_length(Bytes{0x00, 0x41, 0x00}, Alphabet::ucs2, 10), 3u);
  EXPECT_EQ(chunk_length(Bytes{0x1B, 0x65}, Alphabet::binary, 1), 1u);
  EXPECT_EQ(chunk_length(Bytes{}, Alphabet::gsm7, 10), 0u);
}

TEST(Robustness, ArbitraryBytesNeverCrashAndRoundTripWhenValid) {
  // A fixed pseudo-random sequence (deterministic): under ASan/UBSan any out-of-bounds read or
  // overflow fails the test run.
  uint32_t state = 12345;
  auto next = [&state] {
    state = state * 1103515245u + 12345u;
    return static_cast<uint8_t>(state >> 16);
  };
  for (int round = 0; round < 2000; ++round) {
    Bytes in(static_cast<std::size_t>(next() % 40));
    for (auto& b : in) b = next();
    const std::string_view as_text(reinterpret_cast<const char*>(in.data()), in.size());
    for (unsigned dc = 0; dc < 256; dc += 7) {
      decode_message(in, static_cast<uint8_t>(dc), {false, OnInvalid::replace});
    }
    const DecodedText u = ucs2_to_utf8(in);
    if (u.ok()) {
      EXPECT_EQ(utf8_to_ucs2(u.text).bytes, in);
    }
    const EncodedText e = encode_text(as_text);
    if (e.ok()) {
      EXPECT_EQ(decode_message(e.bytes, e.data_coding).text, as_text);
    }
    (void)analyze_text(as_text);
    (void)unpack_septets(in, in.size() * 8 / 7 + 1, in.empty() ? 0 : in[0] % 8);
    for (std::size_t max = 0; max < 5; ++max) {
      EXPECT_LE(chunk_length(in, Alphabet::gsm7, max), max);
      EXPECT_LE(chunk_length(in, Alphabet::ucs2, max), max);
    }
  }
}

}  // namespace
}  // namespace smpp
