#include "api/message/message_build.hpp"

#include <gtest/gtest.h>

#include <string>

#include "smpp/codec.hpp"

namespace smppd::api {
namespace {

using namespace std::chrono_literals;
using std::chrono::sys_days;

const std::chrono::sys_seconds kNow = sys_days(2026y / std::chrono::June / 1);

MessageRequest request(std::string_view body) {
  auto r = parse_message_request(body, kNow);
  if (auto* e = std::get_if<FieldError>(&r)) {
    ADD_FAILURE() << body << "\n  -> " << e->field << ": " << e->detail;
    return {};
  }
  return std::get<MessageRequest>(std::move(r));
}

std::string with(std::string_view extra) {
  return R"({"to": "+258841234567", "from": "MYAPP", )" + std::string(extra) + "}";
}

// The submit_sm PDUs for the request's first recipient, each checked to survive the wire: encoded
// and decoded back to the same PDU.
BuiltMessage build(const MessageRequest& m, const BuildOptions& options = {}) {
  auto r = build_submits(m, m.to.at(0), options);
  if (auto* e = std::get_if<FieldError>(&r)) {
    ADD_FAILURE() << e->field << ": " << e->detail;
    return {};
  }
  BuiltMessage built = std::get<BuiltMessage>(std::move(r));
  for (const smpp::Pdu& pdu : built.pdus) {
    const std::vector<uint8_t> wire = smpp::encode(pdu);
    smpp::Pdu back;
    smpp::DecodeError error;
    EXPECT_TRUE(smpp::decode(wire, back, error));
    const smpp::SubmitSm* sent = back.as<smpp::SubmitSm>();
    EXPECT_TRUE(sent && *sent == *pdu.as<smpp::SubmitSm>());
  }
  return built;
}

const smpp::SubmitSm& part(const BuiltMessage& b, std::size_t i) {
  return *b.pdus.at(i).as<smpp::SubmitSm>();
}

std::vector<uint8_t> head(const smpp::SubmitSm& sm, std::size_t n) {
  const auto b = sm.short_message.bytes();
  return {b.begin(), b.begin() + static_cast<std::ptrdiff_t>(std::min(n, b.size()))};
}

TEST(MessageBuild, OneGsmPart) {
  const BuiltMessage b = build(request(with(R"("text": "Hello", "registered_delivery": true)")));
  ASSERT_EQ(b.pdus.size(), 1u);
  EXPECT_EQ(b.parts, 1u);
  const smpp::SubmitSm& sm = part(b, 0);
  EXPECT_EQ(sm.data_coding, 0);
  EXPECT_EQ(sm.esm_class, 0);
  EXPECT_EQ(sm.short_message.view(), "Hello");
  EXPECT_EQ(sm.registered_delivery, 1);
  EXPECT_EQ(sm.source_addr, "MYAPP");
  EXPECT_EQ(sm.source_addr_ton, 5);
  EXPECT_EQ(sm.source_addr_npi, 0);
  EXPECT_EQ(sm.destination_addr, "258841234567");
  EXPECT_EQ(sm.dest_addr_ton, 1);
  EXPECT_EQ(sm.dest_addr_npi, 1);
  EXPECT_TRUE(sm.schedule_delivery_time.empty());
  EXPECT_TRUE(sm.validity_period.empty());
  EXPECT_EQ(b.pdus[0].sequence_number, 0u);
}

TEST(MessageBuild, EachRecipientWithItsOwnTon) {
  const MessageRequest m = request(R"({"to": ["+4477", "0841"], "from": "12345", "text": "x"})");
  const auto first = std::get<BuiltMessage>(build_submits(m, m.to[0]));
  const auto second = std::get<BuiltMessage>(build_submits(m, m.to[1]));
  EXPECT_EQ(part(first, 0).destination_addr, "4477");
  EXPECT_EQ(part(first, 0).dest_addr_ton, 1);
  EXPECT_EQ(part(second, 0).destination_addr, "0841");
  EXPECT_EQ(part(second, 0).dest_addr_ton, 0);
  EXPECT_EQ(part(second, 0).dest_addr_npi, 1);
  // A short code: TON unknown, NPI ISDN.
  EXPECT_EQ(part(first, 0).source_addr, "12345");
  EXPECT_EQ(part(first, 0).source_addr_ton, 0);
  EXPECT_EQ(part(first, 0).source_addr_npi, 1);
}

TEST(MessageBuild, EmojiGoesAsUcs2) {
  const BuiltMessage b = build(request(with(R"("text": "\ud83d\ude00")")));
  ASSERT_EQ(b.pdus.size(), 1u);
  EXPECT_EQ(part(b, 0).data_coding, 8);
  EXPECT_EQ(part(b, 0).short_message.size(), 4u);
}

TEST(MessageBuild, LongGsmTextInTwoPartsWithAn8BitUdh) {
  const BuiltMessage b = build(
      request(with(R"("text": ")" + std::string(161, 'a') + R"(", "registered_delivery": true)")),
      {.reference = 0x1234});
  ASSERT_EQ(b.pdus.size(), 2u);
  EXPECT_EQ(b.parts, 2u);
  // 05 00 03 ref total seq; udh8 keeps the reference's low 8 bits.
  EXPECT_EQ(head(part(b, 0), 6), (std::vector<uint8_t>{0x05, 0x00, 0x03, 0x34, 0x02, 0x01}));
  EXPECT_EQ(head(part(b, 1), 6), (std::vector<uint8_t>{0x05, 0x00, 0x03, 0x34, 0x02, 0x02}));
  EXPECT_EQ(part(b, 0).short_message.size(), 6u + 153u);
  EXPECT_EQ(part(b, 1).short_message.size(), 6u + 8u);
  for (std::size_t i = 0; i < 2; ++i) {
    EXPECT_EQ(part(b, i).esm_class, smpp::esm_class::kUdhi);
    EXPECT_EQ(part(b, i).registered_delivery, 1);  // on every part
    EXPECT_EQ(part(b, i).data_coding, 0);
  }
}

TEST(MessageBuild, ConcatenationMethods) {
  const MessageRequest m = request(with(R"("text": ")" + std::string(306, 'a') + "\""));
  // 306 septets: 2 parts of 153 with an 8-bit reference, 3 of at most 152 with a 16-bit one.
  BuiltMessage b = build(m, {.method = smpp::ConcatMethod::udh16, .reference = 0x1234});
  ASSERT_EQ(b.pdus.size(), 3u);
  EXPECT_EQ(head(part(b, 2), 7), (std::vector<uint8_t>{0x06, 0x08, 0x04, 0x12, 0x34, 0x03, 0x03}));

