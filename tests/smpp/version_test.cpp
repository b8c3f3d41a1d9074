#include "smpp/version.hpp"

#include <gtest/gtest.h>

using namespace smpp;

TEST(Version, InterfaceVersionMapping) {
  // 3.4 §5.2.4: 0x00-0x33 is 3.3 or earlier, 0x34 is 3.4; 5.0 uses 0x50.
  for (unsigned iv = 0x00; iv <= 0x33; ++iv) {
    EXPECT_EQ(version_from_interface(static_cast<uint8_t>(iv)), Version::v33) << iv;
  }
  EXPECT_EQ(version_from_interface(0x34), Version::v34);
  EXPECT_EQ(version_from_interface(0x4F), Version::v34);
  EXPECT_EQ(version_from_interface(0x50), Version::v50);
  EXPECT_EQ(version_from_interface(0xFF), Version::v50);
  EXPECT_EQ(interface_version_of(Version::v33), 0x33);
  EXPECT_EQ(interface_version_of(Version::v34), 0x34);
  EXPECT_EQ(interface_version_of(Version::v50), 0x50);
  for (Version v : {Version::v33, Version::v34, Version::v50}) {
    EXPECT_EQ(version_from_interface(interface_version_of(v)), v);
  }
}

TEST(Version, NamesAndParsing) {
  EXPECT_EQ(version_name(Version::v33), "3.3");
  EXPECT_EQ(version_name(Version::v34), "3.4");
  EXPECT_EQ(version_name(Version::v50), "5.0");
  for (Version v : {Version::v33, Version::v34, Version::v50}) {
    EXPECT_EQ(parse_version(version_name(v)), v);
  }
  EXPECT_EQ(parse_version("34"), Version::v34);
  EXPECT_EQ(parse_version("0x34"), Version::v34);
  EXPECT_EQ(parse_version("50"), Version::v50);
  EXPECT_EQ(parse_version("33"), Version::v33);
  EXPECT_FALSE(parse_version(""));
  EXPECT_FALSE(parse_version("3.5"));
  EXPECT_FALSE(parse_version("4.0"));
  EXPECT_FALSE(parse_version(" 3.4"));
}

TEST(Version, Limits) {
  EXPECT_FALSE(supports_tlvs(Version::v33));
  EXPECT_TRUE(supports_tlvs(Version::v34));
  EXPECT_TRUE(supports_tlvs(Version::v50));
  EXPECT_EQ(max_message_id_length(Version::v33), 8u);
  EXPECT_EQ(max_message_id_length(Version::v34), 64u);
  EXPECT_EQ(max_message_id_length(Version::v50), 64u);
}

TEST(Version, CommandInVersion) {
  for (Version v : {Version::v33, Version::v34, Version::v50}) {
    EXPECT_TRUE(command_in_version(CommandId::submit_sm, v));
    EXPECT_TRUE(command_in_version(CommandId::submit_sm_resp, v));
    EXPECT_TRUE(command_in_version(CommandId::deliver_sm, v));
    EXPECT_TRUE(command_in_version(CommandId::bind_transmitter, v));
    EXPECT_TRUE(command_in_version(CommandId::submit_multi, v));
    EXPECT_TRUE(command_in_version(CommandId::enquire_link, v));
    EXPECT_TRUE(command_in_version(CommandId::generic_nack, v));
  }
  // 3.4 additions, with their responses.
  for (CommandId id :
       {CommandId::data_sm, CommandId::data_sm_resp, CommandId::bind_transceiver,
        CommandId::bind_transceiver_resp, CommandId::outbind, CommandId::alert_notification}) {
    EXPECT_FALSE(command_in_version(id, Version::v33)) << command_name(id);
    EXPECT_TRUE(command_in_version(id, Version::v34)) << command_name(id);
    EXPECT_TRUE(command_in_version(id, Version::v50)) << command_name(id);
  }
  // 5.0 only.
  for (CommandId id : {CommandId::broadcast_sm, CommandId::broadcast_sm_resp,
                       CommandId::query_broadcast_sm, CommandId::query_broadcast_sm_resp,
                       CommandId::cancel_broadcast_sm, CommandId::cancel_broadcast_sm_resp}) {
    EXPECT_FALSE(command_in_version(id, Version::v33)) << command_name(id);
    EXPECT_FALSE(command_in_version(id, Version::v34)) << command_name(id);
    EXPECT_TRUE(command_in_version(id, Version::v50)) << command_name(id);
  }
  // 3.3 only.
  for (CommandId id : {CommandId::param_retrieve, CommandId::param_retrieve_resp,
                       CommandId::query_last_msgs, CommandId::query_last_msgs_resp,
                       CommandId::query_msg_details, CommandId::query_msg_details_resp}) {
    EXPECT_TRUE(command_in_version(id, Version::v33)) << command_name(id);
    EXPECT_FALSE(command_in_version(id, Version::v34)) << command_name(id);
    EXPECT_FALSE(command_in_version(id, Version::v50)) << command_name(id);
  }
}

