// Long messages cut for a peer that takes no long ones (upstreams[].message.max_length).
#include "smpp/split.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "smpp/status.hpp"
#include "smpp/text.hpp"
#include "smpp/tlv.hpp"

namespace smpp {
namespace {

std::vector<uint8_t> gsm(std::size_t n, char c = 'a') {
  return std::vector<uint8_t>(n, static_cast<uint8_t>(c));
}

Pdu submit_payload(const std::vector<uint8_t>& text, uint8_t data_coding = 0,
                   uint8_t registered_delivery = 0x01) {
  SubmitSm m;
  m.source_addr.assign("Bank");
  m.destination_addr.assign("258841234567");
  m.data_coding = data_coding;
  m.registered_delivery = registered_delivery;
  m.tlvs.set(tlv::message_payload, text);
  return make_pdu(7, std::move(m));
}

// The text the parts carry, joined (UDH or not).
std::vector<uint8_t> joined(const SubmitSm& first, const std::vector<SubmitSm>& more) {
  std::vector<uint8_t> out;
  auto add = [&out](const SubmitSm& m) {
    auto b = m.short_message.bytes();
    if ((m.esm_class & 0x40) != 0) b = b.subspan(std::size_t{b[0]} + 1);
    out.insert(out.end(), b.begin(), b.end());
  };
  add(first);
  for (const auto& m : more) add(m);
  return out;
}

TEST(Split, ALongPayloadBecomesUdhPartsWithOneReceiptRequest) {
  const auto text = gsm(400);
  Pdu p = submit_payload(text);
  SplitOptions o;
  o.reference = 0x1A7;  // udh8: its low 8 bits
  const Split s = split_long(p, o);
  ASSERT_EQ(s.status, status::ESME_ROK);
  ASSERT_TRUE(s.split);
  ASSERT_EQ(s.more.size(), 2u);  // 153 + 153 + 94
  const SubmitSm& first = *p.as<SubmitSm>();
  EXPECT_EQ(p.sequence_number, 7u);
  EXPECT_FALSE(first.tlvs.contains(tlv::message_payload.tag));
  EXPECT_EQ(first.esm_class & 0x40, 0x40);
  const auto udh = parse_udh(first.short_message.bytes());
  ASSERT_TRUE(udh.concat);
  EXPECT_EQ(udh.concat->reference, 0xA7);
  EXPECT_EQ(udh.concat->total, 3);
  EXPECT_EQ(udh.concat->seq, 1);
  EXPECT_EQ(parse_udh(s.more[1].short_message.bytes()).concat->seq, 3);
  EXPECT_EQ(joined(first, s.more), text);
  // Only the last part asks for the receipt.
  EXPECT_EQ(first.registered_delivery, 0);
  EXPECT_EQ(s.more[0].registered_delivery, 0);
  EXPECT_EQ(s.more[1].registered_delivery, 1);
  // Every part keeps the addresses.
  EXPECT_EQ(s.more[1].destination_addr.view(), "258841234567");
}

TEST(Split, SarTlvsWhenAskedForAndOtherReceiptBitsKept) {
  Pdu p = submit_payload(gsm(200), 0, 0x11);  // receipt + intermediate notification
  SplitOptions o;
  o.method = ConcatMethod::sar;
  o.reference = 0x1234;
  const Split s = split_long(p, o);
  ASSERT_TRUE(s.split);
  ASSERT_EQ(s.more.size(), 1u);
  const SubmitSm& first = *p.as<SubmitSm>();
  EXPECT_EQ(first.esm_class & 0x40, 0);
  const auto sar = sar_concat(first.tlvs);
  ASSERT_TRUE(sar);
  EXPECT_EQ(sar->reference, 0x1234);
  EXPECT_EQ(sar->total, 2);
  EXPECT_EQ(first.registered_delivery, 0x10);
  EXPECT_EQ(s.more[0].registered_delivery, 0x11);
  EXPECT_EQ(joined(first, s.more), gsm(200));
}

TEST(Split, Ucs2CountsUnitsAndNeverCutsASurrogatePair) {
  // 69 units fit one part; 71 do not. A surrogate pair straddles the first cut (unit 67).
  EncodedText e = encode_text(std::string(66, 'x') + "\xF0\x9F\x98\x80" + std::string(3, 'y') +
                              "\xD0\x96");
  ASSERT_EQ(e.data_coding, 0x08);
  ASSERT_EQ(e.bytes.size() / 2, 72u);
  Pdu p = submit_payload(e.bytes, 0x08);
  SplitOptions o;
  o.max_length = 70;
  const Split s = split_long(p, o);
  ASSERT_TRUE(s.split);
  const SubmitSm& first = *p.as<SubmitSm>();
  const auto body = first.short_message.bytes().subspan(6);
  EXPECT_EQ(body.size(), 66u * 2);  // ends before the pair, not inside it
  EXPECT_EQ(joined(first, s.more), e.bytes);
}

TEST(Split, ShortEnoughIsLeftWholeAndAShortPayloadMovesIntoShortMessage) {
  Pdu p = submit_payload(gsm(100));
  const Split s = split_long(p, SplitOptions{});
  EXPECT_EQ(s.status, status::ESME_ROK);
  EXPECT_FALSE(s.split);
  const SubmitSm& m = *p.as<SubmitSm>();
  EXPECT_EQ(m.short_message.bytes().size(), 100u);
  EXPECT_FALSE(m.tlvs.contains(tlv::message_payload.tag));
  EXPECT_EQ(m.registered_delivery, 1);
  // A short_message of 160 GSM characters is at the limit: untouched.
  SubmitSm whole;
  whole.short_message.assign(gsm(160));
  Pdu q = make_pdu(1, std::move(whole));
  EXPECT_FALSE(split_long(q, SplitOptions{}).split);
  EXPECT_EQ(q.as<SubmitSm>()->short_message.bytes().size(), 160u);
}

TEST(Split, ALongShortMessageIsCutToo) {
  SubmitSm m;
  m.short_message.assign(gsm(200, 'b'));
  Pdu p = make_pdu(1, std::move(m));
  SplitOptions o;
  o.max_length = 160;
  const Split s = split_long(p, o);
  ASSERT_TRUE(s.split);
  EXPECT_EQ(joined(*p.as<SubmitSm>(), s.more), gsm(200, 'b'));
}

TEST(Split, PartsAndForeignUdhAreLeftAsTheyCame) {
  // A part already (UDHI): its sender cut it.
  SubmitSm part;
  part.esm_class = 0x40;
  std::vector<uint8_t> bytes = {0x05, 0x00, 0x03, 0x01, 0x02, 0x01};
  const auto text = gsm(153);
  bytes.insert(bytes.end(), text.begin(), text.end());
  part.short_message.assign(bytes);
  Pdu p = make_pdu(1, part);
  SplitOptions o;
  o.max_length = 10;
  EXPECT_FALSE(split_long(p, o).split);
  EXPECT_EQ(*p.as<SubmitSm>(), part);
  // SAR TLVs: the same.
  SubmitSm sar;
  sar.short_message.assign(gsm(153));
  sar.tlvs.set(tlv::sar_msg_ref_num, uint16_t{1});
  sar.tlvs.set(tlv::sar_total_segments, uint8_t{2});
  sar.tlvs.set(tlv::sar_segment_seqnum, uint8_t{1});
  Pdu q = make_pdu(1, sar);
  EXPECT_FALSE(split_long(q, o).split);
  EXPECT_EQ(*q.as<SubmitSm>(), sar);
  // Not a submit_sm: untouched.
  Pdu d = make_pdu(1, DataSm{});
  EXPECT_FALSE(split_long(d, o).split);
}

TEST(Split, TooManyPartsOrTextInBothPlacesIsRefusedAndTheMessageUnchanged) {
  Pdu p = submit_payload(gsm(1000));  // 7 parts
  const SubmitSm before = *p.as<SubmitSm>();
  SplitOptions o;
  o.max_parts = 6;
  EXPECT_EQ(split_long(p, o).status, status::ESME_RINVMSGLEN);
  EXPECT_EQ(*p.as<SubmitSm>(), before);
  o.max_parts = 7;
  EXPECT_EQ(split_long(p, o).more.size(), 6u);

  Pdu both = submit_payload(gsm(300));
  both.as<SubmitSm>()->short_message.assign(std::string_view("also here"));
  EXPECT_EQ(split_long(both, SplitOptions{}).status, status::ESME_RINVTLVVAL);
}

}  // namespace
}  // namespace smpp
