#include "smpp/receipt.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "smpp/codec.hpp"

using namespace smpp;

namespace {

std::span<const uint8_t> bytes_of(std::string_view s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

DeliverSm receipt_pdu(std::string_view text, uint8_t esm = esm_class::kDeliveryReceipt) {
  DeliverSm d;
  d.esm_class = esm;
  d.short_message = ShortMessage(text);
  return d;
}

constexpr std::string_view kStandard =
    "id:0123456789 sub:001 dlvrd:001 submit date:2301151230 done date:2301151231 stat:DELIVRD "
    "err:000 text:Hello world";

}  // namespace

// ---- esm_class and states ----

TEST(ReceiptKind, EsmClassMessageTypeBits) {
  EXPECT_TRUE(is_receipt(0x04));
  EXPECT_TRUE(is_receipt(0x04 | 0x40 | 0x03));  // UDHI and mode bits do not matter
  EXPECT_FALSE(is_receipt(0x00));
  EXPECT_FALSE(is_receipt(0x08));  // SME delivery ack
  EXPECT_FALSE(is_receipt(0x20));  // intermediate notification is reported apart
  EXPECT_FALSE(is_receipt(0x24));  // bits 5-2 = 1001: neither
  EXPECT_EQ(receipt_kind(0x04), ReceiptKind::delivery_receipt);
  EXPECT_EQ(receipt_kind(0x20), ReceiptKind::intermediate_notification);
  EXPECT_EQ(receipt_kind(0x10), ReceiptKind::none);
  EXPECT_EQ(receipt_kind(0x3C), ReceiptKind::none);
}

TEST(MessageState, StatWordsBothWays) {
  const std::vector<std::pair<std::string_view, MessageState>> words = {
      {"SCHEDULED", MessageState::scheduled}, {"ENROUTE", MessageState::enroute},
      {"DELIVRD", MessageState::delivered},   {"EXPIRED", MessageState::expired},
      {"DELETED", MessageState::deleted},     {"UNDELIV", MessageState::undeliverable},
      {"ACCEPTD", MessageState::accepted},    {"UNKNOWN", MessageState::unknown},
      {"REJECTD", MessageState::rejected},    {"SKIPPED", MessageState::skipped},
  };
  for (const auto& [word, state] : words) {
    EXPECT_EQ(stat_word(state), word);
    EXPECT_EQ(message_state_from_stat(word), state) << word;
  }
  for (uint8_t v = 0; v <= 9; ++v) {
    ASSERT_TRUE(message_state_from_value(v));
    EXPECT_EQ(static_cast<uint8_t>(*message_state_from_value(v)), v);
  }
  EXPECT_FALSE(message_state_from_value(10));
  EXPECT_FALSE(message_state_from_value(0xFF));
  EXPECT_EQ(static_cast<int>(MessageState::delivered), 2);
  EXPECT_EQ(static_cast<int>(MessageState::rejected), 8);
}

TEST(MessageState, LenientStatWords) {
  EXPECT_EQ(message_state_from_stat("delivrd"), MessageState::delivered);
  EXPECT_EQ(message_state_from_stat(" Delivered "), MessageState::delivered);
  EXPECT_EQ(message_state_from_stat("UNDELIVERABLE"), MessageState::undeliverable);
  EXPECT_EQ(message_state_from_stat("rejected"), MessageState::rejected);
  EXPECT_EQ(message_state_from_stat("FAILED"), MessageState::unknown);
  EXPECT_EQ(message_state_from_stat(""), MessageState::unknown);
  EXPECT_EQ(message_state_from_stat("DELIVRDX"), MessageState::unknown);
  EXPECT_TRUE(is_final(MessageState::delivered));
  EXPECT_TRUE(is_final(MessageState::accepted));
  EXPECT_FALSE(is_final(MessageState::enroute));
  EXPECT_FALSE(is_final(MessageState::scheduled));
}

// ---- text parsing ----

TEST(ReceiptText, StandardFormat) {
  auto r = parse_receipt_text(kStandard);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->id, "0123456789");
  EXPECT_EQ(r->text_id, "0123456789");
  EXPECT_EQ(r->sub, "001");
  EXPECT_EQ(r->dlvrd, "001");
  EXPECT_EQ(r->submit_date, "2301151230");
  EXPECT_EQ(r->done_date, "2301151231");
  EXPECT_EQ(r->stat, "DELIVRD");
  EXPECT_EQ(r->state, MessageState::delivered);
  EXPECT_EQ(r->err, "000");
  EXPECT_EQ(r->text, "Hello world");
  ASSERT_TRUE(r->submit_time());
  EXPECT_EQ(r->submit_time()->year, 23);
  EXPECT_EQ(r->submit_time()->month, 1);
  EXPECT_EQ(r->submit_time()->day, 15);
  EXPECT_EQ(r->submit_time()->hour, 12);
  EXPECT_EQ(r->submit_time()->minute, 30);
  ASSERT_TRUE(r->done_time());
  EXPECT_EQ(r->done_time()->minute, 31);
  EXPECT_FALSE(r->receipted_message_id);
  EXPECT_FALSE(r->message_state_value);
}

