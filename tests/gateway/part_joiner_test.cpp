// Joining a client's long message from its parts (multipart.reassembly): parts held and
// answered, the whole message the last one becomes, limits, and what the held parts' receipts
// say when their message goes no further.
#include "gateway/part_joiner.hpp"

#include <gtest/gtest.h>

#include <string>

#include "gateway/message_ids.hpp"
#include "smpp/receipt.hpp"

using namespace smppd;
using namespace smppd::gateway;
using namespace std::chrono;

namespace {

const PartJoiner::TimePoint t0{};

config::MultipartConfig limits(uint32_t max_parts = 20, uint64_t buffer = 100000,
                               milliseconds timeout = minutes(5)) {
  config::MultipartConfig c;
  c.reassembly_timeout = timeout;
  c.reassembly_max_parts = max_parts;
  c.reassembly_buffer_size = buffer;
  return c;
}

// Part `seq` of `total` (UDH IEI 0x00, reference `ref`) carrying `text`.
smpp::Pdu udh_part(uint8_t ref, uint8_t total, uint8_t seq, const std::string& text,
                   uint8_t registered_delivery = 0, const char* destination = "258841234567") {
  smpp::SubmitSm m;
  m.source_addr_ton = 5;
  m.source_addr.assign("ACME");
  m.dest_addr_ton = 1;
  m.dest_addr_npi = 1;
  m.destination_addr.assign(destination);
  m.esm_class = smpp::esm_class::kUdhi;
  m.registered_delivery = registered_delivery;
  std::vector<uint8_t> sm = {0x05, 0x00, 0x03, ref, total, seq};
  sm.insert(sm.end(), text.begin(), text.end());
  m.short_message.assign(sm);
  smpp::Pdu p;
  p.body = std::move(m);
  return p;
}

smpp::Pdu sar_part(uint16_t ref, uint8_t total, uint8_t seq, const std::string& text) {
  smpp::SubmitSm m;
  m.source_addr.assign("ACME");
  m.destination_addr.assign("258841234567");
  m.short_message.assign(std::vector<uint8_t>(text.begin(), text.end()));
  m.tlvs.set(smpp::tlv::sar_msg_ref_num, ref);
  m.tlvs.set(smpp::tlv::sar_total_segments, total);
  m.tlvs.set(smpp::tlv::sar_segment_seqnum, seq);
  smpp::Pdu p;
  p.body = std::move(m);
  return p;
}

std::string text_of(const smpp::Pdu& p) {
  const auto& m = *p.as<smpp::SubmitSm>();
  std::span<const uint8_t> b = m.short_message.bytes();
  if (b.empty()) {
    if (auto payload = m.tlvs.get(smpp::tlv::message_payload)) b = *payload;
  }
  return std::string(b.begin(), b.end());
}

PartJoiner::Result add(PartJoiner& j, smpp::Pdu& p, uint64_t id, PartJoiner::TimePoint at = t0,
                       std::string_view client = "alice") {
  return j.add(client, smpp::Version::v34, p, id, at, 1'800'000'000);
}

TEST(PartJoiner, PartsInAnyOrderBecomeTheWholeMessageWithTheLastOne) {
  PartJoiner j(limits());
  smpp::Pdu p2 = udh_part(7, 3, 2, "BBB", 0);
  smpp::Pdu p3 = udh_part(7, 3, 3, "CCC", 1);
  smpp::Pdu p1 = udh_part(7, 3, 1, "AAA", 0);
  EXPECT_EQ(add(j, p2, 102).kind, PartJoiner::Kind::held);
  EXPECT_EQ(add(j, p3, 103).kind, PartJoiner::Kind::held);
  EXPECT_EQ(j.pending_messages(), 1u);
  EXPECT_EQ(j.buffered_bytes(), 6u);
  PartJoiner::Result r = add(j, p1, 101);
  ASSERT_EQ(r.kind, PartJoiner::Kind::whole);
  // How the client cut it: its method, reference and each part as it came.
  ASSERT_TRUE(r.as_sent);
  EXPECT_EQ(r.as_sent->parts.method, smpp::ConcatMethod::udh8);
  EXPECT_EQ(r.as_sent->parts.reference, 7);
  EXPECT_EQ(r.as_sent->parts.total, 3);
  ASSERT_EQ(r.as_sent->parts.parts.size(), 3u);
  EXPECT_EQ(r.as_sent->parts.parts[1].bytes,
            (std::vector<uint8_t>{0x05, 0x00, 0x03, 7, 3, 2, 'B', 'B', 'B'}));
  EXPECT_EQ(std::string(r.as_sent->payload.begin(), r.as_sent->payload.end()), "AAABBBCCC");
  // The parts answered before, in the order they came, with their receipt requests.
  ASSERT_EQ(r.earlier.parts.size(), 2u);
  EXPECT_EQ(r.earlier.parts[0].id, 102u);
  EXPECT_EQ(r.earlier.parts[1].id, 103u);
  const auto& m = *p1.as<smpp::SubmitSm>();
  EXPECT_EQ(text_of(p1), "AAABBBCCC");
  EXPECT_EQ(m.esm_class & smpp::esm_class::kUdhi, 0);
  // One part asked for a receipt: the whole message does.
  EXPECT_EQ(m.registered_delivery, 1);
  EXPECT_EQ(m.destination_addr.view(), "258841234567");
  EXPECT_EQ(j.pending_messages(), 0u);
  EXPECT_EQ(j.buffered_bytes(), 0u);
}

TEST(PartJoiner, SarPartsLoseTheirTlvsAndALongTextGoesInMessagePayload) {
  PartJoiner j(limits());
  const std::string a(134, 'a'), b(134, 'b');
  smpp::Pdu p1 = sar_part(0x1234, 2, 1, a);
  smpp::Pdu p2 = sar_part(0x1234, 2, 2, b);
  EXPECT_EQ(add(j, p1, 1).kind, PartJoiner::Kind::held);
  PartJoiner::Result r = add(j, p2, 2);
  ASSERT_EQ(r.kind, PartJoiner::Kind::whole);
  EXPECT_EQ(r.as_sent->parts.method, smpp::ConcatMethod::sar);
  EXPECT_EQ(r.as_sent->parts.reference, 0x1234);
  EXPECT_EQ(r.as_sent->parts.parts[0].bytes, std::vector<uint8_t>(a.begin(), a.end()));
  const auto& m = *p2.as<smpp::SubmitSm>();
  EXPECT_TRUE(m.short_message.empty());
  EXPECT_FALSE(m.tlvs.contains(smpp::tlv::sar_msg_ref_num.tag));
  EXPECT_FALSE(m.tlvs.contains(smpp::tlv::sar_total_segments.tag));
  EXPECT_FALSE(m.tlvs.contains(smpp::tlv::sar_segment_seqnum.tag));
  EXPECT_EQ(text_of(p2), a + b);
}

TEST(PartJoiner, MessagesAreKeptApartByClientReferenceAndDestination) {
  PartJoiner j(limits());
  smpp::Pdu a1 = udh_part(1, 2, 1, "a1");
  smpp::Pdu b1 = udh_part(1, 2, 1, "b1");
  smpp::Pdu c1 = udh_part(2, 2, 1, "c1");
  smpp::Pdu d1 = udh_part(1, 2, 1, "d1", 0, "258849999999");
  EXPECT_EQ(add(j, a1, 1, t0, "alice").kind, PartJoiner::Kind::held);
  EXPECT_EQ(add(j, b1, 2, t0, "bob").kind, PartJoiner::Kind::held);
  EXPECT_EQ(add(j, c1, 3, t0, "alice").kind, PartJoiner::Kind::held);
  EXPECT_EQ(add(j, d1, 4, t0, "alice").kind, PartJoiner::Kind::held);
  EXPECT_EQ(j.pending_messages(), 4u);
  smpp::Pdu b2 = udh_part(1, 2, 2, "b2");
  ASSERT_EQ(add(j, b2, 5, t0, "bob").kind, PartJoiner::Kind::whole);
  EXPECT_EQ(text_of(b2), "b1b2");
}

TEST(PartJoiner, APartWithOtherUdhElementsIsNotJoined) {
  PartJoiner j(limits());
  smpp::Pdu p = udh_part(1, 2, 1, "x");
  // A port addressing element (IEI 0x05) before the concatenation.
  auto& m = *p.as<smpp::SubmitSm>();
  m.short_message.assign(std::vector<uint8_t>{0x0B, 0x05, 0x04, 0x0B, 0x84, 0x23, 0xF0, 0x00,
                                              0x03, 1, 2, 1, 'x'});
  EXPECT_EQ(add(j, p, 1).kind, PartJoiner::Kind::pass);
  EXPECT_EQ(j.pending_messages(), 0u);
}

TEST(PartJoiner, ADuplicatePartIsAnsweredAndNotKept) {
  PartJoiner j(limits());
  smpp::Pdu p1 = udh_part(9, 2, 1, "one");
  smpp::Pdu again = udh_part(9, 2, 1, "one");
  EXPECT_EQ(add(j, p1, 1).kind, PartJoiner::Kind::held);
  EXPECT_EQ(add(j, again, 2).kind, PartJoiner::Kind::duplicate);
  smpp::Pdu p2 = udh_part(9, 2, 2, "two");
  PartJoiner::Result r = add(j, p2, 3);
  ASSERT_EQ(r.kind, PartJoiner::Kind::whole);
  EXPECT_EQ(text_of(p2), "onetwo");
  ASSERT_EQ(r.earlier.parts.size(), 1u);  // the duplicate's id is not a part of it
}

TEST(PartJoiner, MoreThanMaxPartsOrAMalformedUdhGoesOnAsItCame) {
  PartJoiner j(limits(/*max_parts=*/3));
  smpp::Pdu big = udh_part(1, 4, 1, "x");
  EXPECT_EQ(add(j, big, 1).kind, PartJoiner::Kind::pass);
  EXPECT_EQ(text_of(big).size(), 7u);  // untouched: UDH and text
  smpp::Pdu bad = udh_part(1, 2, 3, "x");  // part 3 of 2
  EXPECT_EQ(add(j, bad, 2).kind, PartJoiner::Kind::pass);
  EXPECT_EQ(j.pending_messages(), 0u);
}

TEST(PartJoiner, ABufferThatIsFullRefusesThePartAndKeepsTheOthers) {
  PartJoiner j(limits(20, /*buffer=*/10));
  smpp::Pdu p1 = udh_part(1, 2, 1, "12345678");
  smpp::Pdu q1 = udh_part(2, 2, 1, "abcdef");
  EXPECT_EQ(add(j, p1, 1).kind, PartJoiner::Kind::held);
  const PartJoiner::Result r = add(j, q1, 2);
  EXPECT_EQ(r.kind, PartJoiner::Kind::refused);
  EXPECT_EQ(r.reason, smpp::ReassemblyReason::byte_limit);
  smpp::Pdu p2 = udh_part(1, 2, 2, "90");
  ASSERT_EQ(add(j, p2, 3).kind, PartJoiner::Kind::whole);
  EXPECT_EQ(text_of(p2), "1234567890");
  // Room again: the refused part, sent again, is taken.
  smpp::Pdu q1again = udh_part(2, 2, 1, "abcdef");
  EXPECT_EQ(add(j, q1again, 4).kind, PartJoiner::Kind::held);
}

TEST(PartJoiner, MessagesWhosePartsStopComingAreGivenUpWithTheirHeldParts) {
  PartJoiner j(limits(20, 100000, seconds(10)));
  smpp::Pdu p1 = udh_part(3, 3, 1, "AAA", 1);
  smpp::Pdu p2 = udh_part(3, 3, 2, "BBB", 0);
  smpp::Pdu q1 = udh_part(4, 2, 1, "QQQ", 2);
  add(j, p1, 11, t0);
  add(j, p2, 12, t0 + seconds(5));
  add(j, q1, 21, t0 + seconds(8));
  EXPECT_TRUE(j.expire(t0 + seconds(9)).empty());
  std::vector<GivenUp> gone = j.expire(t0 + seconds(10));
  ASSERT_EQ(gone.size(), 1u);
  EXPECT_EQ(gone[0].client, "alice");
  EXPECT_EQ(gone[0].source, "ACME");
  EXPECT_EQ(gone[0].source_ton, 5);
  EXPECT_EQ(gone[0].destination, "258841234567");
  ASSERT_EQ(gone[0].parts.size(), 2u);
  EXPECT_EQ(gone[0].parts[0].id, 11u);
  EXPECT_EQ(gone[0].parts[0].registered_delivery, 1);
  EXPECT_EQ(gone[0].parts[1].id, 12u);
  EXPECT_EQ(j.pending_messages(), 1u);
  // A part of a message given up starts a new one.
  smpp::Pdu p3 = udh_part(3, 3, 3, "CCC");
  EXPECT_EQ(add(j, p3, 13, t0 + seconds(11)).kind, PartJoiner::Kind::held);
  std::vector<GivenUp> rest = j.drain();
  EXPECT_EQ(rest.size(), 2u);
  EXPECT_EQ(j.pending_messages(), 0u);
  EXPECT_EQ(j.buffered_bytes(), 0u);
}

TEST(PartJoiner, WithoutStartNewOnlyMessagesBeingJoinedTakeParts) {
  PartJoiner j(limits());
  smpp::Pdu a1 = udh_part(1, 2, 1, "a1");
  EXPECT_EQ(add(j, a1, 1).kind, PartJoiner::Kind::held);
  EXPECT_TRUE(j.busy());
  // A reload stopped needing messages whole: a new message passes, the one begun is joined.
  smpp::Pdu b1 = udh_part(2, 2, 1, "b1");
  EXPECT_EQ(j.add("alice", smpp::Version::v34, b1, 2, t0, 0, false).kind, PartJoiner::Kind::pass);
  smpp::Pdu a2 = udh_part(1, 2, 2, "a2");
  EXPECT_EQ(j.add("alice", smpp::Version::v34, a2, 3, t0, 0, false).kind, PartJoiner::Kind::whole);
  EXPECT_FALSE(j.busy());
  // After a drain (smppd stops) nothing is held.
  EXPECT_TRUE(j.drain().empty());
  smpp::Pdu c1 = udh_part(3, 2, 1, "c1");
  EXPECT_EQ(add(j, c1, 4).kind, PartJoiner::Kind::pass);
}

TEST(PartJoiner, TheReceiptOfAGivenUpPartNamesItsIdAndState) {
  GivenUp m;
  m.client = "alice";
  m.version = smpp::Version::v34;
  m.source_ton = 5;
  m.source = "ACME";
  m.destination_ton = 1;
  m.destination_npi = 1;
  m.destination = "258841234567";
  m.first_unix_seconds = 1'800'000'000;
  const HeldPart part{0xABCDEF, 1};
  smpp::Pdu p = given_up_receipt(m, part, smpp::MessageState::expired, 0, 1'800'000'300);
  const auto* d = p.as<smpp::DeliverSm>();
  ASSERT_NE(d, nullptr);
  EXPECT_TRUE(smpp::is_receipt(d->esm_class));
  // From the destination, to the source.
  EXPECT_EQ(d->source_addr.view(), "258841234567");
  EXPECT_EQ(d->source_addr_ton, 1);
  EXPECT_EQ(d->destination_addr.view(), "ACME");
  EXPECT_EQ(d->dest_addr_ton, 5);
  std::optional<smpp::Receipt> r = smpp::parse_receipt(*d);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->id, render_message_id(0xABCDEF, smpp::Version::v34));
  EXPECT_EQ(r->state, smpp::MessageState::expired);
  EXPECT_EQ(r->stat, "EXPIRED");
  EXPECT_EQ(r->err, "000");
  smpp::Pdu refused = given_up_receipt(m, part, smpp::MessageState::rejected, 0x58, 1'800'000'300);
  r = smpp::parse_receipt(*refused.as<smpp::DeliverSm>());
  ASSERT_TRUE(r);
  EXPECT_EQ(r->stat, "REJECTD");
  EXPECT_EQ(r->err, "088");
}

}  // namespace