  b = build(m, {.method = smpp::ConcatMethod::sar, .reference = 0x1234});
  ASSERT_EQ(b.pdus.size(), 2u);
  for (std::size_t i = 0; i < 2; ++i) {
    const smpp::SubmitSm& sm = part(b, i);
    EXPECT_EQ(sm.esm_class, 0);
    EXPECT_EQ(sm.short_message.size(), 153u);
    EXPECT_EQ(sm.tlvs.get(smpp::tlv::sar_msg_ref_num), 0x1234);
    EXPECT_EQ(sm.tlvs.get(smpp::tlv::sar_total_segments), 2);
    EXPECT_EQ(sm.tlvs.get(smpp::tlv::sar_segment_seqnum), i + 1);
  }

  b = build(m, {.method = smpp::ConcatMethod::payload});
  ASSERT_EQ(b.pdus.size(), 1u);
  EXPECT_EQ(b.parts, 2u);  // what the SMSC will cut it into
  EXPECT_TRUE(part(b, 0).short_message.empty());
  EXPECT_EQ(part(b, 0).tlvs.find(smpp::tlv::message_payload.tag)->size(), 306u);

  EXPECT_EQ(std::get<std::size_t>(count_parts(m)), 2u);
  EXPECT_EQ(std::get<std::size_t>(count_parts(m, {.method = smpp::ConcatMethod::udh16})), 3u);
  EXPECT_EQ(std::get<std::size_t>(count_parts(m, {.method = smpp::ConcatMethod::sar})), 2u);
}

TEST(MessageBuild, TooManyParts) {
  const MessageRequest m = request(with(R"("text": ")" + std::string(161, 'a') + "\""));
  const FieldError expected{"text", "needs 2 parts, at most 1"};
  EXPECT_EQ(std::get<FieldError>(count_parts(m, {.max_parts = 1})), expected);
  EXPECT_EQ(std::get<FieldError>(build_submits(m, m.to[0], {.max_parts = 1})), expected);
  // Within the parser's limit with an 8-bit reference, beyond it with a 16-bit one.
  const MessageRequest ten = request(with(R"("text": ")" + std::string(1530, 'a') + "\""));
  EXPECT_EQ(std::get<FieldError>(count_parts(ten, {.method = smpp::ConcatMethod::udh16})),
            (FieldError{"text", "needs 11 parts, at most 10"}));
}