TEST(ReceiptText, HexIdCapitalTextKeyAndSecondsInDates) {
  auto r = parse_receipt_text(
      "id:7F3A9B2C sub:001 dlvrd:000 submit date:230115123005 done date:230115123159 "
      "stat:UNDELIV err:034 Text:Bonjour");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->id, "7F3A9B2C");
  EXPECT_EQ(r->state, MessageState::undeliverable);
  EXPECT_EQ(r->err, "034");
  EXPECT_EQ(r->text, "Bonjour");
  ASSERT_TRUE(r->submit_time());
  EXPECT_EQ(r->submit_time()->second, 5);
  ASSERT_TRUE(r->done_time());
  EXPECT_EQ(r->done_time()->second, 59);
}

TEST(ReceiptText, SixtyFiveCharacterId) {
  const std::string id(65, 'a');
  auto r = parse_receipt_text("id:" + id + " stat:DELIVRD");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->id, id);
  // One more is not an id but garbage.
  EXPECT_FALSE(parse_receipt_text("id:" + id + "b stat:DELIVRD"));
}

TEST(ReceiptText, UuidLikeId) {
  auto r = parse_receipt_text("id:6f1c2e0a-4b7d-4c1e-9a3f-0d2b5e7c8a91 stat:EXPIRED err:000");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->id, "6f1c2e0a-4b7d-4c1e-9a3f-0d2b5e7c8a91");
  EXPECT_EQ(r->state, MessageState::expired);
}

TEST(ReceiptText, KeysInAnyCaseUnderscoresAndOrder) {
  auto r = parse_receipt_text(
      "STAT:REJECTD ID:42 Submit_Date:2402291200 DONE_DATE:2402291201 Err:099 SUB:001 "
      "DLVRD:000 TEXT:x");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->id, "42");
  EXPECT_EQ(r->state, MessageState::rejected);
  EXPECT_EQ(r->submit_date, "2402291200");
  EXPECT_EQ(r->done_date, "2402291201");
  EXPECT_EQ(r->err, "099");
  EXPECT_EQ(r->sub, "001");
  EXPECT_EQ(r->dlvrd, "000");
  EXPECT_EQ(r->text, "x");
  ASSERT_TRUE(r->submit_time());  // 2024-02-29 exists
}

TEST(ReceiptText, ExtraSpacesAroundKeysAndValues) {
  auto r = parse_receipt_text(
      "  id: 98765   sub : 001  dlvrd:  001 submit   date:2301151230 done  date : 2301151231 "
      "stat:  DELIVRD err: 000  text:  Hi there  ");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->id, "98765");
  EXPECT_EQ(r->sub, "001");
  EXPECT_EQ(r->dlvrd, "001");
  EXPECT_EQ(r->submit_date, "2301151230");
  EXPECT_EQ(r->done_date, "2301151231");
  EXPECT_EQ(r->state, MessageState::delivered);
  EXPECT_EQ(r->err, "000");
  EXPECT_EQ(r->text, "Hi there  ");
}

TEST(ReceiptText, MissingFields) {
  auto r = parse_receipt_text("id:abc stat:DELIVRD");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->id, "abc");
  EXPECT_EQ(r->sub, "");
  EXPECT_EQ(r->submit_date, "");
  EXPECT_FALSE(r->submit_time());
  EXPECT_EQ(r->err, "");
  EXPECT_EQ(r->text, "");
  EXPECT_EQ(r->state, MessageState::delivered);

  auto no_stat = parse_receipt_text("id:abc err:000");
  ASSERT_TRUE(no_stat);
  EXPECT_EQ(no_stat->state, MessageState::unknown);
}

TEST(ReceiptText, EmptyValueDoesNotSwallowNextKey) {
  auto r = parse_receipt_text("id:77 sub: dlvrd:001 stat:DELIVRD err: text:");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->sub, "");
  EXPECT_EQ(r->dlvrd, "001");
  EXPECT_EQ(r->err, "");
  EXPECT_EQ(r->text, "");
}

TEST(ReceiptText, TextIsReadToTheEndEvenWithKeysInside) {
  auto r = parse_receipt_text("id:1 stat:DELIVRD text:id:999 stat:EXPIRED");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->id, "1");
  EXPECT_EQ(r->state, MessageState::delivered);
  EXPECT_EQ(r->text, "id:999 stat:EXPIRED");
}

