// Content towards a 3.3 SMSC: what TLVs carry is written the 3.3 way, or refused, never lost.
#include "smpp/downgrade.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "smpp/receipt.hpp"
#include "smpp/segment.hpp"
#include "smpp/status.hpp"
#include "smpp/tlv.hpp"
#include "smpp/version.hpp"

namespace smpp {
namespace {

std::vector<uint8_t> bytes(std::string_view s) {
  return {s.begin(), s.end()};
}

Pdu submit(std::string_view text = "") {
  SubmitSm m;
  m.source_addr.assign("Bank");
  m.destination_addr.assign("+258841234567");
  m.short_message.assign(text);
  return make_pdu(7, std::move(m));
}

TEST(Downgrade, MessagePayloadBecomesShortMessage) {
  Pdu p = submit();
  const auto text = bytes("a text sent in message_payload");
  p.as<SubmitSm>()->tlvs.set(tlv::message_payload, text);
  const Downgrade d = express_for_v33(p);
  EXPECT_EQ(d.status, status::ESME_ROK);
  EXPECT_EQ(d.converted, 1u);
  const auto& m = *p.as<SubmitSm>();
  EXPECT_EQ(m.short_message.view(), "a text sent in message_payload");
  EXPECT_TRUE(m.tlvs.empty());
  EXPECT_EQ(m.esm_class & 0x40, 0);
  EXPECT_EQ(p.sequence_number, 7u);
}

TEST(Downgrade, SarBecomesAConcatenationElement) {
  Pdu p = submit("part two");
  auto& tlvs = p.as<SubmitSm>()->tlvs;
  tlvs.set(tlv::sar_msg_ref_num, uint16_t{0x1234});
  tlvs.set(tlv::sar_total_segments, uint8_t{3});
  tlvs.set(tlv::sar_segment_seqnum, uint8_t{2});
  const Downgrade d = express_for_v33(p);
  ASSERT_EQ(d.status, status::ESME_ROK);
  EXPECT_EQ(d.converted, 3u);
  const auto& m = *p.as<SubmitSm>();
  EXPECT_EQ(m.esm_class & 0x40, 0x40);
  EXPECT_TRUE(m.tlvs.empty());
  const Udh udh = parse_udh(m.short_message.bytes());
  ASSERT_TRUE(udh.ok());
  ASSERT_TRUE(udh.concat.has_value());
  EXPECT_EQ(udh.concat->reference, 0x1234);
  EXPECT_EQ(udh.concat->total, 3);
  EXPECT_EQ(udh.concat->seq, 2);
  EXPECT_EQ(std::string(udh.payload.begin(), udh.payload.end()), "part two");
}

TEST(Downgrade, PortsJoinAnExistingUdh) {
  Pdu p = submit();
  auto& m = *p.as<SubmitSm>();
  // UDH with a concatenation element (8-bit reference), then the text.
  const std::vector<uint8_t> sm = {0x05, 0x00, 0x03, 0x2A, 0x02, 0x01, 'h', 'i'};
  m.short_message.assign(sm);
  m.esm_class = 0x40;
  m.tlvs.set(tlv::dest_port, uint16_t{2948});
  m.tlvs.set(tlv::source_port, uint16_t{9200});
  const Downgrade d = express_for_v33(p);
  ASSERT_EQ(d.status, status::ESME_ROK);
  const Udh udh = parse_udh(m.short_message.bytes());
  ASSERT_TRUE(udh.ok());
  ASSERT_EQ(udh.elements.size(), 2u);
  EXPECT_EQ(udh.concat->reference, 0x2A);
  EXPECT_EQ(udh.elements[1].iei, 0x05);
  EXPECT_EQ(std::string(udh.payload.begin(), udh.payload.end()), "hi");
  EXPECT_EQ(m.short_message.bytes()[0], 0x0B);  // UDHL 5 + 6
  EXPECT_TRUE(m.tlvs.empty());
}

TEST(Downgrade, ALongPayloadIsSegmentedWithAUdh) {
  Pdu p = submit();
  std::vector<uint8_t> long_text(300, 'x');
  long_text[152] = 0x1B;  // a GSM escape pair across the natural cut: never split
  long_text[153] = 0x65;
  p.as<SubmitSm>()->tlvs.set(tlv::message_payload, long_text);
  p.as<SubmitSm>()->registered_delivery = 1;
  const Downgrade d = express_for_v33(p, 0x1A7);
  ASSERT_EQ(d.status, status::ESME_ROK);
  ASSERT_EQ(d.more.size(), 1u);
  std::vector<const SubmitSm*> parts = {p.as<SubmitSm>(), &d.more[0]};
  std::vector<uint8_t> joined;
  for (std::size_t i = 0; i < parts.size(); ++i) {
    const SubmitSm& m = *parts[i];
    EXPECT_EQ(m.esm_class & 0x40, 0x40);
    EXPECT_TRUE(m.tlvs.empty());
    EXPECT_EQ(m.registered_delivery, 1);
    EXPECT_EQ(m.destination_addr.view(), "+258841234567");
    const Udh udh = parse_udh(m.short_message.bytes());
    ASSERT_TRUE(udh.ok());
    ASSERT_TRUE(udh.concat.has_value());
    EXPECT_EQ(udh.concat->reference, 0xA7);  // 8-bit reference: the low byte
    EXPECT_EQ(udh.concat->total, 2);
    EXPECT_EQ(udh.concat->seq, i + 1);
    joined.insert(joined.end(), udh.payload.begin(), udh.payload.end());
  }
  EXPECT_EQ(joined, long_text);
  EXPECT_EQ(parts[0]->short_message.size(), 6u + 152u);  // ends before the escape pair
}

TEST(Downgrade, ALongPayloadWithItsOwnUdhIsRefusedAndLeftAsItWas) {
  Pdu p = submit();
  const std::vector<uint8_t> long_text(300, 'x');
  p.as<SubmitSm>()->tlvs.set(tlv::message_payload, long_text);
  p.as<SubmitSm>()->tlvs.set(tlv::dest_port, uint16_t{2948});
  const Pdu before = p;
  const Downgrade d = express_for_v33(p);
  EXPECT_EQ(d.status, status::ESME_RINVMSGLEN);
  EXPECT_TRUE(d.more.empty());
  EXPECT_EQ(p, before);
}

TEST(Downgrade, TextInBothPlacesIsRefused) {
  Pdu p = submit("short");
  p.as<SubmitSm>()->tlvs.set(tlv::message_payload, bytes("long"));
  EXPECT_EQ(express_for_v33(p).status, status::ESME_RINVTLVVAL);
}

TEST(Downgrade, DataSmBecomesSubmitSm) {
  DataSm ds;
  ds.source_addr.assign("12345");
  ds.destination_addr.assign("+258841234567");
  ds.registered_delivery = 1;
  ds.data_coding = 8;
  const std::vector<uint8_t> ucs2 = {0x00, 'h', 0x00, 'i'};
  ds.tlvs.set(tlv::message_payload, ucs2);
  Pdu p = make_pdu(9, std::move(ds));
  const Downgrade d = express_for_v33(p);
  ASSERT_EQ(d.status, status::ESME_ROK);
  EXPECT_TRUE(d.became_submit);
  const auto* m = p.as<SubmitSm>();
  ASSERT_NE(m, nullptr);
  EXPECT_EQ(p.sequence_number, 9u);
  EXPECT_EQ(m->destination_addr.view(), "+258841234567");
  EXPECT_EQ(m->registered_delivery, 1);
  EXPECT_EQ(m->data_coding, 8);
  EXPECT_EQ(m->short_message.size(), 4u);
  EXPECT_TRUE(command_in_version(p.command_id(), Version::v33));
}

TEST(Downgrade, OtherTlvsAreLeftForTheVersionRules) {
  Pdu p = submit("hello");
  p.as<SubmitSm>()->tlvs.set(tlv::user_message_reference, uint16_t{5});
  const Downgrade d = express_for_v33(p);
  EXPECT_EQ(d.status, status::ESME_ROK);
  EXPECT_EQ(d.converted, 0u);
  EXPECT_EQ(d.left, 1u);
  EXPECT_EQ(p.as<SubmitSm>()->short_message.view(), "hello");
}

}  // namespace
}  // namespace smpp

