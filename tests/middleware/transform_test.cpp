// The transform middleware (src/middleware/transform): every kind of rule on real PDUs, the
// text re-encoded and re-segmented the way an SMSC and a handset will read it.
#include "middleware/transform.hpp"

#include <gtest/gtest.h>

#include "middleware/chain.hpp"
#include "smpp/segment.hpp"
#include "smpp/status.hpp"
#include "smpp/text.hpp"
#include "smpp/tlv.hpp"

namespace smppd::middleware {
namespace {

namespace st = smpp::status;
using Fields = std::map<std::string, std::string>;

config::TransformRule rule(Fields match, Fields set, Fields transform) {
  return config::TransformRule{std::move(match), std::move(set), std::move(transform)};
}

struct Run {
  std::optional<Rejection> rejection;
  Rewrite rewrite;
};

Run apply(const Transform& t, smpp::Pdu& p, std::string_view client = "alice",
          bool parts_allowed = true) {
  Run r;
  r.rejection = t.apply(p, client, parts_allowed, r.rewrite);
  return r;
}

smpp::Pdu submit(std::string_view to, std::string_view text = "Hello",
                 std::string_view service_type = "") {
  smpp::SubmitSm sm;
  sm.source_addr.assign("SHOP");
  sm.source_addr_ton = 5;
  sm.destination_addr.assign(to);
  sm.service_type.assign(service_type);
  sm.registered_delivery = 1;
  auto gsm = smpp::utf8_to_gsm7(text);
  EXPECT_TRUE(gsm.ok());
  sm.short_message.assign(gsm.bytes);
  return smpp::make_pdu(7, sm);
}

std::string text_of(const smpp::SubmitSm& sm) {
  auto d = smpp::decode_message(sm.short_message.bytes(), sm.data_coding);
  EXPECT_TRUE(d.ok());
  return d.text;
}

// The design's three rules, as configs/full.yaml writes them.
std::vector<config::TransformRule> design_rules() {
  return {
      rule({{"client", "client-a"}}, {{"source_addr", "CLIENT-A"}, {"source_addr_ton", "5"}}, {}),
      rule({{"destination_addr", "^8[0-9]{8}$"}}, {},
           {{"destination_addr", "+258${destination_addr}"}}),
      rule({{"service_type", "MKTG"}}, {},
           {{"short_message", "${short_message} Reply STOP to opt out."}})};
}

TEST(Transform, TheDesignsRules) {
  const Transform t(design_rules(), {});
  smpp::Pdu p = submit("841234567", "Sale today", "MKTG");
  auto r = apply(t, p, "client-a");
  ASSERT_FALSE(r.rejection);
  EXPECT_EQ(r.rewrite.rules_applied, 3u);
  const auto& sm = *p.as<smpp::SubmitSm>();
  EXPECT_EQ(sm.source_addr, "CLIENT-A");
  EXPECT_EQ(sm.source_addr_ton, 5);
  // "+258..." is an international number: the '+' becomes TON 1 / NPI 1.
  EXPECT_EQ(sm.destination_addr, "258841234567");
  EXPECT_EQ(sm.dest_addr_ton, 1);
  EXPECT_EQ(sm.dest_addr_npi, 1);
  EXPECT_EQ(sm.data_coding, 0) << "still GSM 03.38";
  EXPECT_EQ(text_of(sm), "Sale today Reply STOP to opt out.");
  EXPECT_EQ(p.sequence_number, 7u);
  EXPECT_TRUE(r.rewrite.more_parts.empty());

  // None matches: nothing changes.
  smpp::Pdu q = submit("8412345678", "Hi", "X");  // ten digits: the regex is a full match
  const smpp::Pdu before = q;
  r = apply(t, q, "bob");
  EXPECT_FALSE(r.rejection);
  EXPECT_EQ(r.rewrite.rules_applied, 0u);
  EXPECT_EQ(q, before);
}

TEST(Transform, NumericFieldsMatchAsDecimalTextAndSetWinsOverThePlus) {
  const Transform t({rule({{"source_addr_ton", "5"}, {"registered_delivery", "[01]"}},
                          {{"dest_addr_npi", "9"}, {"priority_flag", "2"}},
                          {{"destination_addr", "+${destination_addr}"}})},
                    {});
  smpp::Pdu p = submit("4917000000001");
  ASSERT_FALSE(apply(t, p).rejection);
  const auto& sm = *p.as<smpp::SubmitSm>();
  EXPECT_EQ(sm.dest_addr_ton, 1);
  EXPECT_EQ(sm.dest_addr_npi, 9) << "the rule's own set, after the '+'";
  EXPECT_EQ(sm.priority_flag, 2);

  smpp::Pdu other = submit("4917000000001");
  other.as<smpp::SubmitSm>()->source_addr_ton = 1;
  EXPECT_EQ(apply(t, other).rewrite.rules_applied, 0u);

  // A data_sm has no priority_flag: a rule matching on it never matches one.
  const Transform prio({rule({{"priority_flag", "0"}}, {{"esm_class", "0"}}, {})}, {});
  smpp::DataSm ds;
  ds.destination_addr.assign("1");
  smpp::Pdu d = smpp::make_pdu(1, ds);
  EXPECT_EQ(apply(prio, d).rewrite.rules_applied, 0u);
}

TEST(Transform, TemplatesReadTheMessageBeforeTheRuleAndRulesSeeEarlierOnes) {
  const Transform t(
      {rule({}, {},
            {{"source_addr", "${destination_addr}"},
             {"destination_addr", "${source_addr}"},
             {"service_type", "S${source_addr_ton}"}}),
       rule({{"source_addr", "4917000000001"}}, {}, {{"short_message", "${client}"}})},
      {});
  smpp::Pdu p = submit("4917000000001", "x");
  ASSERT_FALSE(apply(t, p, "alice").rejection);
  const auto& sm = *p.as<smpp::SubmitSm>();
  EXPECT_EQ(sm.source_addr, "4917000000001");
  EXPECT_EQ(sm.destination_addr, "SHOP");
  EXPECT_EQ(sm.service_type, "S5");
  EXPECT_EQ(text_of(sm), "alice") << "rule #2 saw rule #1's source_addr";
}

TEST(Transform, AResultTooLongForItsFieldRefusesTheMessage) {
  const Transform t({rule({}, {}, {{"destination_addr", "+258${destination_addr}"}}),
                     rule({{"client", "src"}}, {{"source_addr", "ABCDEFGHIJKLMNOPQRSTU"}}, {}),
                     rule({{"client", "svc"}}, {}, {{"service_type", "${service_type}X"}})},
                    {});
  smpp::Pdu p = submit("12345678901234567890");  // 20 digits: the most submit_sm takes
  auto r = apply(t, p);
  ASSERT_TRUE(r.rejection);
  EXPECT_EQ(r.rejection->command_status, st::ESME_RINVDSTADR);
  EXPECT_EQ(r.rejection->filter, "transform");
  EXPECT_EQ(r.rejection->rule, "rule #1 destination_addr");
  EXPECT_EQ(r.rejection->address, "+25812345678901234567890");

  smpp::Pdu q = submit("1");
  r = apply(t, q, "src");
  ASSERT_TRUE(r.rejection);
  EXPECT_EQ(r.rejection->command_status, st::ESME_RINVSRCADR);
  EXPECT_EQ(r.rejection->rule, "rule #2 source_addr");

  smpp::Pdu s = submit("1", "x", "ABCDE");
  r = apply(t, s, "svc");
  ASSERT_TRUE(r.rejection);
  EXPECT_EQ(r.rejection->command_status, st::ESME_RINVSERTYP);

  // data_sm addresses take 64 characters.
  smpp::DataSm ds;
  ds.destination_addr.assign("12345678901234567890");
  smpp::Pdu d = smpp::make_pdu(1, ds);
  EXPECT_FALSE(apply(t, d).rejection);
  EXPECT_EQ(d.as<smpp::DataSm>()->destination_addr, "25812345678901234567890");
}

TEST(Transform, TextKeepsItsCodingWhenItFitsElseBecomesUcs2) {
  const Transform t({rule({}, {}, {{"short_message", "${short_message} Привет"}})}, {});
  smpp::Pdu p = submit("1", "Hello");
  ASSERT_FALSE(apply(t, p).rejection);
  const auto& sm = *p.as<smpp::SubmitSm>();
  EXPECT_EQ(sm.data_coding, smpp::data_coding::kUcs2);
  EXPECT_EQ(sm.short_message.size(), 12u * 2);
  EXPECT_EQ(text_of(sm), "Hello Привет");

  // Latin-1 stays Latin-1 for "é", moves to UCS-2 for "€" (not in Latin-1).
  const Transform latin({rule({}, {}, {{"short_message", "${short_message} café"}})}, {});
  smpp::Pdu l = submit("1");
  auto& lsm = *l.as<smpp::SubmitSm>();
  lsm.data_coding = smpp::data_coding::kLatin1;
  lsm.short_message.assign(std::string_view("Hi"));
  ASSERT_FALSE(apply(latin, l).rejection);
  EXPECT_EQ(lsm.data_coding, smpp::data_coding::kLatin1);
  EXPECT_EQ(lsm.short_message.view(), "Hi caf\xE9");
  const Transform euro({rule({}, {}, {{"short_message", "${short_message} 5€"}})}, {});
  ASSERT_FALSE(apply(euro, l).rejection);
  EXPECT_EQ(lsm.data_coding, smpp::data_coding::kUcs2);
  EXPECT_EQ(text_of(lsm), "Hi café 5€");

  // "€" is in GSM's extension table: a GSM text stays GSM (two septets).
  smpp::Pdu g = submit("1", "Price");
  ASSERT_FALSE(apply(euro, g).rejection);
  EXPECT_EQ(g.as<smpp::SubmitSm>()->data_coding, 0);
  EXPECT_EQ(text_of(*g.as<smpp::SubmitSm>()), "Price 5€");

  // set data_coding re-encodes the text it has.
  const Transform ucs2({rule({}, {{"data_coding", "8"}}, {})}, {});
  smpp::Pdu u = submit("1", "Hi");
  ASSERT_FALSE(apply(ucs2, u).rejection);
  EXPECT_EQ(u.as<smpp::SubmitSm>()->data_coding, 8);
  EXPECT_EQ(u.as<smpp::SubmitSm>()->short_message.view(), std::string_view("\0H\0i", 4));
}

TEST(Transform, MatchOnTheDecodedText) {
  const Transform t({rule({{"short_message", "(?i)stop.*"}}, {{"service_type", "OPT"}}, {})}, {});
  smpp::Pdu p = submit("1", "STOP all");
  apply(t, p);
  EXPECT_EQ(p.as<smpp::SubmitSm>()->service_type, "OPT");
  // The same text in UCS-2.
  smpp::Pdu u = submit("1", "");
  auto& usm = *u.as<smpp::SubmitSm>();
  usm.data_coding = 8;
  usm.short_message.assign(smpp::utf8_to_ucs2("stop ça").bytes);
  apply(t, u);
  EXPECT_EQ(usm.service_type, "OPT");
}

// A 150-character GSM text plus the opt-out: 2 parts of a concatenated message.
TEST(Transform, ATextThatOutgrowsOnePartBecomesParts) {
  config::MultipartConfig mp;
  const Transform t({rule({}, {}, {{"short_message", "${short_message} Reply STOP to opt out."}})},
                    mp);
  const std::string body(150, 'a');
  smpp::Pdu p = submit("1", body);
  auto r = apply(t, p);
  ASSERT_FALSE(r.rejection);
  ASSERT_EQ(r.rewrite.more_parts.size(), 1u);
  const auto& first = *p.as<smpp::SubmitSm>();
  const auto& second = r.rewrite.more_parts[0];
  std::string whole;
  uint16_t reference = 0;
  uint8_t seq = 1;
  for (const smpp::SubmitSm* part : {&first, &second}) {
    EXPECT_EQ(part->esm_class & smpp::esm_class::kUdhi, smpp::esm_class::kUdhi);
    EXPECT_EQ(part->data_coding, 0);
    EXPECT_EQ(part->destination_addr, "1");
    // One receipt asked for the message: by its last part only.
    EXPECT_EQ(part->registered_delivery, part == &second ? 1 : 0);
    const smpp::Udh udh = smpp::parse_udh(part->short_message.bytes());
    ASSERT_TRUE(udh.ok() && udh.concat);
    EXPECT_EQ(udh.concat->total, 2);
    EXPECT_EQ(udh.concat->seq, seq++);
    if (part == &first) reference = udh.concat->reference;
    EXPECT_EQ(udh.concat->reference, reference);
    whole += smpp::gsm7_to_utf8(udh.payload).text;
  }
  EXPECT_EQ(whole, body + " Reply STOP to opt out.");

  // The next message gets a fresh reference.
  smpp::Pdu again = submit("1", body);
  apply(t, again);
  EXPECT_NE(smpp::parse_udh(again.as<smpp::SubmitSm>()->short_message.bytes()).concat->reference,
            reference);

  // A path that keeps one PDU: the whole text in message_payload.
  smpp::Pdu one = submit("1", body);
  r = apply(t, one, "alice", false);
  ASSERT_FALSE(r.rejection);
  EXPECT_TRUE(r.rewrite.more_parts.empty());
  const auto& osm = *one.as<smpp::SubmitSm>();
  EXPECT_TRUE(osm.short_message.empty());
  auto payload = osm.tlvs.find(smpp::tlv::message_payload.tag);
  ASSERT_TRUE(payload);
  EXPECT_EQ(smpp::gsm7_to_utf8(*payload).text, body + " Reply STOP to opt out.");
}

TEST(Transform, SarTlvsAndTheLimitOnParts) {
  config::MultipartConfig mp;
  mp.segmentation_method = config::SegmentationMethod::sar_tlv;
  mp.segmentation_max_parts = 2;
  const Transform t({rule({}, {}, {{"short_message", "${short_message}${short_message}"}})}, mp);
  smpp::Pdu p = submit("1", std::string(100, 'b'));  // 200 septets: 2 parts
  auto r = apply(t, p);
  ASSERT_FALSE(r.rejection);
  ASSERT_EQ(r.rewrite.more_parts.size(), 1u);
  const auto& first = *p.as<smpp::SubmitSm>();
  EXPECT_EQ(first.esm_class & smpp::esm_class::kUdhi, 0);
  auto sar = smpp::sar_concat(first.tlvs);
  ASSERT_TRUE(sar);
  EXPECT_EQ(sar->total, 2);
  EXPECT_EQ(smpp::sar_concat(r.rewrite.more_parts[0].tlvs)->seq, 2);

  smpp::Pdu big = submit("1", std::string(160, 'c'));  // 320 septets: 3 parts, max_parts 2
  r = apply(t, big);
  ASSERT_TRUE(r.rejection);
  EXPECT_EQ(r.rejection->command_status, st::ESME_RINVMSGLEN);
  EXPECT_EQ(r.rejection->rule, "rule #1 short_message");
}

TEST(Transform, ATextInMessagePayloadStaysThere) {
  const Transform t({rule({}, {}, {{"short_message", "${short_message} ✓"}})}, {});
  smpp::DataSm ds;
  ds.destination_addr.assign("1");
  ds.tlvs.set(smpp::tlv::message_payload, smpp::utf8_to_gsm7(std::string(300, 'x')).bytes);
  smpp::Pdu p = smpp::make_pdu(1, ds);
  auto r = apply(t, p);
  ASSERT_FALSE(r.rejection);
  EXPECT_TRUE(r.rewrite.more_parts.empty());
  const auto& d = *p.as<smpp::DataSm>();
  EXPECT_EQ(d.data_coding, 8);
  auto payload = d.tlvs.find(smpp::tlv::message_payload.tag);
  ASSERT_TRUE(payload);
  EXPECT_EQ(smpp::ucs2_to_utf8(*payload).text, std::string(300, 'x') + " ✓");
}

// Parts are not reassembled: a rule on the text is skipped for one, and says so; the rule's
// other writes still apply, alike for every part.
TEST(Transform, APartOfAConcatenatedMessageKeepsItsText) {
  const Transform t({rule({}, {}, {{"short_message", "${short_message} STOP"}}),
                     rule({}, {{"source_addr", "BRAND"}, {"short_message", "x"}}, {}),
                     rule({}, {}, {{"destination_addr", "+49${destination_addr}"}})},
                    {});
  smpp::Pdu p = submit("170000");
  auto& sm = *p.as<smpp::SubmitSm>();
  const std::vector<uint8_t> part = {0x05, 0x00, 0x03, 0x2A, 0x02, 0x01, 'H', 'i'};
  sm.short_message.assign(part);
  sm.esm_class = smpp::esm_class::kUdhi;
  auto r = apply(t, p);
  ASSERT_FALSE(r.rejection);
  EXPECT_EQ(std::vector<uint8_t>(sm.short_message.bytes().begin(), sm.short_message.bytes().end()),
            part);
  EXPECT_EQ(sm.source_addr, "BRAND");
  EXPECT_EQ(sm.destination_addr, "49170000");
  ASSERT_EQ(r.rewrite.skipped.size(), 2u);
  EXPECT_EQ(r.rewrite.skipped[0].rule, "rule #1");
  EXPECT_EQ(r.rewrite.skipped[0].reason, "part");
  EXPECT_EQ(r.rewrite.skipped[1].rule, "rule #2");

  // SAR parts, and binary data, the same.
  smpp::Pdu s = submit("1", "Hi");
  s.as<smpp::SubmitSm>()->tlvs.set(smpp::tlv::sar_msg_ref_num, uint16_t{1});
  s.as<smpp::SubmitSm>()->tlvs.set(smpp::tlv::sar_total_segments, uint8_t{2});
  s.as<smpp::SubmitSm>()->tlvs.set(smpp::tlv::sar_segment_seqnum, uint8_t{1});
  EXPECT_EQ(apply(t, s).rewrite.skipped.at(0).reason, "part");
  smpp::Pdu b = submit("1", "Hi");
  b.as<smpp::SubmitSm>()->data_coding = 4;
  EXPECT_EQ(apply(t, b).rewrite.skipped.at(0).reason, "binary");
  EXPECT_EQ(b.as<smpp::SubmitSm>()->short_message.view(), "Hi");
}

TEST(Transform, SubmitMultiSkipsRulesAboutOneDestination) {
  const Transform t({rule({{"destination_addr", "8.*"}}, {{"source_addr", "NO"}}, {}),
                     rule({}, {{"source_addr", "YES"}}, {})},
                    {});
  smpp::SubmitMulti multi;
  multi.destinations.push_back({smpp::DestAddress::kSmeAddress, 1, 1, "841234567"});
  smpp::Pdu p = smpp::make_pdu(1, multi);
  auto r = apply(t, p);
  EXPECT_EQ(p.as<smpp::SubmitMulti>()->source_addr, "YES");
  ASSERT_EQ(r.rewrite.skipped.size(), 1u);
  EXPECT_EQ(r.rewrite.skipped[0].reason, "submit_multi");
}

// A pattern that backtracks without bound on a client's text: Boost.Regex gives up, and the
// rule does not match (no exception leaves the transform).
TEST(Transform, ARunawayRegexIsNoMatch) {
  const Transform t({rule({{"short_message", "(a*)*b"}}, {{"service_type", "HIT"}}, {})}, {});
  smpp::Pdu p = submit("1", std::string(150, 'a'));
  std::optional<Rejection> rejection;
  Rewrite out;
  EXPECT_NO_THROW(rejection = t.apply(p, "alice", true, out));
  EXPECT_FALSE(rejection);
  EXPECT_EQ(p.as<smpp::SubmitSm>()->service_type, "");
}

TEST(Transform, LiteralPrefixOfAPattern) {
  auto lp = literal_prefix("^8[0-9]{8}$");
  EXPECT_EQ(lp.prefix, "8");
  EXPECT_FALSE(lp.literal_only);
  lp = literal_prefix("client-a");
  EXPECT_EQ(lp.prefix, "client-a");
  EXPECT_TRUE(lp.literal_only);
  EXPECT_TRUE(literal_prefix("^MKTG$").literal_only);
  EXPECT_EQ(literal_prefix("2588*").prefix, "258") << "the last 8 is optional";
  EXPECT_EQ(literal_prefix("258|49").prefix, "");
  EXPECT_EQ(literal_prefix("(?i)stop").prefix, "");
  EXPECT_EQ(literal_prefix("a\\.b").prefix, "a");

  // The fast paths agree with the regex.
  const Transform t({rule({{"destination_addr", "2588*1"}}, {{"service_type", "HIT"}}, {})}, {});
  for (std::string_view to : {"2581", "25881", "258881", "2591", "258"}) {
    smpp::Pdu p = submit(to);
    apply(t, p);
    EXPECT_EQ(p.as<smpp::SubmitSm>()->service_type == "HIT", to.size() >= 4 && to != "2591") << to;
  }
}

// The chain runs its filters in order on the rewritten message: an address rule after the
// transform sees the new destination.
TEST(Transform, TheChainRunsTransformsInOrderAndFiltersSeeTheirResult) {
  config::Config c;
  config::ClientConfig alice;
  alice.system_id = "alice";
  alice.destination_addresses.blocked = {"+258*"};
  c.clients.push_back(alice);
  config::MiddlewareConfig transform;
  transform.type = config::MiddlewareType::transform;
  transform.rules = {rule({}, {}, {{"destination_addr", "+258${destination_addr}"}})};
  config::MiddlewareConfig filter;
  filter.type = config::MiddlewareType::address_filter;
  c.middleware = {transform, filter};
  const Chain chain(c);
  EXPECT_EQ(chain.order(), (std::vector<std::string>{"transform", "address_filter"}));
  smpp::Pdu p = submit("841234567");
  auto v = chain.run(p, "alice");
  ASSERT_TRUE(v.rejection);
  EXPECT_EQ(v.rejection->rule, "destination.blocked +258*");
  EXPECT_EQ(v.rejection->address, "258841234567");

  c.middleware = {filter, transform};
  const Chain before(c);
  smpp::Pdu q = submit("841234567");
  EXPECT_FALSE(before.run(q, "alice").rejection);
  EXPECT_EQ(q.as<smpp::SubmitSm>()->destination_addr, "258841234567");
}

}  // namespace
}  // namespace smppd::middleware
