// The protocol middleware (src/middleware/protocol): version_mapping. "3.3": "3.4" and any
// mapping to 3.4 or 5.0 are what smppd does anyway and change nothing; a mapping to 3.3 writes
// a 3.4 client's message the 3.3 way before routing, long payloads into parts.
#include "middleware/protocol.hpp"

#include <gtest/gtest.h>

#include "middleware/chain.hpp"
#include "smpp/segment.hpp"
#include "smpp/status.hpp"
#include "smpp/text.hpp"
#include "smpp/tlv.hpp"

namespace smppd::middleware {
namespace {

using smpp::Version;

smpp::Pdu data_sm_with_payload(std::size_t length) {
  smpp::DataSm ds;
  ds.source_addr.assign("SHOP");
  ds.destination_addr.assign("4917000000001");
  ds.registered_delivery = 1;
  ds.tlvs.set(smpp::tlv::message_payload, smpp::utf8_to_gsm7(std::string(length, 'p')).bytes);
  return smpp::make_pdu(3, ds);
}

TEST(Protocol, MappingsToTheClientsOwnOrANewerVersionChangeNothing) {
  // The design's "3.3": "3.4": a 3.3 client's message is a valid 3.4 message already.
  for (auto mapping :
       {std::pair{Version::v33, Version::v34}, std::pair{Version::v34, Version::v50},
        std::pair{Version::v50, Version::v34}, std::pair{Version::v33, Version::v33}}) {
    const Protocol p({mapping});
    EXPECT_FALSE(p.acts());
    smpp::Pdu m = data_sm_with_payload(300);
    const smpp::Pdu before = m;
    Rewrite out;
    EXPECT_FALSE(p.apply(m, mapping.first, true, out));
    EXPECT_EQ(m, before);
    EXPECT_TRUE(out.more_parts.empty());
  }
}

TEST(Protocol, ToV33ExpressesTheMessageAs33CarriesIt) {
  const Protocol p({{Version::v34, Version::v33}});
  EXPECT_TRUE(p.acts());
  // A 300-septet payload in a data_sm: a submit_sm in two UDH parts, no TLVs.
  smpp::Pdu m = data_sm_with_payload(300);
  Rewrite out;
  ASSERT_FALSE(p.apply(m, Version::v34, true, out));
  const auto* first = m.as<smpp::SubmitSm>();
  ASSERT_NE(first, nullptr);
  EXPECT_EQ(m.sequence_number, 3u);
  ASSERT_EQ(out.more_parts.size(), 1u);
  std::string whole;
  for (const smpp::SubmitSm* part :
       {first, static_cast<const smpp::SubmitSm*>(&out.more_parts[0])}) {
    EXPECT_TRUE(part->tlvs.empty());
    EXPECT_EQ(part->registered_delivery, 1);
    const smpp::Udh udh = smpp::parse_udh(part->short_message.bytes());
    ASSERT_TRUE(udh.ok() && udh.concat);
    EXPECT_EQ(udh.concat->total, 2);
    whole += smpp::gsm7_to_utf8(udh.payload).text;
  }
  EXPECT_EQ(whole, std::string(300, 'p'));

  // A 3.3 client's, or a 5.0 client's (no mapping for 5.0), stays as it is.
  smpp::Pdu same = data_sm_with_payload(300);
  const smpp::Pdu before = same;
  Rewrite none;
  EXPECT_FALSE(p.apply(same, Version::v33, true, none));
  EXPECT_FALSE(p.apply(same, Version::v50, true, none));
  EXPECT_EQ(same, before);

  // One PDU only (store and forward): refused rather than cut.
  smpp::Pdu one = data_sm_with_payload(300);
  Rewrite o;
  auto r = p.apply(one, Version::v34, false, o);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->command_status, smpp::status::ESME_RINVMSGLEN);
  EXPECT_EQ(r->filter, "protocol");
  EXPECT_EQ(r->rule, "3.4: 3.3");

  // What has no 3.3 form is refused, never sent without it: a long payload with SAR of its own.
  smpp::Pdu odd = data_sm_with_payload(300);
  odd.as<smpp::DataSm>()->tlvs.set(smpp::tlv::sar_msg_ref_num, uint16_t{1});
  odd.as<smpp::DataSm>()->tlvs.set(smpp::tlv::sar_total_segments, uint8_t{2});
  odd.as<smpp::DataSm>()->tlvs.set(smpp::tlv::sar_segment_seqnum, uint8_t{1});
  Rewrite x;
  r = p.apply(odd, Version::v34, true, x);
  ASSERT_TRUE(r);
  EXPECT_NE(r->command_status, smpp::status::ESME_ROK);
}

// After a transform that made SAR parts, every part is written the 3.3 way (a UDH).
TEST(Protocol, TheChainRewritesATransformsPartsToo) {
  config::Config c;
  config::MultipartConfig& mp = c.multipart;
  mp.segmentation_method = config::SegmentationMethod::sar_tlv;
  config::MiddlewareConfig transform;
  transform.type = config::MiddlewareType::transform;
  transform.rules = {config::TransformRule{{}, {}, {{"short_message", "${short_message}!"}}}};
  config::MiddlewareConfig protocol;
  protocol.type = config::MiddlewareType::protocol;
  protocol.version_mapping = {{Version::v34, Version::v33}};
  c.middleware = {transform, protocol};
  const Chain chain(c);
  smpp::SubmitSm sm;
  sm.destination_addr.assign("1");
  sm.short_message.assign(smpp::utf8_to_gsm7(std::string(160, 'q')).bytes);
  smpp::Pdu p = smpp::make_pdu(1, sm);
  Verdict v = chain.run(p, "alice", MessageContext{Version::v34, true});
  ASSERT_FALSE(v.rejection);
  ASSERT_EQ(v.rewrite.more_parts.size(), 1u);
  for (const smpp::SubmitSm* part : {p.as<smpp::SubmitSm>(), &v.rewrite.more_parts[0]}) {
    EXPECT_TRUE(part->tlvs.empty());
    EXPECT_TRUE(smpp::parse_udh(part->short_message.bytes()).concat);
  }
}

}  // namespace
}  // namespace smppd::middleware