TEST(ReceiptText, UnknownStatAndUnknownKeys) {
  auto r = parse_receipt_text("id:5 foo:bar stat:WHATEVER dest:123 err:1");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->stat, "WHATEVER");
  EXPECT_EQ(r->state, MessageState::unknown);
  EXPECT_EQ(r->err, "1");
}

TEST(ReceiptText, KeysMustStartATokenAndHaveAColon) {
  // "paid:" and "valid:" end in "id:" but are not the id key; "id 5" has no colon.
  EXPECT_FALSE(parse_receipt_text("paid:10 valid:yes id 5 stat:DELIVRD"));
  auto r = parse_receipt_text("paid:10 id:11");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->id, "11");
}

TEST(ReceiptText, NulPaddingAndLineBreaks) {
  const std::string s = std::string("id:12\r\nstat:DELIVRD\ntext:ok") + std::string(3, '\0');
  auto r = parse_receipt_text(s);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->id, "12");
  EXPECT_EQ(r->state, MessageState::delivered);
  EXPECT_EQ(r->text, "ok");
}

TEST(ReceiptText, FirstOfDuplicateKeysWins) {
  auto r = parse_receipt_text("id:first id:second stat:DELIVRD stat:EXPIRED");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->id, "first");
  EXPECT_EQ(r->state, MessageState::delivered);
}

TEST(ReceiptText, InvalidDatesAreKeptAsTextButNotTimes) {
  auto r = parse_receipt_text("id:1 submit date:2313011200 done date:23010112 stat:DELIVRD");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->submit_date, "2313011200");
  EXPECT_FALSE(r->submit_time());                   // month 13
  EXPECT_FALSE(r->done_time());                     // 8 digits
  EXPECT_FALSE(parse_receipt_date("2302291200"));   // 2023 is not a leap year
  EXPECT_FALSE(parse_receipt_date("23011512300"));  // 11 digits
  EXPECT_FALSE(parse_receipt_date("230115123a"));
  EXPECT_FALSE(parse_receipt_date("2301152400"));
  EXPECT_TRUE(parse_receipt_date("2402291200"));
}

TEST(ReceiptText, NoIdIsNotAReceipt) {
  EXPECT_FALSE(parse_receipt_text(""));
  EXPECT_FALSE(parse_receipt_text("   "));
  EXPECT_FALSE(parse_receipt_text("Hello, how are you?"));
  EXPECT_FALSE(parse_receipt_text("sub:001 dlvrd:001 stat:DELIVRD"));
  EXPECT_FALSE(parse_receipt_text("id:"));
  EXPECT_FALSE(parse_receipt_text("id: stat:DELIVRD"));
  EXPECT_FALSE(parse_receipt_text("id:\x01\x02 stat:DELIVRD"));
  EXPECT_FALSE(parse_receipt_text("text:id:123"));  // the id is inside the text
}

TEST(ReceiptText, GarbageNeverCrashes) {
  // Every prefix of a receipt and a spread of awkward byte strings.
  const std::string full(kStandard);
  for (std::size_t n = 0; n <= full.size(); ++n) {
    (void)parse_receipt_text(std::string_view(full).substr(0, n));
    (void)rewrite_receipt_id(std::string_view(full).substr(0, n), "X");
  }
  const std::vector<std::string> garbage = {
      ":",
      "id",
      "id:",
      ":::::",
      "submit",
      "submit date",
      "done_",
      "text",
      "Text:",
      "id :",
      "\xff\xfe",
      std::string(300, ':'),
      "submit_ _ _",
      std::string(1000, ' '),
      std::string("\0\0id:1", 6),
  };
  for (const std::string& g : garbage) {
    (void)parse_receipt_text(g);
    (void)rewrite_receipt_id(g, "X");
  }
  std::string noise;
  uint32_t x = 12345;
  for (int i = 0; i < 4000; ++i) {
    x = x * 1103515245 + 12345;
    noise.push_back(static_cast<char>(x >> 16));
    (void)parse_receipt_text(noise);
  }
  auto r = parse_receipt_text(std::string(std::string_view("id:1\0 stat:DELIVRD", 18)));
  ASSERT_TRUE(r);  // the NUL separates like a space
  EXPECT_EQ(r->state, MessageState::delivered);
}

// ---- PDUs ----

TEST(ReceiptPdu, ReadsShortMessageText) {
  auto r = parse_receipt(receipt_pdu(kStandard));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->kind, ReceiptKind::delivery_receipt);
  EXPECT_EQ(r->id, "0123456789");
  EXPECT_EQ(r->state, MessageState::delivered);
}

TEST(ReceiptPdu, NotAReceiptWithoutTheEsmClassBits) {
  EXPECT_FALSE(parse_receipt(receipt_pdu(kStandard, 0x00)));
  EXPECT_FALSE(parse_receipt(receipt_pdu(kStandard, esm_class::kDeliveryAck)));
}

