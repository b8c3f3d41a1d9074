// Byte vectors are laid out like the spec's field tables, one field per call; keep them so.
// clang-format off
#include "smpp/tlv.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "smpp/status.hpp"

using namespace smpp;

TEST(TlvList, TypedSetAndGet) {
  TlvList t;
  t.set(tlv::sar_msg_ref_num, uint16_t{0x1234});
  t.set(tlv::sar_total_segments, uint8_t{3});
  t.set(tlv::qos_time_to_live, uint32_t{86400});
  t.set(tlv::receipted_message_id, "abc123");
  EXPECT_EQ(t.get(tlv::sar_msg_ref_num), 0x1234);
  EXPECT_EQ(t.get(tlv::sar_total_segments), 3);
  EXPECT_EQ(t.get(tlv::qos_time_to_live), 86400u);
  EXPECT_EQ(t.get(tlv::receipted_message_id), "abc123");
  EXPECT_FALSE(t.get(tlv::message_state).has_value());
  EXPECT_EQ(t.count(), 4u);
  // Wire bytes: tag, length, value; the C-Octet String carries its NUL.
  const std::vector<uint8_t> expect = {0x02, 0x0C, 0, 2, 0x12, 0x34, 0x02, 0x0E, 0, 1, 3,
                                       0x00, 0x17, 0, 4, 0, 1, 0x51, 0x80, 0x00, 0x1E, 0, 7,
                                       'a',  'b',  'c', '1', '2', '3', 0};
  EXPECT_EQ(std::vector<uint8_t>(t.bytes().begin(), t.bytes().end()), expect);
  EXPECT_EQ(validate_tlvs(t), status::ESME_ROK);
}

TEST(TlvList, SetReplacesInPlaceAndKeepsOrder) {
  TlvList t;
  t.set(tlv::source_port, uint16_t{1});
  t.set(tlv::receipted_message_id, "short");
  t.set(tlv::dest_port, uint16_t{2});
  t.set(tlv::receipted_message_id, "a-much-longer-identifier-value");
  std::vector<uint16_t> tags;
  for (TlvView v : t) tags.push_back(v.tag);
  EXPECT_EQ(tags, (std::vector<uint16_t>{0x020A, 0x001E, 0x020B}));
  EXPECT_EQ(t.get(tlv::receipted_message_id), "a-much-longer-identifier-value");
  EXPECT_EQ(t.get(tlv::dest_port), 2);
}

TEST(TlvList, GrowsPastInlineStorageAndCopies) {
  TlvList t;
  const std::vector<uint8_t> payload(3000, 0xAB);
  t.set(tlv::message_payload, payload);
  t.append_raw(0x1500, std::vector<uint8_t>{1, 2, 3});
  TlvList copy = t;
  EXPECT_EQ(copy, t);
  TlvList moved = std::move(copy);
  EXPECT_EQ(moved, t);
  EXPECT_EQ(moved.get(tlv::message_payload)->size(), 3000u);
  EXPECT_EQ(moved.erase(tlv::message_payload.tag), 1u);
  EXPECT_EQ(moved.count(), 1u);
  EXPECT_NE(moved, t);
}

TEST(TlvList, DuplicatesKeptAndEraseRemovesAll) {
  TlvList t;
  const uint8_t v[1] = {7};
  t.append_raw(0x1400, v);
  t.append_raw(0x1400, v);
  EXPECT_EQ(t.count(), 2u);
  EXPECT_EQ(t.erase(0x1400), 2u);
  EXPECT_TRUE(t.empty());
}

TEST(TlvList, WrongShapeReadsAsAbsent) {
  TlvList t;
  const uint8_t three[3] = {1, 2, 3};
  t.set_raw(tlv::user_message_reference.tag, three);
  EXPECT_FALSE(t.get(tlv::user_message_reference).has_value());
  EXPECT_EQ(validate_tlvs(t), status::ESME_RINVTLVLEN);
}

TEST(TlvInfo, KnowsEveryStandardTag) {
  // 5.0 Table 4-60: spot checks across the range.
  for (int t : {0x0005, 0x001E, 0x0204, 0x0210, 0x0381, 0x0424, 0x0427, 0x0428, 0x0501,
                       0x0600, 0x060A, 0x0613, 0x1201, 0x130C, 0x1383}) {
    const auto tag = static_cast<uint16_t>(t);
    ASSERT_NE(tlv_info(tag), nullptr) << std::hex << tag;
    EXPECT_EQ(tlv_info(tag)->tag, tag);
  }
  EXPECT_EQ(tlv_info(0x1400), nullptr);  // vendor range
  EXPECT_EQ(tlv_info(0x0424)->name, "message_payload");
}
