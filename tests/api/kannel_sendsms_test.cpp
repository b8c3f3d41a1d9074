// Kannel's GET /cgi-bin/sendsms read as Kannel reads it: the fields, their aliases and
// precedence, every refusal with Kannel's exact body, and the request smppd builds from it
// (as playSMS and RapidPro's courier send it).
#include "api/message/kannel_sendsms.hpp"

#include <gtest/gtest.h>

#include "api/message/message_build.hpp"

namespace smppd::api {
namespace {

using namespace std::chrono_literals;

const std::chrono::sys_seconds kNow{std::chrono::seconds(1'800'000'000)};

KannelSendsms ok(std::string_view query) {
  auto r = parse_kannel_sendsms(query);
  if (auto* e = std::get_if<KannelRefusal>(&r)) {
    ADD_FAILURE() << query << " -> " << e->status << " " << e->body;
    return {};
  }
  return std::get<KannelSendsms>(r);
}

KannelRefusal refused(std::string_view query) {
  auto r = parse_kannel_sendsms(query);
  if (auto* e = std::get_if<KannelRefusal>(&r)) return *e;
  ADD_FAILURE() << query << " was accepted";
  return {};
}

MessageRequest request(std::string_view query) {
  auto r = kannel_to_request(ok(query), kNow);
  if (auto* e = std::get_if<KannelRefusal>(&r)) {
    ADD_FAILURE() << query << " -> " << e->body;
    return {};
  }
  return std::get<MessageRequest>(r);
}

TEST(KannelSendsms, ReadsTheFieldsTheirAliasesAndTheFirstOccurrence) {
  const KannelSendsms k =
      ok("user=alias&pass=s%26cret&username=shop&to=%2B258841234567+841234568&from=SHOP"
         "&text=Hello+World%21&dlrmask=31&dlr-url=http%3A%2F%2Fapp%2Fdlr%3Fid%3D7%26type%3D%25d"
         "&priority=1&account=acct&binfo=svc&unknown=whatever&from=OTHER");
  EXPECT_EQ(k.username, "shop");  // `username` before its alias `user`, wherever they are
  EXPECT_EQ(k.password, "s&cret");
  EXPECT_EQ(k.to, (std::vector<std::string>{"+258841234567", "841234568"}));
  EXPECT_EQ(*k.from, "SHOP");  // the first `from`
  EXPECT_EQ(k.text, "Hello World!");
  EXPECT_EQ(k.dlr_mask, 31);
  EXPECT_EQ(*k.dlr_url, "http://app/dlr?id=7&type=%d");
  EXPECT_EQ(k.priority, 1);
  EXPECT_EQ(*k.account, "acct");
  EXPECT_EQ(*k.binfo, "svc");
  EXPECT_EQ(k.coding, -1);
  EXPECT_EQ(k.validity, -1);
}

TEST(KannelSendsms, IntegersAreReadAsSscanfDoes) {
  EXPECT_EQ(ok("to=1&from=x&coding=2abc").coding, 2);
  EXPECT_EQ(ok("to=1&from=x&coding=+1").coding, 1);
  EXPECT_EQ(ok("to=1&from=x&coding=abc").coding, -1);  // not a number: not set
  EXPECT_EQ(ok("to=1&from=x&validity=%2010").validity, 10);
}

TEST(KannelSendsms, EveryRefusalIsKannelsOwnBody) {
  const std::pair<std::string_view, std::string_view> cases[] = {
      {"from=x&text=y", "Missing receiver number, rejected"},
      {"to=&from=x", "Empty receiver number not allowed, rejected"},
      {"to=+++&from=x", "Empty receiver number not allowed, rejected"},
      {"to=1&from=x&udh=%05%00%03", "UDH field misformed, rejected"},
      {"to=1&from=x&mclass=4", "MClass field misformed, rejected"},
      {"to=1&from=x&mwi=8", "MWI field misformed, rejected"},
      {"to=1&from=x&coding=3", "Coding field misformed, rejected"},
      {"to=1&from=x&validity=-2", "Validity field misformed, rejected"},
      {"to=1&from=x&deferred=-5", "Deferred field misformed, rejected"},
      {"to=1&from=x&dlr-mask=67", "DLR-Mask field misformed, rejected"},
      {"to=1&from=x&dlr-url=ftp://a", "DLR-URL field misformed, rejected"},
      {"to=1&from=x&pid=256", "PID field misformed, rejected"},
      {"to=1&from=x&priority=4", "Priority field misformed, rejected"},
      {"to=1&from=x&account=a%5Bb", "Account field misformed or too long, rejected"},
      {"to=1&text=y", "Sender missing and no global set, rejected"},
  };
  for (const auto& [query, body] : cases) {
    const KannelRefusal r = refused(query);
    EXPECT_EQ(r.status, 400u) << query;
    EXPECT_EQ(r.body, body) << query;
    EXPECT_EQ(r.body.find('\n'), std::string::npos);
  }
  // A UDH longer than 140 octets.
  std::string udh = "udh=%8C";
  for (int i = 0; i < 140; ++i) udh += "%00";
  EXPECT_EQ(refused("to=1&from=x&" + udh).body, "UDH field is too long, rejected");
}

TEST(KannelSendsms, SeveralFaultsInSmsboxReqHandlesOrder) {
  // The UDH first, then the sender, then the fields (dlr-url before dlr-mask before coding...).
  EXPECT_EQ(refused("to=1&udh=%05%00&coding=9").body, "UDH field misformed, rejected");
  EXPECT_EQ(refused("to=1&coding=9").body, "Sender missing and no global set, rejected");
  EXPECT_EQ(refused("to=1&from=x&coding=9&dlr-mask=99&dlr-url=x").body,
            "DLR-URL field misformed, rejected");
  EXPECT_EQ(refused("to=1&from=x&coding=9&dlr-mask=99").body, "DLR-Mask field misformed, rejected");
  // What Kannel takes as not given: an empty dlr-url, account or binfo.
  const KannelSendsms k = ok("to=1&from=x&dlr-url=&account=&binfo=");
  EXPECT_FALSE(k.dlr_url);
  EXPECT_FALSE(k.account);
  EXPECT_FALSE(k.binfo);
  // A dlr-url is "http://" or "https://" (any case) and at least one more character.
  EXPECT_EQ(refused("to=1&from=x&dlr-url=http://").body, "DLR-URL field misformed, rejected");
  EXPECT_EQ(*ok("to=1&from=x&dlr-url=HTTPS://a").dlr_url, "HTTPS://a");
}

TEST(KannelSendsms, PriorityIsThePriorityFlag) {
  EXPECT_EQ(request("username=u&password=p&from=x&to=1&text=a&priority=1").priority_flag, 1);
  EXPECT_EQ(request("username=u&password=p&from=x&to=1&text=a&priority=3").priority_flag, 3);
  EXPECT_EQ(request("username=u&password=p&from=x&to=1&text=a").priority_flag, 0);
}

TEST(KannelSendsms, MclassBinfoPidAndRpiGoToTheSubmitSm) {
  // playSMS's flash message: mclass=0 in the general data coding group.
  const std::string base = "username=u&password=p&from=x&to=1&text=a";
  EXPECT_EQ(request(base + "&mclass=0").data_coding, 0x10);
  EXPECT_EQ(request(base + "&mclass=1&coding=2&charset=utf-8").data_coding, 0x19);
  EXPECT_EQ(request(base + "&mclass=2&coding=1").data_coding, 0x16);
  EXPECT_EQ(request(base + "&mclass=1&alt-dcs=1").data_coding, 0xF1);
  EXPECT_EQ(request(base + "&mclass=3&alt-dcs=1&coding=2&charset=utf-8").data_coding, 0x1B);  // not 0xF_ for UCS-2
  EXPECT_EQ(request(base).data_coding, 0x00);
  const MessageRequest m = request(base + "&binfo=CMT&pid=64&rpi=1");
  EXPECT_EQ(m.service_type, "CMT");
  EXPECT_EQ(m.protocol_id, 64);
  EXPECT_TRUE(m.reply_path);
  auto built = build_submits(m, m.to.front());
  ASSERT_TRUE(std::holds_alternative<BuiltMessage>(built));
  const auto& sm = *std::get<BuiltMessage>(built).pdus.front().as<smpp::SubmitSm>();
  EXPECT_EQ(sm.service_type.view(), "CMT");
  EXPECT_EQ(sm.protocol_id, 64);
  EXPECT_EQ(sm.esm_class & 0x80, 0x80);
  EXPECT_FALSE(request(base + "&rpi=2").reply_path);
  auto refused = kannel_to_request(ok(base + "&binfo=TOOLONG"), kNow);
  ASSERT_TRUE(std::holds_alternative<KannelRefusal>(refused));
  EXPECT_EQ(std::get<KannelRefusal>(refused).body, "BInfo field misformed, rejected");
}

TEST(KannelSendsms, TheRequestAsPlaySmsAndCourierSendIt) {
  // courier: UTF-8 text, coding 2 with charset utf8, dlr-mask 27 (1|2|8|16).
  MessageRequest m = request(
      "username=u&password=p&from=%2B15550001&to=%2B258841234567&text=%C3%A9t%C3%A9+%E2%82%AC"
      "&coding=2&charset=utf8&dlr-mask=27&dlr-url=https%3A%2F%2Fc%2Fs%3Fstatus%3D%25d");
  ASSERT_EQ(m.to.size(), 1u);
  EXPECT_EQ(m.to[0].value, "258841234567");
  EXPECT_EQ(m.to[0].ton, ton::kInternational);
  EXPECT_EQ(m.from.value, "15550001");
  EXPECT_EQ(m.from.ton, ton::kInternational);
  EXPECT_EQ(m.data_coding, 8);
  EXPECT_EQ(m.payload, (std::vector<uint8_t>{0, 0xE9, 0, 't', 0, 0xE9, 0, ' ', 0x20, 0xAC}));
  EXPECT_TRUE(m.registered_delivery);
  EXPECT_EQ(*m.callback_url, "https://c/s?status=%d");
  // playSMS: UCS-2 bytes with charset UTF-16BE, two numbers, mclass 0 (flash), dlr-mask 31.
  m = request(
      "username=u&password=p&from=SMS&to=111+222&text=%00H%00i&coding=2"
      "&charset=UTF-16BE&mclass=0&dlr-mask=31&account=admin");
  EXPECT_EQ(m.to.size(), 2u);
  EXPECT_TRUE(m.to_was_list);
  EXPECT_EQ(m.from.ton, ton::kAlphanumeric);
  EXPECT_EQ(m.payload, (std::vector<uint8_t>{0, 'H', 0, 'i'}));
  EXPECT_EQ(*m.client_ref, "admin");
  // No coding: 7-bit, the text in GSM 03.38; no dlr-mask: no receipt.
  m = request("username=u&password=p&from=12345&to=1&text=Hello");
  EXPECT_EQ(m.data_coding, 0);
  EXPECT_EQ(m.payload, (std::vector<uint8_t>{'H', 'e', 'l', 'l', 'o'}));
  EXPECT_FALSE(m.registered_delivery);
  EXPECT_EQ(m.from.ton, ton::kUnknown);
  // Validity and deferred are minutes from now.
  m = request("username=u&password=p&from=x&to=1&text=a&validity=10&deferred=5");
  EXPECT_EQ(*m.expires_at, kNow + 10min);
  EXPECT_EQ(*m.schedule_at, kNow + 5min);
  // A UDH with 8-bit data (the default coding then).
  m = request("username=u&password=p&from=x&to=1&udh=%06%05%04%15%8A%00%00&text=%01%02");
  EXPECT_EQ(m.data_coding, 4);
  EXPECT_EQ(m.udh.size(), 7u);
  EXPECT_EQ(m.payload, (std::vector<uint8_t>{1, 2}));
  // And it builds.
  auto built = build_submits(m, m.to[0]);
  ASSERT_TRUE(std::holds_alternative<BuiltMessage>(built));
  EXPECT_EQ(std::get<BuiltMessage>(built).pdus.size(), 1u);
}

TEST(KannelSendsms, WhatCannotBeSentIsRefusedAsKannelWould) {
  auto refusal = [](std::string_view query) {
    auto r = kannel_to_request(ok(query), kNow);
    return std::holds_alternative<KannelRefusal>(r) ? std::get<KannelRefusal>(r).body
                                                    : std::string("accepted");
  };
  EXPECT_EQ(refusal("from=x&to=abc+12a&text=y"),
            "Number(s) has/have been denied by white/black lists, or allowed/denied rules.");
  EXPECT_EQ(refusal("from=x&to=1&text=%E4%BD%A0"), "Charset or body misformed, rejected")
      << "a 7-bit text must be in GSM 03.38";
  EXPECT_EQ(refusal("from=x&to=1&text=%FF%FE&charset=no-such-charset"),
            "Charset or body misformed, rejected");
  EXPECT_EQ(refusal("from=x&to=1&text=abc&coding=2"), "Charset or body misformed, rejected")
      << "UCS-2 without a charset is raw UTF-16BE: an odd length is not";
  // Latin-1 text converted to GSM.
  EXPECT_EQ(refusal("from=x&to=1&text=caf%E9&charset=ISO-8859-1"), "accepted");
}

}  // namespace
}  // namespace smppd::api