TEST(ReceiptPdu, IntermediateNotificationIsReportedDistinctly) {
  auto r =
      parse_receipt(receipt_pdu("id:9 stat:ENROUTE err:000", esm_class::kIntermediateNotification));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->kind, ReceiptKind::intermediate_notification);
  EXPECT_EQ(r->state, MessageState::enroute);
}

TEST(ReceiptPdu, TlvsArePreferredOverTheText) {
  DeliverSm d = receipt_pdu(kStandard);
  d.tlvs.set(tlv::receipted_message_id, "7F3A9B2C");
  d.tlvs.set(tlv::message_state, uint8_t{5});
  const uint8_t nec[3] = {3, 0x00, 0x22};
  d.tlvs.set(tlv::network_error_code, std::span<const uint8_t>(nec));
  auto r = parse_receipt(d);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->id, "7F3A9B2C");
  EXPECT_EQ(r->text_id, "0123456789");
  EXPECT_EQ(r->receipted_message_id, "7F3A9B2C");
  EXPECT_EQ(r->state, MessageState::undeliverable);
  EXPECT_EQ(r->stat, "DELIVRD");  // the text as written stays visible
  EXPECT_EQ(r->message_state_value, 5);
  ASSERT_TRUE(r->network_error);
  EXPECT_EQ(r->network_error->network_type, 3);
  EXPECT_EQ(r->network_error->error_code, 0x22);
  EXPECT_EQ(r->text, "Hello world");
}

TEST(ReceiptPdu, TlvsAloneAreEnough) {
  DeliverSm d;
  d.esm_class = esm_class::kDeliveryReceipt;
  d.tlvs.set(tlv::receipted_message_id, "abc123");
  d.tlvs.set(tlv::message_state, uint8_t{2});
  auto r = parse_receipt(d);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->id, "abc123");
  EXPECT_EQ(r->text_id, "");
  EXPECT_EQ(r->state, MessageState::delivered);
}

TEST(ReceiptPdu, OutOfRangeStateTlvKeepsTheTextState) {
  DeliverSm d = receipt_pdu("id:1 stat:EXPIRED");
  d.tlvs.set(tlv::message_state, uint8_t{42});
  auto r = parse_receipt(d);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->message_state_value, 42);
  EXPECT_EQ(r->state, MessageState::expired);
}

TEST(ReceiptPdu, EmptyOrBadTlvIdFallsBackToTheText) {
  DeliverSm d = receipt_pdu("id:55 stat:DELIVRD");
  d.tlvs.set(tlv::receipted_message_id, "");
  auto r = parse_receipt(d);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->id, "55");

  DeliverSm only_bad_tlv;
  only_bad_tlv.esm_class = esm_class::kDeliveryReceipt;
  only_bad_tlv.tlvs.set(tlv::receipted_message_id, "has space");
  EXPECT_FALSE(parse_receipt(only_bad_tlv));
}

TEST(ReceiptPdu, MalformedNetworkErrorCodeIsIgnored) {
  DeliverSm d = receipt_pdu("id:1 stat:UNDELIV");
  const uint8_t two[2] = {3, 1};
  d.tlvs.set(tlv::network_error_code, std::span<const uint8_t>(two));
  auto r = parse_receipt(d);
  ASSERT_TRUE(r);
  EXPECT_FALSE(r->network_error);
}

TEST(ReceiptPdu, MessagePayloadOfDeliverSmAndDataSm) {
  DeliverSm d;
  d.esm_class = esm_class::kDeliveryReceipt;
  d.tlvs.set(tlv::message_payload, bytes_of(kStandard));
  auto r = parse_receipt(d);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->id, "0123456789");

  DataSm ds;
  ds.esm_class = esm_class::kDeliveryReceipt;
  ds.tlvs.set(tlv::message_payload, bytes_of("id:AB12 stat:expired"));
  auto rd = parse_receipt(ds);
  ASSERT_TRUE(rd);
  EXPECT_EQ(rd->id, "AB12");
  EXPECT_EQ(rd->state, MessageState::expired);

  DataSm tlv_only;
  tlv_only.esm_class = esm_class::kDeliveryReceipt;
  tlv_only.tlvs.set(tlv::receipted_message_id, "XYZ");
  tlv_only.tlvs.set(tlv::message_state, uint8_t{8});
  auto rt = parse_receipt(tlv_only);
  ASSERT_TRUE(rt);
  EXPECT_EQ(rt->id, "XYZ");
  EXPECT_EQ(rt->state, MessageState::rejected);

  DataSm not_receipt = ds;
  not_receipt.esm_class = 0;
  EXPECT_FALSE(parse_receipt(not_receipt));
}