TEST(MessageBuild, LongBinaryIsConcatenatedToo) {
  const BuiltMessage b = build(request(with(R"("binary": ")" + std::string(2 * 200, 'f') + "\"")));
  ASSERT_EQ(b.pdus.size(), 2u);
  EXPECT_EQ(part(b, 0).data_coding, 4);
  EXPECT_EQ(part(b, 0).esm_class, smpp::esm_class::kUdhi);
  EXPECT_EQ(part(b, 0).short_message.size(), 6u + 134u);
  EXPECT_EQ(part(b, 1).short_message.size(), 6u + 66u);
}

TEST(MessageBuild, BinaryWithItsOwnUdhIsSentAsGiven) {
  const MessageRequest m = request(with(R"("binary": "cafe", "udh": "0605040b8423f0")"));
  for (auto method : {smpp::ConcatMethod::udh8, smpp::ConcatMethod::payload}) {
    const BuiltMessage b = build(m, {.method = method});
    ASSERT_EQ(b.pdus.size(), 1u);
    EXPECT_EQ(b.parts, 1u);
    const smpp::SubmitSm& sm = part(b, 0);
    EXPECT_EQ(sm.esm_class, smpp::esm_class::kUdhi);
    EXPECT_EQ(sm.data_coding, 4);
    EXPECT_EQ(head(sm, 99),
              (std::vector<uint8_t>{0x06, 0x05, 0x04, 0x0B, 0x84, 0x23, 0xF0, 0xCA, 0xFE}));
    EXPECT_TRUE(sm.tlvs.empty());
  }
}

TEST(MessageBuild, ScheduleAndValidityAreAbsoluteUtc) {
  const BuiltMessage b = build(
      request(with(R"("text": "x", "schedule": "2026-12-24T18:00:00+02:00", "validity": "1h")")));
  EXPECT_EQ(part(b, 0).schedule_delivery_time, "261224160000000+");
  EXPECT_EQ(part(b, 0).validity_period, "261224170000000+");
  // Without a schedule, validity counts from when the request was accepted.
  const BuiltMessage now = build(request(with(R"("text": "x", "validity": 90)")));
  EXPECT_TRUE(part(now, 0).schedule_delivery_time.empty());
  EXPECT_EQ(part(now, 0).validity_period, "260601000130000+");
}

TEST(MessageBuild, PriorityFlagOnEveryPart) {
  MessageRequest m = request(with(R"("text": ")" + std::string(200, 'a') + R"(")"));
  EXPECT_EQ(part(build(m), 0).priority_flag, 0);  // the JSON body does not set it
  m.priority_flag = 3;                            // Kannel's priority, Jasmin's
  const BuiltMessage b = build(m);
  ASSERT_EQ(b.pdus.size(), 2u);
  EXPECT_EQ(part(b, 0).priority_flag, 3);
  EXPECT_EQ(part(b, 1).priority_flag, 3);
}

TEST(MessageBuild, AHandMadeRequestWithTooLongAnAddress) {
  MessageRequest m = request(with(R"("text": "x")"));
  EXPECT_EQ(std::get<FieldError>(build_submits(m, {std::string(21, '1'), 1, 1})),
            (FieldError{"to", "longer than 20 characters"}));
  m.from.value = std::string(21, 'A');
  EXPECT_EQ(std::get<FieldError>(build_submits(m, m.to[0])),
            (FieldError{"from", "longer than 20 characters"}));
}

}  // namespace
}  // namespace smppd::api
