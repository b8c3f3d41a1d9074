#include "smpp/reassembly.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <vector>

namespace smpp {
namespace {

using Bytes = std::vector<uint8_t>;
using namespace std::chrono_literals;

const Reassembler::TimePoint t0{};

ReassemblyKey key(uint16_t ref, uint8_t total) {
  return ReassemblyKey{"bind-1", "491701", "4930", ref, total};
}

Bytes bytes(std::string_view s) {
  return Bytes(s.begin(), s.end());
}

TEST(Reassembler, InOrder) {
  Reassembler r;
  EXPECT_EQ(r.add(key(1, 3), 1, bytes("ab"), t0).outcome, ReassemblyOutcome::stored);
  EXPECT_EQ(r.add(key(1, 3), 2, bytes("cd"), t0).outcome, ReassemblyOutcome::stored);
  EXPECT_EQ(r.pending_messages(), 1u);
  EXPECT_EQ(r.buffered_bytes(), 4u);
  const AcceptResult last = r.add(key(1, 3), 3, bytes("e"), t0);
  ASSERT_EQ(last.outcome, ReassemblyOutcome::complete);
  ASSERT_TRUE(last.message.has_value());
  EXPECT_EQ(last.message->payload, bytes("abcde"));
  EXPECT_EQ(last.message->key, key(1, 3));
  EXPECT_EQ(r.pending_messages(), 0u);
  EXPECT_EQ(r.buffered_bytes(), 0u);
  EXPECT_EQ(r.stats().completed, 1u);
}

TEST(Reassembler, AWholeMessagePastOneMessagePayloadIsRejected) {
  ReassemblyLimits limits;
  limits.max_buffered_bytes = 1 << 20;
  Reassembler r(limits);
  const Bytes big(40000, 'x');
  EXPECT_EQ(r.add(key(1, 2), 1, big, t0).outcome, ReassemblyOutcome::stored);
  // 80,000 octets would not fit one message_payload TLV (65,535).
  const AcceptResult second = r.add(key(1, 2), 2, big, t0);
  EXPECT_EQ(second.outcome, ReassemblyOutcome::rejected);
  EXPECT_EQ(second.reason, ReassemblyReason::message_too_long);
  EXPECT_EQ(r.add(key(2, 2), 1, Bytes(70000, 'y'), t0).reason, ReassemblyReason::message_too_long);
  // Up to the limit is fine.
  EXPECT_EQ(r.add(key(1, 2), 2, Bytes(65535 - 40000, 'z'), t0).outcome,
            ReassemblyOutcome::complete);
}

TEST(Reassembler, OutOfOrder) {
  Reassembler r;
  EXPECT_EQ(r.add(key(9, 3), 3, bytes("3"), t0).outcome, ReassemblyOutcome::stored);
  EXPECT_EQ(r.add(key(9, 3), 1, bytes("1"), t0).outcome, ReassemblyOutcome::stored);
  const AcceptResult done = r.add(key(9, 3), 2, bytes("2"), t0);
  ASSERT_EQ(done.outcome, ReassemblyOutcome::complete);
  EXPECT_EQ(done.message->payload, bytes("123"));
}

TEST(Reassembler, DuplicatesAreIgnoredAndCounted) {
  Reassembler r;
  EXPECT_EQ(r.add(key(2, 2), 1, bytes("first"), t0).outcome, ReassemblyOutcome::stored);
  EXPECT_EQ(r.add(key(2, 2), 1, bytes("FIRST"), t0).outcome, ReassemblyOutcome::duplicate);
  EXPECT_EQ(r.add(key(2, 2), 1, bytes("first"), t0).outcome, ReassemblyOutcome::duplicate);
  EXPECT_EQ(r.buffered_bytes(), 5u);
  const AcceptResult done = r.add(key(2, 2), 2, bytes("+second"), t0);
  ASSERT_EQ(done.outcome, ReassemblyOutcome::complete);
  EXPECT_EQ(done.message->payload, bytes("first+second"));  // the first copy is kept
  EXPECT_EQ(done.message->duplicates, 2u);
  EXPECT_EQ(r.stats().duplicates, 2u);
}

TEST(Reassembler, KeysKeepMessagesApart) {
  Reassembler r;
  ReassemblyKey other_scope = key(5, 2);
  other_scope.scope = "bind-2";
  ReassemblyKey other_source = key(5, 2);
  other_source.source = "491702";
  EXPECT_EQ(r.add(key(5, 2), 1, bytes("a"), t0).outcome, ReassemblyOutcome::stored);
  EXPECT_EQ(r.add(other_scope, 2, bytes("x"), t0).outcome, ReassemblyOutcome::stored);
  EXPECT_EQ(r.add(other_source, 2, bytes("y"), t0).outcome, ReassemblyOutcome::stored);
  EXPECT_EQ(r.add(key(5, 3), 2, bytes("z"), t0).outcome, ReassemblyOutcome::stored);  // other total
  EXPECT_EQ(r.pending_messages(), 4u);
  const AcceptResult done = r.add(key(5, 2), 2, bytes("b"), t0);
  ASSERT_EQ(done.outcome, ReassemblyOutcome::complete);
  EXPECT_EQ(done.message->payload, bytes("ab"));
  EXPECT_EQ(r.pending_messages(), 3u);
}

TEST(Reassembler, SinglePartCompletesAtOnce) {
  Reassembler r;
  const AcceptResult done = r.add(key(0, 1), 1, bytes("solo"), t0);
  ASSERT_EQ(done.outcome, ReassemblyOutcome::complete);
  EXPECT_EQ(done.message->payload, bytes("solo"));
  EXPECT_EQ(r.pending_messages(), 0u);
}

TEST(Reassembler, InvalidNumbersAreRejectedWithAReason) {
  ReassemblyLimits limits;
  limits.max_parts = 10;
  Reassembler r(limits);
  const AcceptResult zero_total = r.add(key(1, 0), 1, bytes("a"), t0);
  EXPECT_EQ(zero_total.outcome, ReassemblyOutcome::rejected);
  EXPECT_EQ(zero_total.reason, ReassemblyReason::total_zero);
  EXPECT_EQ(r.add(key(1, 3), 0, bytes("a"), t0).reason, ReassemblyReason::seq_zero);
  EXPECT_EQ(r.add(key(1, 3), 4, bytes("a"), t0).reason, ReassemblyReason::seq_beyond_total);
  const AcceptResult big = r.add(key(1, 11), 1, bytes("a"), t0);
  EXPECT_EQ(big.outcome, ReassemblyOutcome::rejected);
  EXPECT_EQ(big.reason, ReassemblyReason::too_many_parts);
  EXPECT_EQ(r.add(key(1, 10), 1, bytes("a"), t0).outcome, ReassemblyOutcome::stored);
  EXPECT_EQ(r.stats().rejected, 4u);
  EXPECT_EQ(r.pending_messages(), 1u);
}

TEST(Reassembler, ExpireReturnsIncompleteMessagesWithTheirParts) {
  ReassemblyLimits limits;
  limits.timeout = 10s;
  Reassembler r(limits);
  r.add(key(1, 3), 3, bytes("c"), t0);
  r.add(key(1, 3), 1, bytes("a"), t0 + 2s);
  r.add(key(1, 3), 1, bytes("a"), t0 + 3s);  // duplicate
  r.add(key(2, 2), 1, bytes("x"), t0 + 5s);
  EXPECT_EQ(r.next_deadline(), t0 + 10s);

  EXPECT_TRUE(r.expire(t0 + 9999ms).empty());
  const std::vector<IncompleteMessage> gone = r.expire(t0 + 10s);
  ASSERT_EQ(gone.size(), 1u);
  EXPECT_EQ(gone[0].key, key(1, 3));
  EXPECT_EQ(gone[0].first_seen, t0);
  EXPECT_EQ(gone[0].duplicates, 1u);
  ASSERT_EQ(gone[0].parts.size(), 2u);
  EXPECT_EQ(gone[0].parts[0].first, 1);
  EXPECT_EQ(gone[0].parts[0].second, bytes("a"));
  EXPECT_EQ(gone[0].parts[1].first, 3);
  EXPECT_EQ(gone[0].parts[1].second, bytes("c"));
  EXPECT_EQ(r.buffered_bytes(), 1u);
  EXPECT_EQ(r.stats().expired, 1u);
  EXPECT_EQ(r.next_deadline(), t0 + 15s);

  // The expired message's late part starts a new message rather than completing the old one.
  EXPECT_EQ(r.add(key(1, 3), 2, bytes("b"), t0 + 11s).outcome, ReassemblyOutcome::stored);

  const std::vector<IncompleteMessage> rest = r.drain();
  EXPECT_EQ(rest.size(), 2u);
  EXPECT_EQ(r.pending_messages(), 0u);
  EXPECT_EQ(r.buffered_bytes(), 0u);
  EXPECT_FALSE(r.next_deadline().has_value());
}

TEST(Reassembler, ByteLimitOverflowIsReportedAndNothingIsLost) {
  ReassemblyLimits limits;
  limits.max_buffered_bytes = 10;
  limits.timeout = 1s;
  Reassembler r(limits);
  EXPECT_EQ(r.add(key(1, 2), 1, Bytes(6, 'a'), t0).outcome, ReassemblyOutcome::stored);
  const AcceptResult over = r.add(key(2, 2), 1, Bytes(5, 'b'), t0);
  EXPECT_EQ(over.outcome, ReassemblyOutcome::overflow);
  EXPECT_EQ(over.reason, ReassemblyReason::byte_limit);
  EXPECT_EQ(r.buffered_bytes(), 6u);
  EXPECT_EQ(r.pending_messages(), 1u);
  EXPECT_EQ(r.stats().overflowed, 1u);
  // Exactly up to the limit is fine, and completing frees the room.
  EXPECT_EQ(r.add(key(3, 2), 1, Bytes(4, 'c'), t0).outcome, ReassemblyOutcome::stored);
  EXPECT_EQ(r.buffered_bytes(), 10u);
  EXPECT_EQ(r.add(key(1, 2), 2, Bytes(1, 'a'), t0).reason, ReassemblyReason::byte_limit);
  // The message whose part overflowed is not dropped silently: it expires with what it had.
  const std::vector<IncompleteMessage> gone = r.expire(t0 + 1s);
  ASSERT_EQ(gone.size(), 2u);
  EXPECT_EQ(gone[0].key, key(1, 2));
  EXPECT_EQ(gone[0].parts.size(), 1u);
  EXPECT_EQ(r.buffered_bytes(), 0u);
  // A single-part message needs no buffer, whatever the limit.
  ReassemblyLimits tiny;
  tiny.max_buffered_bytes = 0;
  Reassembler t(tiny);
  EXPECT_EQ(t.add(key(1, 1), 1, Bytes(100, 'x'), t0).outcome, ReassemblyOutcome::complete);
  EXPECT_EQ(t.add(key(1, 2), 1, Bytes(1, 'x'), t0).outcome, ReassemblyOutcome::overflow);
}

TEST(Reassembler, PendingMessageLimit) {
  ReassemblyLimits limits;
  limits.max_pending_messages = 2;
  Reassembler r(limits);
  EXPECT_EQ(r.add(key(1, 2), 1, bytes("a"), t0).outcome, ReassemblyOutcome::stored);
  EXPECT_EQ(r.add(key(2, 2), 1, bytes("a"), t0).outcome, ReassemblyOutcome::stored);
  const AcceptResult over = r.add(key(3, 2), 1, bytes("a"), t0);
  EXPECT_EQ(over.outcome, ReassemblyOutcome::overflow);
  EXPECT_EQ(over.reason, ReassemblyReason::message_limit);
  // Parts of messages already held still go in.
  EXPECT_EQ(r.add(key(1, 2), 2, bytes("b"), t0).outcome, ReassemblyOutcome::complete);
  EXPECT_EQ(r.add(key(3, 2), 1, bytes("a"), t0).outcome, ReassemblyOutcome::stored);
}

// ---- from PDUs ----

DeliverSm part_sm(const Bytes& short_message, uint8_t esm) {
  DeliverSm sm;
  sm.source_addr = "491701";
  sm.destination_addr = "4930";
  sm.esm_class = esm;
  sm.short_message.assign(std::span<const uint8_t>(short_message));
  return sm;
}

TEST(ReassemblerSm, UdhPartsWithPortAddressingOutOfOrder) {
  Reassembler r;
  // Port addressing (IEI 0x05) beside the concatenation element, 16-bit reference.
  const Bytes p2{0x0C, 0x05, 0x04, 0x0B, 0x84, 0x23, 0xF0, 0x08,
                 0x04, 0x01, 0x02, 0x02, 0x02, 'l',  'd'};
  const Bytes p1{0x0C, 0x05, 0x04, 0x0B, 0x84, 0x23, 0xF0, 0x08,
                 0x04, 0x01, 0x02, 0x02, 0x01, 'w',  'o',  'r'};
  EXPECT_EQ(r.add_sm("s", part_sm(p2, 0x40), t0).outcome, ReassemblyOutcome::stored);
  EXPECT_EQ(r.add_sm("s", part_sm(p2, 0x40), t0).outcome, ReassemblyOutcome::duplicate);
  const AcceptResult done = r.add_sm("s", part_sm(p1, 0x40), t0);
  ASSERT_EQ(done.outcome, ReassemblyOutcome::complete);
  EXPECT_EQ(done.message->payload, bytes("world"));
  EXPECT_EQ(done.message->key.reference, 0x0102);
  EXPECT_EQ(done.message->key.total, 2);
  EXPECT_EQ(done.message->key.source, "491701");
  EXPECT_EQ(done.message->duplicates, 1u);
}

TEST(ReassemblerSm, SarParts) {
  Reassembler r;
  DeliverSm a = part_sm(bytes("Hel"), 0);
  a.tlvs.set(tlv::sar_msg_ref_num, uint16_t{777});
  a.tlvs.set(tlv::sar_total_segments, uint8_t{2});
  a.tlvs.set(tlv::sar_segment_seqnum, uint8_t{1});
  DeliverSm b = a;
  b.short_message = "lo";
  b.tlvs.set(tlv::sar_segment_seqnum, uint8_t{2});
  EXPECT_EQ(r.add_sm("s", b, t0).outcome, ReassemblyOutcome::stored);
  const AcceptResult done = r.add_sm("s", a, t0);
  ASSERT_EQ(done.outcome, ReassemblyOutcome::complete);
  EXPECT_EQ(done.message->payload, bytes("Hello"));
}

TEST(ReassemblerSm, PlainMessagesCompleteAtOnce) {
  Reassembler r;
  const AcceptResult plain = r.add_sm("s", part_sm(bytes("hi"), 0), t0);
  ASSERT_EQ(plain.outcome, ReassemblyOutcome::complete);
  EXPECT_EQ(plain.message->payload, bytes("hi"));
  // A UDH without concatenation: the payload comes without the UDH.
  const AcceptResult ported =
      r.add_sm("s", part_sm(Bytes{0x04, 0x04, 0x02, 0x10, 0x20, 'o', 'k'}, 0x40), t0);
  ASSERT_EQ(ported.outcome, ReassemblyOutcome::complete);
  EXPECT_EQ(ported.message->payload, bytes("ok"));
  // message_payload when short_message is empty.
  DeliverSm big = part_sm(Bytes{}, 0);
  const Bytes long_text(400, 'L');
  big.tlvs.set(tlv::message_payload, std::span<const uint8_t>(long_text));
  const AcceptResult payload = r.add_sm("s", big, t0);
  ASSERT_EQ(payload.outcome, ReassemblyOutcome::complete);
  EXPECT_EQ(payload.message->payload, long_text);
}

TEST(ReassemblerSm, MalformedConcatenationIsRejected) {
  Reassembler r;
  const AcceptResult bad_udh = r.add_sm("s", part_sm(Bytes{0x05, 0x00, 0x03, 0x01}, 0x40), t0);
  EXPECT_EQ(bad_udh.outcome, ReassemblyOutcome::rejected);
  EXPECT_EQ(bad_udh.reason, ReassemblyReason::malformed_udh);

  DeliverSm partial = part_sm(bytes("x"), 0);
  partial.tlvs.set(tlv::sar_msg_ref_num, uint16_t{1});
  EXPECT_EQ(r.add_sm("s", partial, t0).reason, ReassemblyReason::partial_sar);

  DeliverSm both = part_sm(Bytes{0x05, 0x00, 0x03, 0x01, 0x02, 0x01, 'x'}, 0x40);
  both.tlvs.set(tlv::sar_msg_ref_num, uint16_t{1});
  both.tlvs.set(tlv::sar_total_segments, uint8_t{2});
  both.tlvs.set(tlv::sar_segment_seqnum, uint8_t{1});
  EXPECT_EQ(r.add_sm("s", both, t0).reason, ReassemblyReason::udh_and_sar);

  EXPECT_EQ(r.add_sm("s", part_sm(Bytes{0x05, 0x00, 0x03, 0x01, 0x00, 0x01}, 0x40), t0).reason,
            ReassemblyReason::total_zero);
  EXPECT_EQ(r.add_sm("s", part_sm(Bytes{0x05, 0x00, 0x03, 0x01, 0x02, 0x03}, 0x40), t0).reason,
            ReassemblyReason::seq_beyond_total);
  EXPECT_EQ(r.pending_messages(), 0u);
}

TEST(ReassemblerSm, RoundTripThroughSegment) {
  const EncodedText text = encode_text(std::string(400, 'q') + "€😀");
  ASSERT_TRUE(text.ok());
  SegmentOptions o;
  o.method = ConcatMethod::udh16;
  o.reference = 4242;
  const Segmented s = segment(text.bytes, text.alphabet, o);
  SubmitSm tmpl;
  tmpl.source_addr = "A";
  tmpl.destination_addr = "B";
  const std::vector<SubmitSm> sms = make_submits(s, tmpl, text.data_coding);
  ASSERT_GT(sms.size(), 2u);
  Reassembler r;
  std::optional<CompleteMessage> done;
  for (std::size_t i = sms.size(); i-- > 0;) {  // last part first
    AcceptResult res = r.add_sm("s", sms[i], t0);
    if (res.outcome == ReassemblyOutcome::complete) done = std::move(res.message);
  }
  ASSERT_TRUE(done.has_value());
  EXPECT_EQ(done->payload, text.bytes);
  EXPECT_EQ(decode_message(done->payload, text.data_coding).text, std::string(400, 'q') + "€😀");
}

}  // namespace
}  // namespace smpp