// receipt_key reads what parse_receipt reads (id and state), for every case above.
TEST(ReceiptPdu, ReceiptKeyAgreesWithParseReceipt) {
  std::vector<DeliverSm> cases;
  cases.push_back(receipt_pdu(kStandard));
  cases.push_back(receipt_pdu(kStandard, esm_class::kIntermediateNotification));
  cases.push_back(receipt_pdu(kStandard, 0));  // not a receipt
  cases.push_back(receipt_pdu("id:1 stat:EXPIRED"));
  cases.push_back(receipt_pdu("sub:001 stat:DELIVRD"));  // no id
  cases.push_back(receipt_pdu("ID : 7f stat: undeliv text:x"));
  // receipt_key stops reading once it has the id and the state: the order of the keys, and
  // repeats of them after that, must not change what it finds.
  cases.push_back(receipt_pdu("stat:DELIVRD sub:001 id:9"));
  cases.push_back(receipt_pdu("id:1 stat:DELIVRD id:2 stat:UNDELIV"));
  cases.push_back(receipt_pdu("Submit date:2611271200 done_date:2611271201 id:5 STAT:rejectd"));
  cases.push_back(receipt_pdu("submit:1 done:2 submitdate:3 donedate:4 id:6 stat:ACCEPTD"));
  cases.push_back(receipt_pdu("iD:8 text:stat:EXPIRED"));
  DeliverSm tlvs = receipt_pdu(kStandard);
  tlvs.tlvs.set(tlv::receipted_message_id, "7F3A9B2C");
  tlvs.tlvs.set(tlv::message_state, uint8_t{5});
  cases.push_back(tlvs);
  DeliverSm bad_state = receipt_pdu("id:1 stat:EXPIRED");
  bad_state.tlvs.set(tlv::message_state, uint8_t{42});
  cases.push_back(bad_state);
  DeliverSm empty_tlv_id = receipt_pdu("id:55 stat:DELIVRD");
  empty_tlv_id.tlvs.set(tlv::receipted_message_id, "");
  cases.push_back(empty_tlv_id);
  DeliverSm only_bad_tlv;
  only_bad_tlv.esm_class = esm_class::kDeliveryReceipt;
  only_bad_tlv.tlvs.set(tlv::receipted_message_id, "has space");
  cases.push_back(only_bad_tlv);
  DeliverSm payload;
  payload.esm_class = esm_class::kDeliveryReceipt;
  payload.tlvs.set(tlv::message_payload, bytes_of(kStandard));
  cases.push_back(payload);
  for (std::size_t i = 0; i < cases.size(); ++i) {
    const auto full = parse_receipt(cases[i]);
    const auto key = receipt_key(cases[i]);
    ASSERT_EQ(full.has_value(), key.has_value()) << "case " << i;
    if (!full) continue;
    EXPECT_EQ(full->id, key->id) << "case " << i;
    EXPECT_EQ(full->state, key->state) << "case " << i;
  }
  DataSm ds;
  ds.esm_class = esm_class::kDeliveryReceipt;
  ds.tlvs.set(tlv::message_payload, bytes_of("id:AB12 stat:expired"));
  auto k = receipt_key(ds);
  ASSERT_TRUE(k);
  EXPECT_EQ(k->id, "AB12");
  EXPECT_EQ(k->state, MessageState::expired);
}

TEST(ReceiptPdu, ReceiptKeyTakesTheFirstIdAndStateWhateverTheOrder) {
  // The key's id points into the PDU: each PDU outlives its key.
  const DeliverSm repeated = receipt_pdu("id:1 stat:DELIVRD id:2 stat:UNDELIV");
  auto first = receipt_key(repeated);
  ASSERT_TRUE(first);
  EXPECT_EQ(first->id, "1");
  EXPECT_EQ(first->state, MessageState::delivered);
  const DeliverSm reordered = receipt_pdu("stat:REJECTD sub:001 Submit date:2611271200 id:9");
  auto state_first = receipt_key(reordered);
  ASSERT_TRUE(state_first);
  EXPECT_EQ(state_first->id, "9");
  EXPECT_EQ(state_first->state, MessageState::rejected);
  // "submit" without "date" is no key, so its value is no id either.
  const DeliverSm submit_alone = receipt_pdu("submit:5 id:6 stat:ACCEPTD");
  auto no_date = receipt_key(submit_alone);
  ASSERT_TRUE(no_date);
  EXPECT_EQ(no_date->id, "6");
  EXPECT_EQ(no_date->state, MessageState::accepted);
}

// ---- building ----