namespace smpp {
namespace {

TEST(DowngradeDelivery, AReceiptToldInTlvsGetsItsText) {
  DeliverSm m;
  m.esm_class = 0x04;
  m.tlvs.set(tlv::receipted_message_id, std::string_view("4F2A"));
  m.tlvs.set(tlv::message_state, uint8_t{2});  // DELIVERED
  const Downgrade d = express_delivery_for_v33(m);
  ASSERT_EQ(d.status, status::ESME_ROK);
  const auto r = parse_receipt_text(m.short_message.view());
  ASSERT_TRUE(r.has_value()) << m.short_message.view();
  EXPECT_EQ(r->id, "4F2A");
  EXPECT_EQ(r->stat, "DELIVRD");
}

TEST(DowngradeDelivery, ALongMoIsSegmented) {
  DeliverSm m;
  m.source_addr.assign("+258841234567");
  m.destination_addr.assign("12345");
  const std::vector<uint8_t> text(300, 'y');
  m.tlvs.set(tlv::message_payload, text);
  const Downgrade d = express_delivery_for_v33(m, 9);
  ASSERT_EQ(d.status, status::ESME_ROK);
  ASSERT_EQ(d.more_deliveries.size(), 1u);
  EXPECT_EQ(m.esm_class & 0x40, 0x40);
  EXPECT_EQ(d.more_deliveries[0].destination_addr.view(), "12345");
  const Udh udh = parse_udh(d.more_deliveries[0].short_message.bytes());
  ASSERT_TRUE(udh.concat.has_value());
  EXPECT_EQ(udh.concat->seq, 2);
  EXPECT_EQ(udh.concat->reference, 9);
}

}  // namespace
}  // namespace smpp
