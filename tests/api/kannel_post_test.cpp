// Kannel's POST /cgi-bin/sendsms read as Kannel reads it: X-Kannel headers with a text/plain or
// octet-stream body, and the XML document; the content types it refuses and when; every
// refusal with Kannel's exact body; the request smppd builds from it.
#include "api/message/kannel_post.hpp"

#include <gtest/gtest.h>

#include <climits>
#include <vector>

#include "api/message/message_build.hpp"

namespace smppd::api {
namespace {

using namespace std::chrono_literals;

const std::chrono::sys_seconds kNow{std::chrono::seconds(1'800'000'000)};

using Headers = std::vector<HeaderField>;

KannelPost post(const Headers& headers, std::string_view body = {}) {
  auto r = parse_kannel_post(headers, body);
  if (auto* e = std::get_if<KannelRefusal>(&r)) {
    ADD_FAILURE() << "refused before the credentials: " << e->status << " " << e->body;
    return {};
  }
  return std::get<KannelPost>(std::move(r));
}

KannelSendsms ok(const Headers& headers, std::string_view body = {}) {
  KannelPost p = post(headers, body);
  if (auto* e = std::get_if<KannelRefusal>(&p.outcome)) {
    ADD_FAILURE() << body << " -> " << e->status << " " << e->body;
    return {};
  }
  return std::get<KannelSendsms>(std::move(p.outcome));
}

KannelRefusal refused(const Headers& headers, std::string_view body = {}) {
  KannelPost p = post(headers, body);
  if (auto* e = std::get_if<KannelRefusal>(&p.outcome)) return *e;
  ADD_FAILURE() << body << " was accepted";
  return {};
}

MessageRequest request(const KannelSendsms& k) {
  auto r = kannel_to_request(k, kNow);
  if (auto* e = std::get_if<KannelRefusal>(&r)) {
    ADD_FAILURE() << e->body;
    return {};
  }
  return std::get<MessageRequest>(std::move(r));
}

Headers plain(std::initializer_list<HeaderField> more,
              std::string_view type = "text/plain; charset=UTF-8") {
  Headers h = {{"Host", "kannel:13013"}, {"Content-Type", type}};
  h.insert(h.end(), more);
  return h;
}

const Headers kAuthTo = {{"X-Kannel-Username", "shop"},
                         {"X-Kannel-Password", "secret"},
                         {"X-Kannel-From", "SHOP"},
                         {"X-Kannel-To", "+258841234567"}};

Headers with(std::initializer_list<HeaderField> more, std::string_view type = "text/plain") {
  Headers h = {{"Content-Type", type}};
  h.insert(h.end(), kAuthTo.begin(), kAuthTo.end());
  h.insert(h.end(), more);
  return h;
}

TEST(KannelPost, XKannelHeadersWithATextBody) {
  const KannelPost p = post(plain({{"x-kannel-username", "shop"},
                                   {"X-KANNEL-PASSWORD", " s3cret "},
                                   {"X-Kannel-From", "SHOP"},
                                   {"X-Kannel-To", " +258841234567 841234568 "},
                                   {"X-Kannel-DLR-Mask", "31"},
                                   {"X-Kannel-DLR-URL", "http://app/dlr?id=7&type=%d"},
                                   {"X-Kannel-Account", "acct"},
                                   {"X-Kannel-BInfo", "svc"},
                                   {"X-Kannel-SMSC", "smsc1"},
                                   {"X-Kannel-Priority", "2"},
                                   {"X-Kannel-Validity", "10"},
                                   {"X-Kannel-Deferred", "5"},
                                   {"X-Kannel-Meta-Data", "?smpp?a=b"}},
                                  "text/plain; charset=ISO-8859-1"),
                            "caf\xE9");
  EXPECT_EQ(p.username, "shop");
  EXPECT_EQ(p.password, "s3cret");  // stripped of blanks
  const KannelSendsms& k = std::get<KannelSendsms>(p.outcome);
  EXPECT_EQ(k.username, "shop");
  EXPECT_EQ(k.to, (std::vector<std::string>{"+258841234567", "841234568"}));
  EXPECT_EQ(*k.charset, "ISO-8859-1");
  EXPECT_EQ(k.coding, 0);  // text/plain: 7-bit
  EXPECT_EQ(k.text, "caf\xE9");
  EXPECT_EQ(*k.dlr_url, "http://app/dlr?id=7&type=%d");
  EXPECT_EQ(*k.smsc, "smsc1");
  EXPECT_EQ(*k.meta_data, "?smpp?a=b");

  const MessageRequest m = request(k);
  ASSERT_EQ(m.to.size(), 2u);
  EXPECT_EQ(m.to[0].ton, ton::kInternational);
  EXPECT_EQ(m.from.ton, ton::kAlphanumeric);
  EXPECT_EQ(m.data_coding, 0);
  EXPECT_EQ(m.payload, (std::vector<uint8_t>{'c', 'a', 'f', 0x05}));  // é in GSM 03.38
  EXPECT_TRUE(m.registered_delivery);
  EXPECT_EQ(m.priority_flag, 2);
  EXPECT_EQ(*m.expires_at, kNow + 10min);
  EXPECT_EQ(*m.schedule_at, kNow + 5min);
  EXPECT_EQ(*m.client_ref, "acct");
  const auto built = build_submits(m, m.to[1]);
  ASSERT_TRUE(std::holds_alternative<BuiltMessage>(built));
  EXPECT_EQ(std::get<BuiltMessage>(built).pdus.front().as<smpp::SubmitSm>()->priority_flag, 2);
}

TEST(KannelPost, TheLastHeaderOfANameWinsAndAnUnreadableNumberChangesNothing) {
  const KannelSendsms k = ok(with({{"X-Kannel-Coding", "2"},
                                   {"X-Kannel-Coding", "abc"},
                                   {"X-Kannel-From", "OTHER"},
                                   {"X-Kannel-MClass", " 1xyz"}}),
                             std::string("\0H\0i", 4));
  EXPECT_EQ(k.coding, 2);
  EXPECT_EQ(*k.from, "OTHER");
  EXPECT_EQ(k.mclass, 1);
  EXPECT_EQ(request(k).payload, (std::vector<uint8_t>{0, 'H', 0, 'i'}));
}

TEST(KannelPost, OctetStreamIsEightBitAndTheUdhIsHexOrUrlEncoded) {
  // Not hex (a space inside): URL-decoded as it is, so refused for its length octet.
  EXPECT_EQ(refused(with({{"X-Kannel-UDH", "0605041582 0000"}}, "application/octet-stream")).body,
            "UDH field misformed, rejected");
  KannelSendsms k =
      ok(with({{"X-Kannel-UDH", " 06050415820000 "}}, "application/octet-stream"), "\x01\x02");
  EXPECT_EQ(k.coding, 1);
  EXPECT_EQ(k.udh, (std::vector<uint8_t>{6, 5, 4, 0x15, 0x82, 0, 0}));
  MessageRequest m = request(k);
  EXPECT_EQ(m.data_coding, 4);
  EXPECT_EQ(m.payload, (std::vector<uint8_t>{1, 2}));
  k = ok(with({{"X-Kannel-UDH", "%06%05%04%15%82%00%00"}}, "application/octet-stream"));
  EXPECT_EQ(k.udh, (std::vector<uint8_t>{6, 5, 4, 0x15, 0x82, 0, 0}));
  // No Content-Type at all is octet-stream.
  Headers none(kAuthTo.begin(), kAuthTo.end());
  EXPECT_EQ(ok(none, "x").coding, 1);
  // An explicit coding wins over the type's.
  EXPECT_EQ(ok(with({{"X-Kannel-Coding", "0"}}, "application/octet-stream"), "x").coding, 0);
}

TEST(KannelPost, ContentTypes) {
  for (std::string_view type : {"application/x-www-form-urlencoded", "application/json",
                                "application/xml", "multipart/form-data; boundary=x"}) {
    const auto r = parse_kannel_post(with({}, type), "to=1&text=x");
    ASSERT_TRUE(std::holds_alternative<KannelRefusal>(r)) << type;
    EXPECT_EQ(std::get<KannelRefusal>(r), (KannelRefusal{400, "Invalid content-type"})) << type;
  }
  // The type in any case, its parameters after ';'.
  EXPECT_EQ(ok(with({}, " TEXT/Plain ; charset=\"utf-8\""), "x").charset, "utf-8");
  EXPECT_FALSE(ok(with({}, "text/plain"), "x").charset);
  // HTML and WML are read, then refused once the credentials and recipients are.
  for (std::string_view type : {"text/html", "text/vnd.wap.wml; charset=utf-8"}) {
    const KannelPost p = post(with({}, type), "<p>x</p>");
    EXPECT_EQ(p.username, "shop");
    EXPECT_EQ(std::get<KannelRefusal>(p.outcome),
              (KannelRefusal{415, "Unsupported content-type, rejected"}));
    EXPECT_EQ(refused({{"Content-Type", type}, {"X-Kannel-Username", "u"}}).body,
              "Missing receiver(s) number(s), rejected");
  }
}

TEST(KannelPost, CredentialsComeOnlyFromTheirHeaders) {
  // No user/pass aliases, no query: a POST without X-Kannel-Username has no credentials.
  const KannelPost p = post(plain({{"X-Kannel-User", "shop"}, {"X-Kannel-Pass", "secret"}}));
  EXPECT_FALSE(p.username);
  EXPECT_FALSE(p.password);
}

TEST(KannelPost, EveryRefusalIsKannelsOwnBody) {
  const std::string long_account(65, 'a');
  const std::pair<Headers, std::string_view> cases[] = {
      {plain({{"X-Kannel-From", "x"}}), "Missing receiver(s) number(s), rejected"},
      {plain({{"X-Kannel-To", "  "}, {"X-Kannel-From", "x"}}),
       "Empty receiver number not allowed, rejected"},
      {with({{"X-Kannel-UDH", "050003"}}), "UDH field misformed, rejected"},
      {plain({{"X-Kannel-To", "1"}}), "Sender missing and no global set, rejected"},
      {with({{"X-Kannel-Account", "a]b"}}), "Account field misformed or too long, rejected"},
      {with({{"X-Kannel-Account", long_account}}), "Account field misformed or too long, rejected"},
      {with({{"X-Kannel-DLR-URL", "ftp://app/dlr"}}), "DLR-URL field misformed, rejected"},
      {with({{"X-Kannel-DLR-URL", "http://"}}), "DLR-URL field misformed, rejected"},
      {with({{"X-Kannel-DLR-Mask", "67"}}), "DLR-Mask field misformed, rejected"},
      {with({{"X-Kannel-MClass", "4"}}), "MClass field misformed, rejected"},
      {with({{"X-Kannel-PID", "256"}}), "PID field misformed, rejected"},
      {with({{"X-Kannel-RPI", "3"}}), "RPI field misformed, rejected"},
      {with({{"X-Kannel-Alt-DCS", "2"}}), "Alt-DCS field misformed, rejected"},
      {with({{"X-Kannel-MWI", "8"}}), "MWI field misformed, rejected"},
      {with({{"X-Kannel-Coding", "3"}}), "Coding field misformed, rejected"},
      {with({{"X-Kannel-Compress", "2"}}), "Compress field misformed, rejected"},
      {with({{"X-Kannel-Validity", "-2"}}), "Validity field misformed, rejected"},
      {with({{"X-Kannel-Deferred", "-2"}}), "Deferred field misformed, rejected"},
      {with({{"X-Kannel-Priority", "4"}}), "Priority field misformed, rejected"},
  };
  for (const auto& [headers, body] : cases) {
    const KannelRefusal r = refused(headers);
    EXPECT_EQ(r.status, 400u) << body;
    EXPECT_EQ(r.body, body);
  }
  // Several faults: Kannel's order (the UDH before the sender, dlr-url before coding).
  EXPECT_EQ(refused(plain({{"X-Kannel-To", "1"}, {"X-Kannel-UDH", "0500"}})).body,
            "UDH field misformed, rejected");
  EXPECT_EQ(refused(with({{"X-Kannel-Coding", "9"}, {"X-Kannel-DLR-URL", "x"}})).body,
            "DLR-URL field misformed, rejected");
}

// The user guide's "XML Post", as the reference gives it.
constexpr std::string_view kXml = R"(<?xml version="1.0"?>
<message>
  <submit>
    <da><number>+258841234567</number></da>
    <da><number> 841234568 </number></da>
    <oa><number>SHOP</number></oa>
    <ud>Hello+World%21 caf%C3%A9</ud>
    <udh></udh>
    <meta-data>?smpp?a=b</meta-data>
    <dcs><mclass>1</mclass><coding>0</coding></dcs>
    <pid>0</pid><rpi>0</rpi><priority>1</priority>
    <vp><delay>10</delay></vp>
    <timing><delay>5</delay></timing>
    <statusrequest><dlr-mask>31</dlr-mask><dlr-url>http://app/dlr?id=1&amp;type=%d</dlr-url></statusrequest>
    <from><user>u</user><username>shop</username><pass>p</pass><password>secret</password><account>acct</account><binfo>svc</binfo></from>
    <to>smsc1</to>
  </submit>
</message>)";

Headers xml(std::string_view type = "text/xml") {
  return {{"Content-Type", type}};
}

TEST(KannelPost, TheXmlDocument) {
  const KannelPost p = post(xml(), kXml);
  EXPECT_EQ(p.username, "shop");  // <username> after <user>
  EXPECT_EQ(p.password, "secret");
  const KannelSendsms& k = std::get<KannelSendsms>(p.outcome);
  EXPECT_EQ(k.to, (std::vector<std::string>{"+258841234567", "841234568"}));
  EXPECT_EQ(*k.from, "SHOP");
  EXPECT_EQ(k.text, "Hello World! caf\xC3\xA9");  // URL-decoded: '+' is a space
  EXPECT_EQ(*k.charset, "UTF-8");
  EXPECT_TRUE(k.udh.empty());
  EXPECT_EQ(k.mclass, 1);
  EXPECT_EQ(k.coding, 0);
  EXPECT_EQ(k.priority, 1);
  EXPECT_EQ(k.validity, 10);
  EXPECT_EQ(k.deferred, 5);
  EXPECT_EQ(k.dlr_mask, 31);
  EXPECT_EQ(*k.dlr_url, "http://app/dlr?id=1&type=%d");
  EXPECT_EQ(*k.account, "acct");
  EXPECT_EQ(*k.binfo, "svc");
  EXPECT_EQ(*k.smsc, "smsc1");  // <to> is the smsc-id when there is no <smsc>
  EXPECT_EQ(*k.meta_data, "?smpp?a=b");

  const MessageRequest m = request(k);
  EXPECT_EQ(m.to.size(), 2u);
  EXPECT_TRUE(m.to_was_list);
  EXPECT_EQ(*m.text, "Hello World! caf\xC3\xA9");
  EXPECT_EQ(m.priority_flag, 1);
  EXPECT_EQ(*m.expires_at, kNow + 10min);
  EXPECT_TRUE(m.registered_delivery);
}

TEST(KannelPost, XmlBinaryCharsetAndUdh) {
  KannelSendsms k = ok(xml("Text/XML; charset=whatever"), R"(<?xml version="1.0"?>
<message><submit><da><number>1</number></da><oa><number>12345</number></oa>
<from><username>u</username><password>p</password></from>
<udh>06050415820000</udh><ud type="Binary">0102ff</ud><smsc>a</smsc><to>b</to>
</submit></message>)");
  EXPECT_EQ(k.coding, 0) << "an XML body is text/plain: 7-bit unless told";
  EXPECT_EQ(k.text, "\x01\x02\xFF");
  EXPECT_EQ(k.udh, (std::vector<uint8_t>{6, 5, 4, 0x15, 0x82, 0, 0}));
  EXPECT_EQ(*k.smsc, "a");
  // A "binary" <ud> that is not hex is left as it is.
  k = ok(xml(), R"(<message><submit><da><number>1</number></da><oa><number>1</number></oa>
<ud type="binary">zz+%41</ud></submit></message>)");
  EXPECT_EQ(k.text, "zz+%41");
  // The declared encoding is the charset: the text is converted from it.
  k = ok(xml(),
         "<?xml version='1.0' encoding='ISO-8859-1'?>"
         "<message><submit><da><number>1</number></da><oa><number>1</number></oa>"
         "<ud>caf%E9 \xE9</ud><dcs><coding>2</coding></dcs></submit></message>");
  EXPECT_EQ(*k.charset, "ISO-8859-1");
  EXPECT_EQ(k.text, "caf\xE9 \xE9");
  EXPECT_EQ(request(k).payload,
            (std::vector<uint8_t>{0, 'c', 0, 'a', 0, 'f', 0, 0xE9, 0, ' ', 0, 0xE9}));
}

TEST(KannelPost, XmlNumbersAreXPathNumbersCastAsCDoes) {
  const auto coding = [](std::string_view value) {
    const std::string doc =
        "<message><submit><da><number>1</number></da><oa><number>1</number></oa><dcs><coding>" +
        std::string(value) + "</coding></dcs></submit></message>";
    KannelPost p = post(xml(), doc);
    if (auto* k = std::get_if<KannelSendsms>(&p.outcome)) return std::to_string(k->coding);
    return std::get<KannelRefusal>(p.outcome).body;
  };
  EXPECT_EQ(coding("2"), "2");
  EXPECT_EQ(coding(" 1.9 "), "1");  // truncated
  EXPECT_EQ(coding("-0.5"), "0");
  EXPECT_EQ(coding("2e0"), "2");
  // NaN and what int cannot hold: INT_MIN, so refused.
  for (std::string_view bad : {"", "abc", "2abc", "+1", "1e10", ".", " "}) {
    EXPECT_EQ(coding(bad), "Coding field misformed, rejected") << bad;
  }
}

TEST(KannelPost, XmlRecipients) {
  const auto to = [](std::string_view da) {
    const std::string doc =
        "<message><submit>" + std::string(da) + "<oa><number>1</number></oa></submit></message>";
    KannelPost p = post(xml(), doc);
    if (auto* k = std::get_if<KannelSendsms>(&p.outcome)) {
      std::string all;
      for (const auto& n : k->to) all += "[" + n + "]";
      return all;
    }
    return std::get<KannelRefusal>(p.outcome).body;
  };
  EXPECT_EQ(to("<da><number>1</number><number>2</number></da>"), "[1][2]");
  EXPECT_EQ(to("<da><number>1 2</number></da>"), "[1 2]");                // not split
  EXPECT_EQ(to("<da><number>12<!-- x -->34</number></da>"), "[12][34]");  // two text nodes
  EXPECT_EQ(to("<da><number>1&amp;2</number></da>"), "[1&2]");
  EXPECT_EQ(to(""), "Missing receiver(s) number(s), rejected");
  EXPECT_EQ(to("<da><number/></da>"), "Missing receiver(s) number(s), rejected");
  // CDATA is not a text() node: the list exists but is empty.
  EXPECT_EQ(to("<da><number><![CDATA[1]]></number></da>"),
            "Number(s) has/have been denied by white/black lists, or allowed/denied rules.");
  // A number that is not one is dropped when the request is built.
  auto r = kannel_to_request(ok(xml(),
                                "<message><submit><da><number>1 2</number></da><oa>"
                                "<number>1</number></oa></submit></message>"),
                             kNow);
  EXPECT_EQ(std::get<KannelRefusal>(r).body,
            "Number(s) has/have been denied by white/black lists, or allowed/denied rules.");
}

TEST(KannelPost, AnXmlBodyThatDoesNotParseHasNoCredentials) {
  const std::string_view cases[] = {
      "",
      "not xml",
      "<message><submit><from><user>u</user></from></submit>",  // unclosed
      "<message><submit></message></submit>",
      "<!DOCTYPE message [<!ENTITY u \"shop\">]><message><submit><from><user>&u;</user>"
      "</from></submit></message>",
      "<message><submit><from><user>&undefined;</user></from></submit></message>",
      "<message a='1' a='2'/>",
      "<message>\x01</message>",
      "<message>\xFF</message>",  // not UTF-8
      "<?xml version='1.0' encoding='UTF-16'?><message/>",
      "<message/><message/>",
      "<message><submit><from><user>u</user></from></submit></message>trailing",
  };
  for (std::string_view body : cases) {
    const KannelPost p = post(xml(), body);
    EXPECT_FALSE(p.username) << body;
    EXPECT_EQ(std::get<KannelRefusal>(p.outcome).body, "Missing receiver(s) number(s), rejected")
        << body;
  }
  // Deeper than the reader goes.
  std::string deep;
  for (int i = 0; i < 1000; ++i) deep += "<a>";
  EXPECT_FALSE(post(xml(), deep).username);
}

TEST(KannelPost, XmlCredentialsOnlyUnderFrom) {
  KannelPost p = post(xml(), "<message><submit><user>u</user><pass>p</pass></submit></message>");
  EXPECT_FALSE(p.username);
  p = post(xml(), "<message><submit><from/></submit></message>");
  EXPECT_FALSE(p.username);
  p = post(xml(), "<message><submit><from><user> u </user><pass/></from></submit></message>");
  EXPECT_EQ(p.username, "u");
  EXPECT_EQ(p.password, "");
  // In a namespace, the elements are not the ones Kannel's XPath names.
  p = post(xml(), "<message xmlns='urn:x'><submit><from><user>u</user></from></submit></message>");
  EXPECT_FALSE(p.username);
}

}  // namespace
}  // namespace smppd::api