TEST(ReceiptBuild, StandardText) {
  Receipt r;
  r.id = "12AB";
  r.submit_date = "2301151230";
  r.done_date = "2301151231";
  r.state = MessageState::delivered;
  r.text = "This message is longer than twenty characters";
  EXPECT_EQ(format_receipt_text(r),
            "id:12AB sub:001 dlvrd:001 submit date:2301151230 done date:2301151231 stat:DELIVRD "
            "err:000 text:This message is long");
  r.state = MessageState::undeliverable;
  r.err = "034";
  EXPECT_EQ(format_receipt_text(r),
            "id:12AB sub:001 dlvrd:000 submit date:2301151230 done date:2301151231 stat:UNDELIV "
            "err:034 text:This message is long");
}

TEST(ReceiptBuild, TextCutCountsUtf8CharactersNotOctets) {
  Receipt r;
  r.id = "1";
  r.text =
      "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
      "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
      "\xc3\xa9\xc3\xa9";  // 22 x e-acute
  const std::string text = format_receipt_text(r);
  const std::string expected_tail =
      "text:" + std::string(r.text.substr(0, 40));  // 20 two-octet characters
  EXPECT_EQ(text.substr(text.size() - expected_tail.size()), expected_tail);
}

TEST(ReceiptBuild, DateFormatting) {
  const SmppTime t = SmppTime::from_unix_seconds(1673785800);  // 2023-01-15 12:30:00 UTC
  EXPECT_EQ(format_receipt_date(t), "2301151230");
  EXPECT_EQ(parse_receipt_date(format_receipt_date(t))->to_unix_seconds(), 1673785800);
}

TEST(ReceiptBuild, BuildThenParseRoundTrip) {
  Receipt r;
  r.id = "0A1B2C3D";
  r.submit_date = "2301151230";
  r.done_date = "2301151231";
  r.state = MessageState::expired;
  r.err = "001";
  r.text = "Your code is 1234";
  r.network_error = NetworkErrorCode{3, 0x0102};

  DeliverSm d;
  d.source_addr = "447700900001";
  d.destination_addr = "447700900002";
  ASSERT_TRUE(fill_receipt(d, r, Version::v34));
  EXPECT_EQ(d.esm_class, 0x04);
  EXPECT_EQ(d.source_addr, "447700900001");  // addresses are the caller's
  EXPECT_EQ(d.tlvs.get(tlv::receipted_message_id), "0A1B2C3D");
  EXPECT_EQ(d.tlvs.get(tlv::message_state), 3);

  // Through the wire and back.
  const std::vector<uint8_t> wire = encode(make_pdu(7, d));
  Pdu decoded;
  DecodeError err;
  ASSERT_TRUE(decode(wire, decoded, err)) << err.reason;
  ASSERT_NE(decoded.as<DeliverSm>(), nullptr);
  auto back = parse_receipt(*decoded.as<DeliverSm>());
  ASSERT_TRUE(back);
  EXPECT_EQ(back->id, r.id);
  EXPECT_EQ(back->text_id, r.id);
  EXPECT_EQ(back->sub, "001");
  EXPECT_EQ(back->dlvrd, "000");
  EXPECT_EQ(back->submit_date, r.submit_date);
  EXPECT_EQ(back->done_date, r.done_date);
  EXPECT_EQ(back->stat, "EXPIRED");
  EXPECT_EQ(back->state, MessageState::expired);
  EXPECT_EQ(back->err, "001");
  EXPECT_EQ(back->text, r.text);
  EXPECT_EQ(back->network_error, r.network_error);
  EXPECT_EQ(format_receipt_text(*back), format_receipt_text(r));
}

TEST(ReceiptBuild, EveryStateRoundTripsThroughText) {
  for (uint8_t v = 0; v <= 9; ++v) {
    Receipt r;
    r.id = "1";
    r.state = *message_state_from_value(v);
    auto back = parse_receipt_text(format_receipt_text(r));
    ASSERT_TRUE(back);
    EXPECT_EQ(back->state, r.state) << int(v);
  }
}

TEST(ReceiptBuild, IntermediateNotification) {
  Receipt r;
  r.kind = ReceiptKind::intermediate_notification;
  r.id = "1";
  r.state = MessageState::enroute;
  DeliverSm d;
  ASSERT_TRUE(fill_receipt(d, r, Version::v50));
  EXPECT_EQ(d.esm_class, esm_class::kIntermediateNotification);
  EXPECT_EQ(parse_receipt(d)->kind, ReceiptKind::intermediate_notification);
}

TEST(ReceiptBuild, NoTlvsForAVersion33Peer) {
  Receipt r;
  r.id = "12345678";
  r.state = MessageState::delivered;
  DeliverSm d;
  d.tlvs.set(tlv::receipted_message_id, "stale");
  d.tlvs.set(tlv::message_state, uint8_t{1});
  ASSERT_TRUE(fill_receipt(d, r, Version::v33));
  EXPECT_FALSE(d.tlvs.contains(tlv::receipted_message_id.tag));
  EXPECT_FALSE(d.tlvs.contains(tlv::message_state.tag));
  EXPECT_EQ(parse_receipt(d)->id, "12345678");
}

