#include "smpp/segment.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "smpp/codec.hpp"

namespace smpp {
namespace {

using Bytes = std::vector<uint8_t>;

Bytes gsm(std::string_view text) {
  EncodedBytes e = utf8_to_gsm7(text);
  EXPECT_TRUE(e.ok());
  return e.bytes;
}

Bytes ucs2(std::string_view text) {
  EncodedBytes e = utf8_to_ucs2(text);
  EXPECT_TRUE(e.ok());
  return e.bytes;
}

std::string repeat(std::string_view s, std::size_t n) {
  std::string out;
  for (std::size_t i = 0; i < n; ++i) out += s;
  return out;
}

Bytes head(const Bytes& b, std::size_t n) {
  return Bytes(b.begin(), b.begin() + n);
}

// Parses every part's UDH, checks the concatenation element and joins the payloads.
Bytes join_udh_parts(const Segmented& s) {
  Bytes all;
  for (const SegmentPart& p : s.parts) {
    const Udh udh = parse_udh(p.bytes);
    EXPECT_TRUE(udh.ok());
    EXPECT_TRUE(udh.concat.has_value());
    if (!udh.concat) continue;
    EXPECT_EQ(udh.concat->reference, s.reference);
    EXPECT_EQ(udh.concat->total, s.total);
    EXPECT_EQ(udh.concat->seq, p.seq);
    all.insert(all.end(), udh.payload.begin(), udh.payload.end());
  }
  return all;
}

SegmentOptions udh8(uint16_t ref) {
  SegmentOptions o;
  o.method = ConcatMethod::udh8;
  o.reference = ref;
  return o;
}

TEST(Segment, SingleMessageHasNoUdh) {
  const Bytes text = gsm(repeat("a", 160));
  const Segmented s = segment(text, Alphabet::gsm7, udh8(7));
  ASSERT_TRUE(s.ok());
  EXPECT_FALSE(s.concatenated);
  EXPECT_EQ(s.total, 1);
  ASSERT_EQ(s.parts.size(), 1u);
  EXPECT_EQ(s.parts[0].seq, 1);
  EXPECT_EQ(s.parts[0].bytes, text);
}

TEST(Segment, Udh8BytesExactly) {
  const Bytes text = gsm(repeat("a", 161));
  const Segmented s = segment(text, Alphabet::gsm7, udh8(0x42));
  ASSERT_TRUE(s.ok());
  EXPECT_TRUE(s.concatenated);
  EXPECT_EQ(s.total, 2);
  ASSERT_EQ(s.parts.size(), 2u);
  EXPECT_EQ(head(s.parts[0].bytes, 6), (Bytes{0x05, 0x00, 0x03, 0x42, 0x02, 0x01}));
  EXPECT_EQ(s.parts[0].bytes.size(), 6u + 153u);
  EXPECT_EQ(head(s.parts[1].bytes, 6), (Bytes{0x05, 0x00, 0x03, 0x42, 0x02, 0x02}));
  EXPECT_EQ(s.parts[1].bytes.size(), 6u + 8u);
  EXPECT_EQ(join_udh_parts(s), text);
}

TEST(Segment, Udh16BytesExactly) {
  const Bytes text = gsm(repeat("b", 305));
  SegmentOptions o;
  o.method = ConcatMethod::udh16;
  o.reference = 0x1234;
  const Segmented s = segment(text, Alphabet::gsm7, o);
  ASSERT_TRUE(s.ok());
  ASSERT_EQ(s.parts.size(), 3u);
  EXPECT_EQ(head(s.parts[0].bytes, 7), (Bytes{0x06, 0x08, 0x04, 0x12, 0x34, 0x03, 0x01}));
  EXPECT_EQ(head(s.parts[2].bytes, 7), (Bytes{0x06, 0x08, 0x04, 0x12, 0x34, 0x03, 0x03}));
  EXPECT_EQ(s.parts[0].bytes.size(), 7u + 152u);
  EXPECT_EQ(s.parts[1].bytes.size(), 7u + 152u);
  EXPECT_EQ(s.parts[2].bytes.size(), 7u + 1u);
  EXPECT_EQ(join_udh_parts(s), text);
}

TEST(Segment, Gsm7PartCountsAtBoundaries) {
  EXPECT_EQ(segment(gsm(repeat("a", 306)), Alphabet::gsm7).parts.size(), 2u);
  EXPECT_EQ(segment(gsm(repeat("a", 307)), Alphabet::gsm7).parts.size(), 3u);
  SegmentOptions o16;
  o16.method = ConcatMethod::udh16;
  EXPECT_EQ(segment(gsm(repeat("a", 304)), Alphabet::gsm7, o16).parts.size(), 2u);
}

TEST(Segment, NeverSplitsAGsmEscapePair) {
  // The euro sign's 0x1B would be the 153rd septet of part 1: the pair moves to part 2.
  const Bytes text = gsm(repeat("a", 152) + "€" + repeat("a", 152));
  ASSERT_EQ(text.size(), 306u);
  const Segmented s = segment(text, Alphabet::gsm7);
  ASSERT_TRUE(s.ok());
  ASSERT_EQ(s.parts.size(), 3u);
  EXPECT_EQ(s.parts[0].bytes.size(), 6u + 152u);
  EXPECT_NE(s.parts[0].bytes.back(), kGsmEscape);
  EXPECT_EQ(s.parts[1].bytes[6], kGsmEscape);
  EXPECT_EQ(s.parts[1].bytes[7], 0x65);
  EXPECT_EQ(s.parts[1].bytes.size(), 6u + 153u);
  EXPECT_EQ(s.parts[2].bytes.size(), 6u + 1u);
  EXPECT_EQ(join_udh_parts(s), text);
  // The count agrees with what analyze_text tells the user.
  EXPECT_EQ(count_encoded(text, Alphabet::gsm7).parts, s.parts.size());
}

TEST(Segment, NeverSplitsASurrogatePair) {
  const Bytes text = ucs2(repeat("ж", 66) + "😀" + repeat("ж", 66));
  const Segmented s = segment(text, Alphabet::ucs2);
  ASSERT_TRUE(s.ok());
  ASSERT_EQ(s.parts.size(), 3u);
  EXPECT_EQ(s.parts[0].bytes.size(), 6u + 132u);
  EXPECT_EQ(head(Bytes(s.parts[1].bytes.begin() + 6, s.parts[1].bytes.end()), 4),
            (Bytes{0xD8, 0x3D, 0xDE, 0x00}));
  EXPECT_EQ(s.parts[1].bytes.size(), 6u + 134u);
  EXPECT_EQ(join_udh_parts(s), text);
  // Every part decodes on its own: no half pair anywhere.
  for (const SegmentPart& p : s.parts) {
    EXPECT_TRUE(ucs2_to_utf8(parse_udh(p.bytes).payload).ok()) << int{p.seq};
  }
}

TEST(Segment, Ucs2AndBinaryLimits) {
  const Segmented u70 = segment(ucs2(repeat("ж", 70)), Alphabet::ucs2);
  EXPECT_FALSE(u70.concatenated);
  const Segmented u71 = segment(ucs2(repeat("ж", 71)), Alphabet::ucs2);
  ASSERT_EQ(u71.parts.size(), 2u);
  EXPECT_EQ(u71.parts[0].bytes.size(), 6u + 134u);
  EXPECT_EQ(u71.parts[1].bytes.size(), 6u + 8u);

  const Bytes b141(141, 0xAB);
  const Segmented b = segment(b141, Alphabet::binary);
  ASSERT_EQ(b.parts.size(), 2u);
  EXPECT_EQ(b.parts[0].bytes.size(), 6u + 134u);
  EXPECT_EQ(b.parts[1].bytes.size(), 6u + 7u);
  EXPECT_FALSE(segment(Bytes(140, 0xAB), Alphabet::binary).concatenated);
}

TEST(Segment, MaxPartsAndReferenceLimits) {
  SegmentOptions o;
  o.max_parts = 2;
  EXPECT_EQ(segment(gsm(repeat("a", 306)), Alphabet::gsm7, o).error, SegmentError::ok);
  const Segmented s = segment(gsm(repeat("a", 307)), Alphabet::gsm7, o);
  EXPECT_EQ(s.error, SegmentError::too_many_parts);
  EXPECT_TRUE(s.parts.empty());
  // 256 parts cannot be numbered whatever max_parts says.
  o.max_parts = 1000;
  EXPECT_EQ(segment(Bytes(134 * 256, 0x01), Alphabet::binary, o).error,
            SegmentError::too_many_parts);
  EXPECT_EQ(segment(Bytes(134 * 255, 0x01), Alphabet::binary, o).parts.size(), 255u);
  EXPECT_EQ(segment(Bytes(200, 0x01), Alphabet::binary, udh8(256)).error,
            SegmentError::reference_out_of_range);
}

TEST(Segment, PayloadIsOnePart) {
  SegmentOptions o;
  o.method = ConcatMethod::payload;
  const Bytes text = gsm(repeat("x", 1000));
  const Segmented s = segment(text, Alphabet::gsm7, o);
  ASSERT_TRUE(s.ok());
  ASSERT_EQ(s.parts.size(), 1u);
  EXPECT_EQ(s.parts[0].bytes, text);
  EXPECT_EQ(segment(Bytes(65536, 0x01), Alphabet::binary, o).error, SegmentError::payload_too_long);
}

SubmitSm template_sm() {
  SubmitSm t;
  t.source_addr = "Shop";
  t.destination_addr = "4912345";
  t.registered_delivery = 1;
  t.esm_class = 0x03;  // store and forward mode bits must survive
  return t;
}

TEST(MakeSubmits, UdhPartsSetUdhiAndDataCoding) {
  const Bytes text = ucs2(repeat("ж", 100));
  const Segmented s = segment(text, Alphabet::ucs2, udh8(9));
  const std::vector<SubmitSm> sms = make_submits(s, template_sm(), data_coding::kUcs2);
  ASSERT_EQ(sms.size(), 2u);
  for (std::size_t i = 0; i < sms.size(); ++i) {
    EXPECT_EQ(sms[i].esm_class, 0x43);
    EXPECT_EQ(sms[i].data_coding, 0x08);
    EXPECT_EQ(sms[i].registered_delivery, 1);
    EXPECT_EQ(sms[i].destination_addr, "4912345");
    EXPECT_EQ(Bytes(sms[i].short_message.bytes().begin(), sms[i].short_message.bytes().end()),
              s.parts[i].bytes);
    EXPECT_FALSE(sms[i].tlvs.contains(tlv::sar_msg_ref_num.tag));
    // The PDU is valid on the wire.
    Pdu decoded;
    DecodeError err;
    EXPECT_TRUE(decode(encode(make_pdu(1, sms[i])), decoded, err)) << err.reason;
  }
}

TEST(MakeSubmits, SarPartsCarryTlvsAndNoUdh) {
  SubmitSm t = template_sm();
  t.esm_class = 0x40;  // a stale UDHI in the template must not survive
  const Bytes stale{0x01};
  t.tlvs.set(tlv::message_payload, std::span<const uint8_t>(stale));
  SegmentOptions o;
  o.method = ConcatMethod::sar;
  o.reference = 0xBEEF;
  const Bytes text = gsm(repeat("s", 200));
  const Segmented s = segment(text, Alphabet::gsm7, o);
  const std::vector<SubmitSm> sms = make_submits(s, t, data_coding::kSmscDefault);
  ASSERT_EQ(sms.size(), 2u);
  Bytes joined;
  for (std::size_t i = 0; i < sms.size(); ++i) {
    EXPECT_EQ(sms[i].esm_class & esm_class::kUdhi, 0);
    EXPECT_EQ(sms[i].tlvs.get(tlv::sar_msg_ref_num), 0xBEEF);
    EXPECT_EQ(sms[i].tlvs.get(tlv::sar_total_segments), 2);
    EXPECT_EQ(sms[i].tlvs.get(tlv::sar_segment_seqnum), i + 1);
    EXPECT_FALSE(sms[i].tlvs.contains(tlv::message_payload.tag));
    const auto b = sms[i].short_message.bytes();
    joined.insert(joined.end(), b.begin(), b.end());
    EXPECT_EQ(sar_concat(sms[i].tlvs), (ConcatInfo{0xBEEF, 2, static_cast<uint8_t>(i + 1), true}));
  }
  EXPECT_EQ(sms[0].short_message.size(), 153u);
  EXPECT_EQ(joined, text);
}

TEST(MakeSubmits, SingleAndPayload) {
  const Bytes text = gsm("hello");
  const std::vector<SubmitSm> one = make_submits(segment(text, Alphabet::gsm7, udh8(1)),
                                                 template_sm(), data_coding::kSmscDefault);
  ASSERT_EQ(one.size(), 1u);
  EXPECT_EQ(one[0].esm_class, 0x03);
  EXPECT_EQ(one[0].short_message.view(), "hello");
  EXPECT_TRUE(one[0].tlvs.empty());

  SegmentOptions o;
  o.method = ConcatMethod::payload;
  const Bytes big(500, 0x41);
  const std::vector<SubmitSm> p =
      make_submits(segment(big, Alphabet::gsm7, o), template_sm(), data_coding::kSmscDefault);
  ASSERT_EQ(p.size(), 1u);
  EXPECT_TRUE(p[0].short_message.empty());
  const auto payload = p[0].tlvs.get(tlv::message_payload);
  ASSERT_TRUE(payload.has_value());
  EXPECT_EQ(Bytes(payload->begin(), payload->end()), big);
}

TEST(MakeSubmits, ErrorGivesNothing) {
  SegmentOptions o;
  o.max_parts = 1;
  EXPECT_TRUE(make_submits(segment(Bytes(300, 0x41), Alphabet::gsm7, o), template_sm(), 0).empty());
}

// ---- parse_udh ----

TEST(ParseUdh, ConcatBesidePortAddressing) {
  const Bytes sm{0x0B, 0x05, 0x04, 0x0B, 0x84, 0x23, 0xF0, 0x00, 0x03, 0x07, 0x02, 0x01, 'h', 'i'};
  const Udh udh = parse_udh(sm);
  ASSERT_TRUE(udh.ok()) << to_string(udh.error);
  ASSERT_EQ(udh.elements.size(), 2u);
  EXPECT_EQ(udh.elements[0].iei, iei::kPort16);
  EXPECT_EQ(Bytes(udh.elements[0].data.begin(), udh.elements[0].data.end()),
            (Bytes{0x0B, 0x84, 0x23, 0xF0}));
  EXPECT_EQ(udh.elements[1].iei, iei::kConcat8);
  EXPECT_EQ(udh.concat, (ConcatInfo{7, 2, 1, false}));
  EXPECT_EQ(udh.header_length, 12u);
  EXPECT_EQ(Bytes(udh.payload.begin(), udh.payload.end()), (Bytes{'h', 'i'}));
}

TEST(ParseUdh, SixteenBitReference) {
  const Bytes sm{0x06, 0x08, 0x04, 0xAB, 0xCD, 0x05, 0x03, 'x'};
  const Udh udh = parse_udh(sm);
  ASSERT_TRUE(udh.ok());
  EXPECT_EQ(udh.concat, (ConcatInfo{0xABCD, 5, 3, true}));
  EXPECT_EQ(udh.payload.size(), 1u);
}

TEST(ParseUdh, NoConcatAndEmptyHeader) {
  const Udh none = parse_udh(Bytes{0x04, 0x04, 0x02, 0x10, 0x20, 'z'});
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none.concat.has_value());
  EXPECT_EQ(none.elements.size(), 1u);
  const Udh zero = parse_udh(Bytes{0x00, 'a', 'b'});
  ASSERT_TRUE(zero.ok());
  EXPECT_TRUE(zero.elements.empty());
  EXPECT_EQ(zero.payload.size(), 2u);
  const Udh only = parse_udh(Bytes{0x05, 0x00, 0x03, 0x01, 0x02, 0x01});
  ASSERT_TRUE(only.ok());
  EXPECT_TRUE(only.payload.empty());
}

TEST(ParseUdh, RepeatedConcatUsesTheLast) {
  const Udh udh =
      parse_udh(Bytes{0x0A, 0x00, 0x03, 0x01, 0x02, 0x01, 0x00, 0x03, 0x09, 0x03, 0x02});
  ASSERT_TRUE(udh.ok());
  EXPECT_EQ(udh.concat, (ConcatInfo{9, 3, 2, false}));
}

TEST(ParseUdh, Malformed) {
  EXPECT_EQ(parse_udh(Bytes{}).error, UdhError::empty);
  EXPECT_EQ(parse_udh(Bytes{0x05, 0x00, 0x03, 0x01}).error, UdhError::header_past_end);
  EXPECT_EQ(parse_udh(Bytes{0xFF, 0x00}).error, UdhError::header_past_end);
  // IE length 4 but only 3 octets left in the UDH (the payload octet after it must not count).
  EXPECT_EQ(parse_udh(Bytes{0x05, 0x00, 0x04, 0x01, 0x02, 0x03, 'p'}).error,
            UdhError::element_overrun);
  // An IEI without its length octet.
  EXPECT_EQ(parse_udh(Bytes{0x01, 0x00, 'p'}).error, UdhError::element_overrun);
  // A whole element followed by a lone IEI octet inside the UDH.
  EXPECT_EQ(parse_udh(Bytes{0x07, 0x05, 0x04, 0x01, 0x02, 0x03, 0x04, 0x00}).error,
            UdhError::element_overrun);
  EXPECT_EQ(parse_udh(Bytes{0x04, 0x00, 0x02, 0x01, 0x02}).error, UdhError::bad_concat_length);
  EXPECT_EQ(parse_udh(Bytes{0x05, 0x08, 0x03, 0x01, 0x02, 0x01}).error,
            UdhError::bad_concat_length);
}

TEST(ParseUdh, NeverReadsOutOfBoundsOnAnyShortInput) {
  // Every 0-4 octet input over a small alphabet: the parser must only ever return values.
  const Bytes alphabet{0x00, 0x01, 0x02, 0x03, 0x08, 0xFF};
  std::size_t ok = 0;
  for (std::size_t len = 0; len <= 4; ++len) {
    std::size_t combos = 1;
    for (std::size_t k = 0; k < len; ++k) combos *= alphabet.size();
    for (std::size_t c = 0; c < combos; ++c) {
      Bytes in;
      std::size_t v = c;
      for (std::size_t k = 0; k < len; ++k) {
        in.push_back(alphabet[v % alphabet.size()]);
        v /= alphabet.size();
      }
      const Udh udh = parse_udh(in);
      if (udh.ok()) {
        ++ok;
        EXPECT_LE(udh.header_length, in.size());
      }
    }
  }
  EXPECT_GT(ok, 0u);
}

TEST(SarConcat, PresentPartialAbsent) {
  TlvList t;
  bool partial = true;
  EXPECT_FALSE(sar_concat(t, &partial).has_value());
  EXPECT_FALSE(partial);
  t.set(tlv::sar_msg_ref_num, uint16_t{300});
  t.set(tlv::sar_total_segments, uint8_t{3});
  EXPECT_FALSE(sar_concat(t, &partial).has_value());
  EXPECT_TRUE(partial);
  t.set(tlv::sar_segment_seqnum, uint8_t{2});
  EXPECT_EQ(sar_concat(t, &partial), (ConcatInfo{300, 3, 2, true}));
  EXPECT_FALSE(partial);
}

}  // namespace
}  // namespace smpp