namespace {
Pdu submit_with_tlvs() {
  SubmitSm s;
  s.source_addr = "12345";
  s.destination_addr = "67890";
  s.short_message = "hi";
  s.tlvs.set(tlv::user_message_reference, uint16_t{7});
  s.tlvs.set(tlv::source_port, uint16_t{1234});
  s.tlvs.set_raw(0x1400, std::span<const uint8_t>());  // a vendor TLV
  return make_pdu(1, s);
}
}  // namespace

TEST(Version, AdaptStripsTlvsFor33Only) {
  for (Version v : {Version::v34, Version::v50}) {
    Pdu p = submit_with_tlvs();
    const Pdu before = p;
    EXPECT_EQ(adapt_for_version(p, v), 0u);
    EXPECT_EQ(p, before);
  }
  Pdu p = submit_with_tlvs();
  EXPECT_EQ(adapt_for_version(p, Version::v33), 3u);
  ASSERT_NE(p.as<SubmitSm>(), nullptr);
  EXPECT_TRUE(p.as<SubmitSm>()->tlvs.empty());
  EXPECT_EQ(p.as<SubmitSm>()->short_message.view(), "hi");  // the rest is untouched
  EXPECT_EQ(p.as<SubmitSm>()->destination_addr, "67890");
  // Stripping again finds nothing.
  EXPECT_EQ(adapt_for_version(p, Version::v33), 0u);
}

TEST(Version, AdaptBodiesWithoutTlvs) {
  Pdu link = make_pdu(2, EnquireLink{});
  EXPECT_EQ(adapt_for_version(link, Version::v33), 0u);
  EXPECT_EQ(link.command_id(), CommandId::enquire_link);

  BindTransmitterResp resp;
  resp.system_id = "smsc";
  resp.tlvs.set(tlv::sc_interface_version, uint8_t{0x34});
  Pdu r = make_pdu(3, resp);
  EXPECT_EQ(adapt_for_version(r, Version::v33), 1u);
  EXPECT_TRUE(r.as<BindTransmitterResp>()->tlvs.empty());
  EXPECT_EQ(r.as<BindTransmitterResp>()->system_id, "smsc");
}

TEST(Version, NegotiateTakesTheLower) {
  EXPECT_EQ(negotiate(0x34, Version::v34), Version::v34);
  EXPECT_EQ(negotiate(0x50, Version::v34), Version::v34);
  EXPECT_EQ(negotiate(0x33, Version::v34), Version::v33);
  EXPECT_EQ(negotiate(0x00, Version::v50), Version::v33);
  EXPECT_EQ(negotiate(0x34, Version::v50), Version::v34);
  EXPECT_EQ(negotiate(0x50, Version::v50), Version::v50);
  EXPECT_EQ(negotiate(0x50, Version::v33), Version::v33);
  EXPECT_EQ(negotiate(0x40, Version::v50), Version::v34);
}

TEST(Version, AfterBindTakesTheLowerOfBoundAndAnnounced) {
  EXPECT_EQ(version_after_bind(Version::v34, 0x34, false), Version::v34);
  EXPECT_EQ(version_after_bind(Version::v34, 0x50, false), Version::v34);
  EXPECT_EQ(version_after_bind(Version::v50, 0x34, false), Version::v34);
  EXPECT_EQ(version_after_bind(Version::v34, 0x33, true), Version::v33);
}

TEST(Version, AfterBindWithoutAnnouncementIs33UnlessTheOperatorSaidOtherwise) {
  EXPECT_EQ(version_after_bind(Version::v34, std::nullopt, false), Version::v33);
  EXPECT_EQ(version_after_bind(Version::v50, std::nullopt, false), Version::v33);
  EXPECT_EQ(version_after_bind(Version::v34, std::nullopt, true), Version::v34);
  EXPECT_EQ(version_after_bind(Version::v50, std::nullopt, true), Version::v50);
}