TEST(ReceiptBuild, SixtyFiveCharacterIdGoesInTheTextOnly) {
  Receipt r;
  r.id = std::string(65, '7');
  DeliverSm d;
  ASSERT_TRUE(fill_receipt(d, r, Version::v34));
  EXPECT_FALSE(d.tlvs.contains(tlv::receipted_message_id.tag));
  EXPECT_EQ(parse_receipt(d)->id, r.id);
}

TEST(ReceiptBuild, RefusesAnEmptyId) {
  DeliverSm d;
  d.esm_class = 0x40;
  EXPECT_FALSE(fill_receipt(d, Receipt{}, Version::v34));
  EXPECT_EQ(d.esm_class, 0x40);  // unchanged
}

TEST(ReceiptBuild, LongTextMovesToMessagePayload) {
  Receipt r;
  r.id = std::string(64, 'f');
  r.sub = std::string(90, '1');  // absurd, but it is the caller's value
  r.dlvrd = std::string(90, '1');
  r.text = "abc";
  DeliverSm d;
  ASSERT_TRUE(fill_receipt(d, r, Version::v34));
  EXPECT_TRUE(d.short_message.empty());
  ASSERT_TRUE(d.tlvs.get(tlv::message_payload));
  EXPECT_EQ(parse_receipt(d)->sub, r.sub);

  DeliverSm old;
  EXPECT_FALSE(fill_receipt(old, r, Version::v33));  // no message_payload for 3.3
}

// ---- rewriting the id ----

TEST(ReceiptRewrite, ReplacesOnlyTheIdValue) {
  const std::string original =
      "ID: 0A1B2C3D  sub:001 dlvrd:001 Submit_date:2301151230 done date:2301151231 "
      "stat:DELIVRD err:000 Text: id:keep this";
  auto out = rewrite_receipt_id(original, "smppd-000042");
  ASSERT_TRUE(out);
  EXPECT_EQ(*out,
            "ID: smppd-000042  sub:001 dlvrd:001 Submit_date:2301151230 done date:2301151231 "
            "stat:DELIVRD err:000 Text: id:keep this");
}

TEST(ReceiptRewrite, OnlyTheFirstIdIsReplaced) {
  EXPECT_EQ(rewrite_receipt_id("sub:001 id:1 stat:DELIVRD id:2", "abc"),
            "sub:001 id:abc stat:DELIVRD id:2");
}

TEST(ReceiptRewrite, IdNotFirst) {
  auto out = rewrite_receipt_id("stat:DELIVRD id:77 err:0", "1");
  ASSERT_TRUE(out);
  EXPECT_EQ(*out, "stat:DELIVRD id:1 err:0");
}

TEST(ReceiptRewrite, RefusesWithoutIdOrWithABadNewId) {
  EXPECT_FALSE(rewrite_receipt_id("stat:DELIVRD", "1"));
  EXPECT_FALSE(rewrite_receipt_id("id: stat:DELIVRD", "1"));
  EXPECT_FALSE(rewrite_receipt_id("id:1", ""));
  EXPECT_FALSE(rewrite_receipt_id("id:1", "a b"));
  EXPECT_FALSE(rewrite_receipt_id("id:1", std::string(66, 'x')));
}

TEST(ReceiptRewrite, PduTextAndTlv) {
  DeliverSm d = receipt_pdu(kStandard);
  d.tlvs.set(tlv::receipted_message_id, "0123456789");
  d.tlvs.set(tlv::message_state, uint8_t{2});
  const TlvList before = d.tlvs;
  ASSERT_TRUE(rewrite_receipt_id(d, "our-id-1"));
  EXPECT_EQ(d.short_message.view(),
            "id:our-id-1 sub:001 dlvrd:001 submit date:2301151230 done date:2301151231 "
            "stat:DELIVRD err:000 text:Hello world");
  EXPECT_EQ(d.tlvs.get(tlv::receipted_message_id), "our-id-1");
  EXPECT_EQ(d.tlvs.get(tlv::message_state), 2);
  EXPECT_EQ(d.tlvs.count(), before.count());
  EXPECT_EQ(parse_receipt(d)->id, "our-id-1");
}

TEST(ReceiptRewrite, PduMessagePayload) {
  DeliverSm d;
  d.esm_class = esm_class::kDeliveryReceipt;
  d.tlvs.set(tlv::message_payload, bytes_of("id:1 stat:DELIVRD"));
  ASSERT_TRUE(rewrite_receipt_id(d, "22"));
  auto payload = d.tlvs.get(tlv::message_payload);
  ASSERT_TRUE(payload);
  EXPECT_EQ(std::string_view(reinterpret_cast<const char*>(payload->data()), payload->size()),
            "id:22 stat:DELIVRD");
}

