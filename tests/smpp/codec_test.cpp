#include "smpp/codec.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

using namespace smpp;

namespace {

using Bytes = std::vector<uint8_t>;

// Builds byte vectors the way the spec tables read: header words, then fields.
struct B {
  Bytes b;
  B& u8(uint8_t v) {
    b.push_back(v);
    return *this;
  }
  B& u16(uint16_t v) { return u8(static_cast<uint8_t>(v >> 8)).u8(static_cast<uint8_t>(v)); }
  B& u32(uint32_t v) { return u16(static_cast<uint16_t>(v >> 16)).u16(static_cast<uint16_t>(v)); }
  B& cstr(std::string_view s) {
    b.insert(b.end(), s.begin(), s.end());
    return u8(0);
  }
  B& raw(std::string_view s) {
    b.insert(b.end(), s.begin(), s.end());
    return *this;
  }
  // Prepends the header with the right command_length.
  Bytes pdu(uint32_t id, uint32_t st, uint32_t seq) const {
    B h;
    h.u32(static_cast<uint32_t>(16 + b.size())).u32(id).u32(st).u32(seq);
    h.b.insert(h.b.end(), b.begin(), b.end());
    return h.b;
  }
};

Pdu decode_ok(const Bytes& bytes) {
  Pdu p;
  DecodeError e;
  EXPECT_TRUE(decode(bytes, p, e)) << "status " << status_name(e.status) << ": " << e.reason;
  return p;
}

[[maybe_unused]] DecodeError decode_err(const Bytes& bytes) {
  Pdu p;
  DecodeError e;
  EXPECT_FALSE(decode(bytes, p, e));
  return e;
}

// decode(bytes) succeeds, encode(decoded) == bytes, and decode(encode(p)) == p.
Pdu round_trip(const Bytes& bytes) {
  Pdu p = decode_ok(bytes);
  EXPECT_EQ(encode(p), bytes);
  EXPECT_EQ(encoded_size(p), bytes.size());
  EXPECT_EQ(decode_ok(encode(p)), p);
  return p;
}

B submit_body() {
  B b;
  b.cstr("")           // service_type
      .u8(1).u8(1).cstr("27831234567")    // source ton npi addr
      .u8(1).u8(1).cstr("258841234567")   // dest ton npi addr
      .u8(0).u8(0).u8(0)                  // esm_class protocol_id priority_flag
      .cstr("").cstr("")                  // schedule, validity
      .u8(1).u8(0).u8(0).u8(0)            // registered_delivery replace data_coding default_msg_id
      .u8(5).raw("Hello");                // sm_length short_message
  return b;
}

}  // namespace

TEST(Codec, SubmitSmFieldsFromSpecLayout) {
  const Bytes bytes = submit_body().pdu(0x00000004, 0, 7);
  Pdu p = round_trip(bytes);
  EXPECT_EQ(p.command_id(), CommandId::submit_sm);
  EXPECT_EQ(p.sequence_number, 7u);
  const auto* s = p.as<SubmitSm>();
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(s->source_addr, "27831234567");
  EXPECT_EQ(s->destination_addr, "258841234567");
  EXPECT_EQ(s->dest_addr_ton, 1);
  EXPECT_EQ(s->registered_delivery, 1);
  EXPECT_EQ(s->short_message.view(), "Hello");
  EXPECT_TRUE(s->tlvs.empty());
}

TEST(Codec, EnquireLinkIsHeaderOnly) {
  const Bytes bytes = {0, 0, 0, 16, 0, 0, 0, 0x15, 0, 0, 0, 0, 0, 0, 0, 1};
  Pdu p = round_trip(bytes);
  EXPECT_EQ(p.command_id(), CommandId::enquire_link);
}