TEST(ReceiptRewrite, PduTooLongForShortMessageIsLeftUnchanged) {
  const std::string text = "id:1 text:" + std::string(240, 'x');
  DeliverSm d = receipt_pdu(text);
  const DeliverSm before = d;
  EXPECT_FALSE(rewrite_receipt_id(d, std::string(20, 'y')));
  EXPECT_EQ(d, before);

  DeliverSm nothing = receipt_pdu("no id here");
  EXPECT_FALSE(rewrite_receipt_id(nothing, "1"));
}

// ---- message-id normalisation ----

TEST(MessageIdKeys, CanonicalForm) {
  EXPECT_EQ(canonical_message_id("0A1B2C3D"), "a1b2c3d");
  EXPECT_EQ(canonical_message_id("  00042 "), "42");
  EXPECT_EQ(canonical_message_id("000"), "0");
  EXPECT_EQ(canonical_message_id(""), "");
  EXPECT_EQ(canonical_message_id("ABC-Def"), "abc-def");
  // The allocation-free form gives the same.
  for (std::string_view id :
       {"0A1B2C3D", "  00042 ", "000", "", "ABC-Def", "6F1C2E0A-4B7D-4C1E-9A3F-0D2B5E7C8A91"}) {
    CanonicalIdBuffer buffer;
    EXPECT_EQ(canonical_message_id(id, buffer), canonical_message_id(id)) << id;
  }
}

TEST(MessageIdKeys, HexAndDecimalForms) {
  const MessageIdKeys hex = message_id_keys("0A1B2C3D");
  ASSERT_EQ(hex.size(), 2u);
  EXPECT_EQ(hex[0], "a1b2c3d");
  EXPECT_EQ(hex[1], "169552957");

  const MessageIdKeys dec = message_id_keys("169552957");
  ASSERT_EQ(dec.size(), 3u);
  EXPECT_EQ(dec[0], "169552957");
  EXPECT_EQ(dec[1], "6062156119");  // read as hex: 0x169552957
  EXPECT_EQ(dec[2], "a1b2c3d");

  const MessageIdKeys uuid = message_id_keys("6f1c2e0a-4b7d");
  ASSERT_EQ(uuid.size(), 1u);
  EXPECT_EQ(uuid[0], "6f1c2e0a-4b7d");

  EXPECT_EQ(message_id_keys("").size(), 0u);
  EXPECT_EQ(message_id_keys("0").size(), 1u);  // every form is "0"
}

TEST(MessageIdKeys, NumbersBeyond64BitsStayAsText) {
  const MessageIdKeys big = message_id_keys("123456789012345678901234");
  ASSERT_EQ(big.size(), 1u);
  const MessageIdKeys hex17 = message_id_keys("1FFFFFFFFFFFFFFFF");
  ASSERT_EQ(hex17.size(), 1u);
  const MessageIdKeys max = message_id_keys("FFFFFFFFFFFFFFFF");
  ASSERT_EQ(max.size(), 2u);
  EXPECT_EQ(max[1], "18446744073709551615");
  const MessageIdKeys max_dec = message_id_keys("18446744073709551615");
  EXPECT_TRUE(max_dec.contains("ffffffffffffffff"));
  EXPECT_EQ(message_id_keys("18446744073709551616").size(), 1u);  // 2^64: no hex form
}

TEST(MessageIdKeys, MatchingEitherWayRound) {
  EXPECT_TRUE(message_ids_match("0A1B2C3D", "169552957"));
  EXPECT_TRUE(message_ids_match("169552957", "0a1b2c3d"));
  EXPECT_TRUE(message_ids_match("00abc", "ABC"));
  EXPECT_TRUE(message_ids_match("ff", "255"));
  EXPECT_TRUE(message_ids_match("same-id", "SAME-ID"));
  EXPECT_FALSE(message_ids_match("0A1B2C3D", "169552958"));
  EXPECT_FALSE(message_ids_match("abc-1", "abc-2"));
  EXPECT_FALSE(message_ids_match("", ""));
  EXPECT_FALSE(message_ids_match("1", ""));
}

TEST(MessageIdKeys, StoreCanonicalLookUpKeys) {
  // The documented matcher: store the submit_sm_resp id by its canonical form, look the
  // receipt's id up by each key.
  const std::string stored = canonical_message_id("0A1B2C3D");
  bool found = false;
  for (std::string_view key : message_id_keys("169552957")) found = found || key == stored;
  EXPECT_TRUE(found);

  const std::string stored_dec = canonical_message_id("169552957");
  found = false;
  for (std::string_view key : message_id_keys("0a1b2c3d")) found = found || key == stored_dec;
  EXPECT_TRUE(found);
}
