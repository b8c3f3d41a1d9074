// Jasmin's HTTP API (/send, /rate, /balance) and its REST API's bodies (/secure/send,
// /secure/sendbatch) read as Jasmin reads them: Twisted's arguments, the defaults, the
// validation table in its order, every refusal byte for byte, the request smppd builds (as
// RapidPro's courier sends it), and the REST batches.
#include "api/message/jasmin_send.hpp"

#include <gtest/gtest.h>

#include <array>

#include "api/message/message_build.hpp"

namespace smppd::api {
namespace {

using namespace std::chrono_literals;

// 2027-01-15 08:00:00 UTC
const std::chrono::sys_seconds kNow{std::chrono::seconds(1'800'000'000)};

JasminSend ok(const JasminArgs& args) {
  auto r = parse_jasmin_send(args);
  if (auto* e = std::get_if<JasminRefusal>(&r)) {
    ADD_FAILURE() << e->status << " " << e->body;
    return {};
  }
  return std::get<JasminSend>(std::move(r));
}

JasminSend ok(std::string_view query) {
  return ok(parse_jasmin_form(query));
}

// The body of the refusal, which must be a 400.
std::string refused(std::string_view query) {
  auto r = parse_jasmin_send(parse_jasmin_form(query));
  if (auto* e = std::get_if<JasminRefusal>(&r)) {
    EXPECT_EQ(e->status, 400u) << query;
    EXPECT_EQ(e->body, "Error \"" + e->message + "\"");
    return e->body;
  }
  ADD_FAILURE() << query << " was accepted";
  return {};
}

MessageRequest request(std::string_view query) {
  auto r = jasmin_to_request(ok(query), kNow);
  if (auto* e = std::get_if<JasminRefusal>(&r)) {
    ADD_FAILURE() << query << " -> " << e->body;
    return {};
  }
  return std::get<MessageRequest>(std::move(r));
}

std::string not_sent(std::string_view query) {
  auto r = jasmin_to_request(ok(query), kNow);
  if (auto* e = std::get_if<JasminRefusal>(&r)) {
    EXPECT_EQ(e->status, 400u);
    return e->body;
  }
  return "sent";
}

constexpr std::string_view kAuth = "username=shop&password=secret&";

std::string q(std::string_view rest) {
  return std::string(kAuth) + std::string(rest);
}

// What courier's Jasmin handler sends (handlers/jasmin/handler.go, Go's url.Values.Encode: the
// names sorted), for a GSM text and, hex-encoded, for one that is not.
constexpr std::string_view kCourierGsm =
    "coding=0&content=Simple+Message&dlr=yes&dlr-level=2&dlr-method=POST"
    "&dlr-url=https%3A%2F%2Flocalhost%2Fc%2Fjs%2F8eb23e93-5ecb-45ba-b726-3b064e0c56ab%2Fstatus"
    "&from=2020&password=Password&to=250788383383&username=Username";
constexpr std::string_view kCourierUnicode =
    "coding=8&dlr=yes&dlr-level=2&dlr-method=POST"
    "&dlr-url=https%3A%2F%2Flocalhost%2Fc%2Fjs%2F8eb23e93-5ecb-45ba-b726-3b064e0c56ab%2Fstatus"
    "&from=2020&hex-content=e298ba&password=Password&to=250788383383&username=Username";

TEST(JasminSend, AsCourierSendsIt) {
  JasminSend s = ok(kCourierGsm);
  EXPECT_EQ(s.username, "Username");
  EXPECT_EQ(s.password, "Password");
  EXPECT_EQ(s.to, "250788383383");
  EXPECT_EQ(*s.from, "2020");
  EXPECT_EQ(s.coding, 0);
  EXPECT_TRUE(s.dlr);
  EXPECT_EQ(s.dlr_level, 2);
  EXPECT_EQ(s.dlr_method, "POST");
  EXPECT_EQ(*s.dlr_url, "https://localhost/c/js/8eb23e93-5ecb-45ba-b726-3b064e0c56ab/status");
  EXPECT_EQ(s.content, "Simple Message");
  EXPECT_FALSE(s.hex_content);

  MessageRequest m = request(kCourierGsm);
  ASSERT_EQ(m.to.size(), 1u);
  EXPECT_EQ(m.to[0], (Address{"250788383383", ton::kUnknown, npi::kIsdn}));
  EXPECT_EQ(m.from, (Address{"2020", ton::kUnknown, npi::kIsdn}));
  EXPECT_EQ(m.data_coding, 0);
  EXPECT_EQ(std::string(m.payload.begin(), m.payload.end()), "Simple Message");
  EXPECT_EQ(*m.text, "Simple Message");
  EXPECT_TRUE(m.registered_delivery) << "level 2 is the handset's receipt";
  EXPECT_FALSE(m.callback_url) << "the caller calls back as Jasmin does";
  const auto built = build_submits(m, m.to[0]);
  ASSERT_TRUE(std::holds_alternative<BuiltMessage>(built));
  EXPECT_EQ(std::get<BuiltMessage>(built).pdus.front().as<smpp::SubmitSm>()->registered_delivery,
            1);

  // courier hex-encodes the UTF-8 of a non-GSM text and sends it as coding 8: the bytes go as
  // they are, as Jasmin sends them.
  s = ok(kCourierUnicode);
  EXPECT_TRUE(s.hex_content);
  EXPECT_EQ(s.content, "\xE2\x98\xBA");
  m = request(kCourierUnicode);
  EXPECT_EQ(m.data_coding, 8);
  EXPECT_EQ(m.alphabet, smpp::Alphabet::ucs2);
  EXPECT_EQ(m.payload, (std::vector<uint8_t>{0xE2, 0x98, 0xBA}));
  EXPECT_TRUE(std::holds_alternative<BuiltMessage>(build_submits(m, m.to[0])));

  // Its "smart" quotes replaced, and an attachment's URL on a line of its own.
  EXPECT_EQ(ok(q("to=1&content=Fancy+%22Smart%22+Quotes")).content, "Fancy \"Smart\" Quotes");
  EXPECT_EQ(request(q("to=1&content=My+pic%21%0Ahttps%3A%2F%2Ffoo.bar%2Fimage.jpg")).text,
            "My pic!\nhttps://foo.bar/image.jpg");
}

TEST(JasminSend, Defaults) {
  JasminSend s = ok(q("to=1&content=x"));
  EXPECT_EQ(s.coding, 0);
  EXPECT_FALSE(s.dlr);
  EXPECT_EQ(s.dlr_level, 0);
  EXPECT_EQ(s.dlr_method, "");
  // dlr-url or dlr-level force dlr=yes, whatever dlr says.
  s = ok(q("to=1&content=x&dlr=no&dlr-url=http://app/dlr"));
  EXPECT_TRUE(s.dlr);
  EXPECT_EQ(s.dlr_level, 1);
  EXPECT_EQ(s.dlr_method, "POST");
  s = ok(q("to=1&content=x&dlr=maybe&dlr-level=3&dlr-method=get"));
  EXPECT_TRUE(s.dlr);
  EXPECT_EQ(s.dlr_level, 3);
  EXPECT_EQ(s.dlr_method, "GET");
  EXPECT_FALSE(s.dlr_url) << "dlr without a dlr-url: no callback";
  s = ok(q("to=1&content=x&dlr=yes"));
  EXPECT_EQ(s.dlr_level, 1);
  // A dlr-method without dlr is upper-cased, checked, and of no use.
  s = ok(q("to=1&content=x&dlr-method=Get"));
  EXPECT_FALSE(s.dlr);
  EXPECT_EQ(s.dlr_method, "");
  s =
      ok(q("to=%2B258841234567&content=&priority=3&validity-period=0090&tags=a,,b-1&sdt="
           "261224160000000%2B"));
  EXPECT_EQ(s.to, "+258841234567");
  EXPECT_EQ(s.content, "");
  EXPECT_EQ(*s.priority, 3);
  EXPECT_EQ(*s.validity_period, "0090");
  EXPECT_EQ(s.tags, (std::vector<std::string>{"a", "", "b-1"}));
  EXPECT_EQ(*s.sdt, "261224160000000+");
}

TEST(JasminSend, EveryRefusalIsJasminsOwnBody) {
  const std::pair<std::string, std::string_view> cases[] = {
      {q("to=1&content=x&text=y"), "Error \"Argument [text] is unknown.\""},
      {"text=y&" + q("to=1&content=x"), "Error \"Argument [text] is unknown.\""},
      {q("content=x"), "Error \"Mandatory argument [to] is not found.\""},
      {"password=p&to=1&content=x", "Error \"Mandatory argument [username] is not found.\""},
      {"username=u&to=1&content=x", "Error \"Mandatory argument [password] is not found.\""},
      {q("to=abc&content=x"), "Error \"Argument [to] has an invalid value: [abc].\""},
      {q("to=%2B&content=x"), "Error \"Argument [to] has an invalid value: [+].\""},
      {q("to=1+2&content=x"), "Error \"Argument [to] has an invalid value: [1 2].\""},
      {q("to=&content=x"), "Error \"Argument [to] has an invalid value: [].\""},
      {q("to=1&content=x&coding=11"), "Error \"Argument [coding] has an invalid value: [11].\""},
      {q("to=1&content=x&coding=08"), "Error \"Argument [coding] has an invalid value: [08].\""},
      {"username=" + std::string(17, 'u') + "&password=p&to=1&content=x",
       "Error \"Argument [username] has an invalid value: [uuuuuuuuuuuuuuuuu].\""},
      {"username=u&password=&to=1&content=x",
       "Error \"Argument [password] has an invalid value: [].\""},
      {q("to=1&content=x&priority=4"), "Error \"Argument [priority] has an invalid value: [4].\""},
      {q("to=1&content=x&sdt=261224160000000"),
       "Error \"Argument [sdt] has an invalid value: [261224160000000].\""},
      {q("to=1&content=x&sdt=26122416000000R0"),
       "Error \"Argument [sdt] has an invalid value: [26122416000000R0].\""},
      {q("to=1&content=x&validity-period=-1"),
       "Error \"Argument [validity-period] has an invalid value: [-1].\""},
      {q("to=1&content=x&dlr=YES"), "Error \"Argument [dlr] has an invalid value: [YES].\""},
      {q("to=1&content=x&dlr-url=ftp://app"),
       "Error \"Argument [dlr-url] has an invalid value: [ftp://app].\""},
      {q("to=1&content=x&dlr-url=HTTP://app"),
       "Error \"Argument [dlr-url] has an invalid value: [HTTP://app].\""},
      {q("to=1&content=x&dlr-level=0"),
       "Error \"Argument [dlr-level] has an invalid value: [0].\""},
      {q("to=1&content=x&dlr-method=put"),
       "Error \"Argument [dlr-method] has an invalid value: [PUT].\""},  // upper-cased first
      {q("to=1&content=x&tags=a+b"), "Error \"Argument [tags] has an invalid value: [a b].\""},
      {q("to=1"), "Error \"content or hex-content not present.\""},
      {q("to=1&content=x&hex-content=78"),
       "Error \"content and hex-content cannot be used both in same request.\""},
      {q("to=1&hex-content=zz"), "Error \"Invalid hex-content data: 'b'zz''\""},
      {q("to=1&hex-content=abc"), "Error \"Invalid hex-content data: 'b'abc''\""},
      {q("to=1&hex-content=it's%0A%FF"), "Error \"Invalid hex-content data: 'b\"it's\\n\\xff\"'\""},
      {q("to=1&custom_tlvs=[]&content=x"), "Error \"Argument [custom_tlvs] is unknown.\""},
  };
  for (const auto& [query, body] : cases) EXPECT_EQ(refused(query), body) << query;
}

TEST(JasminSend, TheFieldsAreCheckedOnceTheFirstNameIsKnown) {
  // Jasmin's loop: the first name is checked for being known, then every field in the table's
  // order, then the other names: an invalid field is reported before a later unknown name.
  EXPECT_EQ(refused(q("to=abc&text=y&content=x")),
            "Error \"Argument [to] has an invalid value: [abc].\"");
  EXPECT_EQ(refused("text=y&" + q("to=abc&content=x")), "Error \"Argument [text] is unknown.\"");
  // The table's order: to before coding, whatever the query's.
  EXPECT_EQ(refused(q("coding=99&to=abc&content=x")),
            "Error \"Argument [to] has an invalid value: [abc].\"");
  EXPECT_EQ(refused("to=abc&content=x"), "Error \"Argument [to] has an invalid value: [abc].\"");
  EXPECT_EQ(refused("content=x"), "Error \"Mandatory argument [to] is not found.\"");
}

TEST(JasminSend, PythonsDollarLetsAFinalNewlineThrough) {
  JasminSend s = ok(q("to=123%0A&content=x&priority=2%0A&dlr-url=http://a/b%0A"));
  EXPECT_EQ(s.to, "123");
  EXPECT_EQ(*s.priority, 2);
  EXPECT_EQ(*s.dlr_url, "http://a/b");
  EXPECT_EQ(ok("username=u%0A&password=p&to=1&content=x").username, "u\n")
      << "credentials are kept as given: Jasmin would not find that user";
  EXPECT_EQ(refused(q("to=1%0A%0A&content=x")),
            "Error \"Argument [to] has an invalid value: [1\n\n].\"");
  EXPECT_EQ(refused("username=%0A&password=p&to=1&content=x"),
            "Error \"Argument [username] has an invalid value: [\n].\"");
  EXPECT_EQ(refused(q("to=1&content=x&dlr-url=http://a%0Ab")),
            "Error \"Argument [dlr-url] has an invalid value: [http://a\nb].\"");
}

TEST(JasminArgs, FormsAreReadAsTwistedReadsThem) {
  const JasminArgs a = parse_jasmin_form("a=1;b=2&noequals&c=x+y%21%zz&a=3&=e&d=");
  ASSERT_EQ(a.size(), 5u);
  EXPECT_EQ(a.items()[0], (JasminArg{"a", "1"}));  // the first value of a name
  EXPECT_EQ(a.items()[1], (JasminArg{"b", "2"}));  // ';' separates too
  EXPECT_EQ(a.items()[2], (JasminArg{"c", "x y!%zz"}));
  EXPECT_EQ(a.items()[3], (JasminArg{"", "e"}));
  EXPECT_EQ(a.items()[4], (JasminArg{"d", ""}));  // blank values are kept
  EXPECT_FALSE(a.find("noequals"));
  // The query, then a form body: the body's value in the query's place.
  const std::array sources = {parse_jasmin_form("to=1&content=q"),
                              parse_jasmin_form("content=b&username=u")};
  const JasminArgs merged = merge_jasmin_args(sources);
  ASSERT_EQ(merged.size(), 3u);
  EXPECT_EQ(merged.items()[0], (JasminArg{"to", "1"}));
  EXPECT_EQ(merged.items()[1], (JasminArg{"content", "b"}));
  EXPECT_EQ(merged.items()[2], (JasminArg{"username", "u"}));
  EXPECT_EQ(refused("unknown=1&" + q("to=1&content=x")),
            "Error \"Argument [unknown] is unknown.\"");
  EXPECT_EQ(refused("=1&" + q("to=1&content=x")), "Error \"Argument [] is unknown.\"");
}

TEST(JasminArgs, JsonBodies) {
  EXPECT_TRUE(is_jasmin_json("application/json"));
  EXPECT_FALSE(is_jasmin_json("application/json; charset=utf-8"));
  EXPECT_FALSE(is_jasmin_json("Application/JSON"));

  JasminArgs args = parse_jasmin_form("to=1&content=from-the-query");
  ASSERT_FALSE(merge_jasmin_json(args, R"({"username": "shop", "password": "secret",
      "content": "Ol\u00e1", "coding": 0, "priority": 1, "dlr_level": 2, "to": 258841234567})"));
  EXPECT_EQ(args.items()[0], (JasminArg{"to", "258841234567"}));  // in the query's place
  EXPECT_EQ(args.find("content")->value, "Ol\xC3\xA1");
  EXPECT_EQ(args.find("coding")->value, "0");
  EXPECT_EQ(args.find("priority")->value, "1");
  const auto sent = parse_jasmin_send(args);
  ASSERT_TRUE(std::holds_alternative<JasminRefusal>(sent));
  EXPECT_EQ(std::get<JasminRefusal>(sent).body, "Error \"Argument [dlr_level] is unknown.\"")
      << "/send's JSON keys are taken as they are: only the REST API turns '_' into '-'";

  const auto json_refusal = [](std::string_view body) {
    JasminArgs a;
    if (auto r = merge_jasmin_json(a, body)) return r->body;
    auto s = parse_jasmin_send(a);
    return std::holds_alternative<JasminRefusal>(s) ? std::get<JasminRefusal>(s).body
                                                    : std::string("accepted");
  };
  const std::string base = R"("username": "u", "password": "p", "content": "x", )";
  EXPECT_EQ(json_refusal("{" + base + R"("to": ["1", "2"]})"),
            "Error \"Argument [to] has an invalid value: [['1', '2']].\"")
      << "one address only: Jasmin would fail on a list";
  EXPECT_EQ(json_refusal("{" + base + R"("to": "1", "dlr": true})"),
            "Error \"Argument [dlr] has an invalid value: [True].\"");
  EXPECT_EQ(json_refusal("{" + base + R"("to": "1", "from": null})"),
            "Error \"Argument [from] has an invalid value: [None].\"");
  EXPECT_EQ(json_refusal("{" + base + R"("to": "1", "priority": 1.0})"),
            "Error \"Argument [priority] has an invalid value: [1.0].\"");
  EXPECT_EQ(json_refusal("{" + base + R"("to": "1", "priority": 1e16})"),
            "Error \"Argument [priority] has an invalid value: [1e+16].\"");
  EXPECT_EQ(json_refusal("{" + base + R"("to": "1", "coding": {"a": [1, 0.0001, "it's"]}})"),
            "Error \"Argument [coding] has an invalid value: [{'a': [1, 0.0001, \"it's\"]}].\"");
  EXPECT_EQ(json_refusal("{" + base + R"("to": 1.5e-05})"),
            "Error \"Argument [to] has an invalid value: [1.5e-05].\"");
  EXPECT_EQ(json_refusal("{" + base + R"("to": "1"})"), "accepted");
  for (std::string_view body : {"", "[]", "\"x\"", "{", "{\"to\": 1,}"}) {
    EXPECT_EQ(json_refusal(body), "Error \"Invalid JSON body: expected a JSON object.\"") << body;
  }
}

TEST(JasminSend, TheRequest) {
  // Coding 0: UTF-8 into GSM 03.38, what is not in it '?'.
  MessageRequest m = request(q("to=1&content=%E2%82%AC+%E4%BD%A0+%C3%A9"));
  EXPECT_EQ(m.payload, (std::vector<uint8_t>{0x1B, 0x65, ' ', '?', ' ', 0x05}));
  EXPECT_EQ(*m.text, "\xE2\x82\xAC \xE4\xBD\xA0 \xC3\xA9");
  EXPECT_EQ(not_sent(q("to=1&content=caf%E9")),
            "Error \"Argument [content] has an invalid value: [caf\xE9].\"");
  // Other codings: the bytes as they are.
  m = request(q("to=1&content=caf%E9&coding=3"));
  EXPECT_EQ(m.data_coding, 3);
  EXPECT_EQ(m.payload, (std::vector<uint8_t>{'c', 'a', 'f', 0xE9}));
  EXPECT_EQ(*m.text, "caf\xC3\xA9");
  m = request(q("to=1&hex-content=00480069&coding=8"));
  EXPECT_EQ(m.payload, (std::vector<uint8_t>{0, 'H', 0, 'i'}));
  EXPECT_EQ(*m.text, "Hi");
  m = request(q("to=1&hex-content=0102&coding=4"));
  EXPECT_EQ(m.alphabet, smpp::Alphabet::binary);
  EXPECT_FALSE(m.text);
  m = request(q("to=1&hex-content=48&coding=0"));  // hex with coding 0: septets as given
  EXPECT_EQ(m.payload, (std::vector<uint8_t>{'H'}));
  // Addresses.
  m = request(q("to=%2B258841234567&content=x&from=%2B15550001"));
  EXPECT_EQ(m.to[0], (Address{"258841234567", ton::kInternational, npi::kIsdn}));
  EXPECT_EQ(m.from, (Address{"15550001", ton::kInternational, npi::kIsdn}));
  EXPECT_EQ(request(q("to=1&content=x&from=My+Shop")).from,
            (Address{"My Shop", ton::kAlphanumeric, npi::kUnknown}));
  EXPECT_EQ(request(q("to=1&content=x")).from, (Address{"", ton::kUnknown, npi::kUnknown}));
  EXPECT_EQ(request(q("to=1&content=x&from=")).from, (Address{"", ton::kUnknown, npi::kUnknown}));
  EXPECT_EQ(not_sent(q("to=1&content=x&from=ABCDEFGHIJKL")),
            "Error \"Argument [from] has an invalid value: [ABCDEFGHIJKL].\"");
  EXPECT_EQ(not_sent(q("to=123456789012345678901&content=x")),
            "Error \"Argument [to] has an invalid value: [123456789012345678901].\"");
  // Priority, validity, schedule.
  m = request(q("to=1&content=x&priority=2&validity-period=90"));
  EXPECT_EQ(m.priority_flag, 2);
  EXPECT_EQ(*m.expires_at, kNow + 90min);
  EXPECT_EQ(
      not_sent(q("to=1&content=x&validity-period=99999999999999999999999")),
      "Error \"Argument [validity-period] has an invalid value: [99999999999999999999999].\"");
  m = request(q("to=1&content=x&sdt=271224160000000%2B"));
  EXPECT_EQ(*m.schedule_at, std::chrono::sys_days(2027y / 12 / 24) + 16h);
  m = request(q("to=1&content=x&sdt=271224180000008%2B"));  // +2h: 16:00 UTC
  EXPECT_EQ(*m.schedule_at, std::chrono::sys_days(2027y / 12 / 24) + 16h);
  m = request(q("to=1&content=x&sdt=000001020000000R"));
  EXPECT_EQ(*m.schedule_at, kNow + 26h);
  EXPECT_FALSE(request(q("to=1&content=x&sdt=200101000000000%2B")).schedule_at) << "past: now";
  EXPECT_EQ(not_sent(q("to=1&content=x&sdt=271324160000000%2B")),
            "Error \"Argument [sdt] has an invalid value: [271324160000000+].\"");
  EXPECT_EQ(not_sent(q("to=1&content=x&sdt=990000000000000R")),
            "Error \"Argument [sdt] has an invalid value: [990000000000000R].\"");
  // A receipt from the SMSC for levels 2 and 3 only.
  EXPECT_FALSE(request(q("to=1&content=x&dlr=yes")).registered_delivery);
  EXPECT_TRUE(request(q("to=1&content=x&dlr-level=3")).registered_delivery);
  EXPECT_FALSE(request(q("to=1&content=x&dlr=no")).registered_delivery);
  // The priority goes into the submit_sm.
  m = request(q("to=1&content=x&priority=1"));
  const auto built = build_submits(m, m.to[0]);
  ASSERT_TRUE(std::holds_alternative<BuiltMessage>(built));
  EXPECT_EQ(std::get<BuiltMessage>(built).pdus.front().as<smpp::SubmitSm>()->priority_flag, 1);
}

TEST(JasminRate, ArgumentsAndJsonStringRefusals) {
  const auto rate = parse_jasmin_rate(parse_jasmin_form(q("to=%2B1555")));
  ASSERT_TRUE(std::holds_alternative<JasminSend>(rate));
  const JasminSend& s = std::get<JasminSend>(rate);
  EXPECT_EQ(s.content, "");  // content is optional
  EXPECT_FALSE(s.dlr);
  EXPECT_TRUE(std::holds_alternative<MessageRequest>(jasmin_to_request(s, kNow)));

  const auto refusal = [](std::string_view query) {
    auto r = parse_jasmin_rate(parse_jasmin_form(query));
    return std::holds_alternative<JasminRefusal>(r) ? std::get<JasminRefusal>(r).body
                                                    : std::string("accepted");
  };
  EXPECT_EQ(refusal(q("to=1&dlr=yes")), R"("Argument [dlr] is unknown.")");
  EXPECT_EQ(refusal(q("to=1&sdt=271224160000000%2B")), R"("Argument [sdt] is unknown.")");
  EXPECT_EQ(refusal(q("to=x")), R"("Argument [to] has an invalid value: [x].")");
  EXPECT_EQ(refusal("to=1"), R"("Mandatory argument [username] is not found.")");
  EXPECT_EQ(refusal(q("to=1&content=a&hex-content=61")),
            R"("content and hex-content cannot be used both in same request.")");
  EXPECT_EQ(refusal(q("to=1&hex-content=6")), R"("Invalid hex-content data: 'b'6''")");
  EXPECT_EQ(refusal(q("to=1&tags=%C3%A9%22")),
            R"("Argument [tags] has an invalid value: [\u00e9\"].")");
}

TEST(JasminBalance, Arguments) {
  const auto balance = [](std::string_view query) -> std::string {
    auto r = parse_jasmin_balance(parse_jasmin_form(query));
    if (auto* c = std::get_if<JasminCredentials>(&r)) return c->username + ":" + c->password;
    EXPECT_EQ(std::get<JasminRefusal>(r).status, 400u);
    return std::get<JasminRefusal>(r).body;
  };
  EXPECT_EQ(balance("username=shop&password=secret"), "shop:secret");
  EXPECT_EQ(balance(""),
            R"("Mandatory arguments not found, please refer to the HTTPAPI specifications.")");
  EXPECT_EQ(balance("username=shop"), R"("Mandatory argument [password] is not found.")");
  EXPECT_EQ(balance("username=shop&password=secret&to=1"), R"("Argument [to] is unknown.")");
}

TEST(JasminAnswers, Bodies) {
  EXPECT_EQ(jasmin_success("07033084-5cfd-4812-90a4-e4d24ffb6e3d"),
            "Success \"07033084-5cfd-4812-90a4-e4d24ffb6e3d\"");
  EXPECT_EQ(jasmin_json_string("No route found"), "\"No route found\"");
  EXPECT_EQ(jasmin_json_string("a\"\\\n\x01\x7F\xC3\xA9\xF0\x9F\x98\x80\xFF"),
            R"("a\"\\\n\u0001\u007f\u00e9\ud83d\ude00\ufffd")");
  // The REST API's, from the HTTP API's (the closing quote is lost, as in Jasmin's docs).
  EXPECT_EQ(jasmin_rest_answer(200, "Success \"c723d42a-c3ee-452c-940b-3d8e8b944868\""),
            R"({"data": "Success \"c723d42a-c3ee-452c-940b-3d8e8b944868"})");
  EXPECT_EQ(jasmin_rest_answer(412, "Error \"No route found\""),
            R"({"message": "Error \"No route found"})");
  EXPECT_EQ(jasmin_rest_answer(200, R"({"balance": 10.5, "sms_count": "ND"})"),
            R"({"data": {"balance": 10.5, "sms_count": "ND"}})");
  EXPECT_EQ(jasmin_rest_answer(412, R"("No route found")"), R"({"message": "No route found"})");
}

TEST(JasminRest, SendBodies) {
  auto r = jasmin_rest_send_args(
      R"({"to": ["+1555", "+1666"], "content": "Hi", "dlr_url": "http://a/b", "dlr_level": 2,
          "username": "other", "priority": true, "from": null, "coding": []})",
      "shop", "secret");
  ASSERT_TRUE(std::holds_alternative<JasminArgs>(r));
  const JasminArgs& a = std::get<JasminArgs>(r);
  EXPECT_EQ(a.find("to")->value, "+1555");  // requests' query: /send reads the first
  EXPECT_EQ(a.find("dlr-url")->value, "http://a/b");
  EXPECT_EQ(a.find("dlr-level")->value, "2");
  EXPECT_EQ(a.find("username")->value, "shop");  // Basic credentials over the body's
  EXPECT_EQ(a.find("password")->value, "secret");
  EXPECT_EQ(a.find("priority")->value, "True");
  EXPECT_FALSE(a.find("from"));  // None is left out
  EXPECT_FALSE(a.find("coding"));
  const auto sent = parse_jasmin_send(a);
  EXPECT_EQ(std::get<JasminRefusal>(sent).body,
            "Error \"Argument [priority] has an invalid value: [True].\"");
  r = jasmin_rest_send_args(R"({"to": ["+1555", "+1666"], "content": "Hi", "dlr_level": 2})",
                            "shop", "secret");
  const JasminSend s = ok(std::get<JasminArgs>(r));
  EXPECT_EQ(s.to, "+1555");
  EXPECT_EQ(s.dlr_level, 2);
  EXPECT_EQ(s.username, "shop");

  for (std::string_view body : {"{bad", "[1]", ""}) {
    r = jasmin_rest_send_args(body, "u", "p");
    ASSERT_TRUE(std::holds_alternative<JasminRefusal>(r)) << body;
    EXPECT_EQ(std::get<JasminRefusal>(r).status, 412u);
  }
  r = jasmin_rest_send_args("{bad'\n", "u", "p");
  EXPECT_EQ(
      std::get<JasminRefusal>(r).body,
      R"({"title": "Cannot parse JSON data", "description": "Got unparseable json data: b\"{bad'\\n\""})");
}

JasminBatch batch(std::string_view body, const JasminBatchLimits& limits = {}) {
  auto r = parse_jasmin_batch(body, "shop", "secret", kNow, limits);
  if (auto* e = std::get_if<JasminRefusal>(&r)) {
    ADD_FAILURE() << e->status << " " << e->body;
    return {};
  }
  return std::get<JasminBatch>(std::move(r));
}

JasminRefusal batch_refusal(std::string_view body, const JasminBatchLimits& limits = {}) {
  auto r = parse_jasmin_batch(body, "shop", "secret", kNow, limits);
  if (auto* e = std::get_if<JasminRefusal>(&r)) return *e;
  ADD_FAILURE() << body << " was accepted";
  return {};
}

TEST(JasminRest, Batches) {
  // The documentation's example.
  const JasminBatch b = batch(R"({
    "globals": {"from": "Jookies", "dlr_level": 3, "dlr_url": "http://app/dlr", "username": "x"},
    "messages": [
      {"to": ["33333331", "33333332", "33333333"], "content": "Same content goes to 3 numbers"},
      {"to": "7777771", "content": "Hello world !", "from": "Other"},
      {"to": "7777772", "hex_content": "0623063106460628"},
      {"content": "no recipient: left out"},
      {"to": "1"}
    ],
    "batch_config": {"callback_url": "http://app/cb", "errback_url": "http://app/eb"}})");
  ASSERT_EQ(b.messages.size(), 5u);
  EXPECT_EQ(*b.callback_url, "http://app/cb");
  EXPECT_EQ(*b.errback_url, "http://app/eb");
  EXPECT_EQ(b.delay, 0s);
  EXPECT_FALSE(b.scheduled);
  const JasminArgs& first = b.messages[0];
  ASSERT_EQ(first.size(), 7u);
  EXPECT_EQ(first.items()[0], (JasminArg{"username", "x"}))
      << "globals over the credentials, as Jasmin merges them";
  EXPECT_EQ(first.items()[1], (JasminArg{"password", "secret"}));
  EXPECT_EQ(first.find("dlr-level")->value, "3");
  EXPECT_EQ(first.find("to")->value, "33333331");
  EXPECT_EQ(b.messages[2].find("to")->value, "33333333");
  EXPECT_EQ(b.messages[3].find("from")->value, "Other");
  EXPECT_EQ(b.messages[4].find("hex-content")->value, "0623063106460628");
  const JasminSend s = ok(b.messages[4]);
  EXPECT_EQ(s.content, "\x06\x23\x06\x31\x06\x46\x06\x28");
  EXPECT_EQ(jasmin_batch_answer("2ec4f9b0-1a0b-4b8e-9c29-8f7e4a8a1f00", b),
            R"({"data": {"batchId": "2ec4f9b0-1a0b-4b8e-9c29-8f7e4a8a1f00", "messageCount": 5}})");
  // Nothing to send is a batch too.
  EXPECT_TRUE(batch("{}").messages.empty());
  // A null recipient in a list is a message without `to` (which /send refuses).
  const JasminBatch nulls = batch(R"({"messages": [{"to": [null, "1"], "content": "x"}]})");
  ASSERT_EQ(nulls.messages.size(), 2u);
  EXPECT_FALSE(nulls.messages[0].find("to"));
}

TEST(JasminRest, BatchSchedules) {
  // kNow is 2027-01-15 08:00:00 UTC.
  JasminBatch b = batch(R"({"batch_config": {"schedule_at": "2027-01-15 09:00:00"}})");
  EXPECT_EQ(b.delay, 1h);
  EXPECT_EQ(*b.scheduled, "3600.0s");
  EXPECT_EQ(jasmin_batch_answer("id", b),
            R"({"data": {"batchId": "id", "messageCount": 0, "scheduled": "3600.0s"}})");
  b = batch(R"({"batch_config": {"schedule_at": "2027-1-15  8:0:1"}})");  // as strptime reads
  EXPECT_EQ(b.delay, 1s);
  b = batch(R"({"batch_config": {"schedule_at": "2027-01-15 08:00:00"}})");
  EXPECT_EQ(b.delay, 0s);
  EXPECT_FALSE(b.scheduled);
  b = batch(R"({"batch_config": {"schedule_at": "0090s"}})");
  EXPECT_EQ(b.delay, 90s);
  EXPECT_EQ(*b.scheduled, "90s");
  b = batch(R"({"batch_config": {"schedule_at": "0s"}})");
  EXPECT_FALSE(b.scheduled);
  b = batch(R"({"batch_config": {"schedule_at": null}})");
  EXPECT_EQ(b.delay, 0s);

  JasminRefusal r = batch_refusal(R"({"batch_config": {"schedule_at": "2027-1-15 7:59:59"}})");
  EXPECT_EQ(r.status, 412u);
  EXPECT_EQ(
      r.body,
      R"({"title": "Cannot schedule batch in past date", "description": "Invalid past date given: 2027-01-15 07:59:59"})");
  for (std::string_view at : {"tomorrow", "2027-02-30 10:00:00", "2027-01-15 10:00:60",
                              "2027-01-15T10:00:00", "10", "-5s", "10 s"}) {
    r = batch_refusal(R"({"batch_config": {"schedule_at": ")" + std::string(at) + "\"}}");
    EXPECT_EQ(r.status, 412u) << at;
    EXPECT_EQ(
        r.body,
        R"({"title": "Cannot parse scheduled_at value", "description": "Got unknown format: )" +
            std::string(at) +
            R"(, correct formats are 'YYYY-MM-DD mm:hh:ss' or number of seconds, c.f. http://docs.jasminsms.com/en/latest/apis/rest"})")
        << at;
  }
}

TEST(JasminRest, BatchRefusals) {
  EXPECT_EQ(batch_refusal("not json").status, 412u);
  EXPECT_EQ(batch_refusal(R"({"messages": {}})"),
            (JasminRefusal{
                400, R"({"title": "Invalid batch", "description": "messages must be an array"})",
                "Invalid batch: messages must be an array"}));
  EXPECT_EQ(batch_refusal(R"({"messages": ["x"]})").status, 400u);
  EXPECT_EQ(batch_refusal(R"({"globals": []})").status, 400u);
  EXPECT_EQ(batch_refusal(R"({"batch_config": "now"})").status, 400u);
  // Beyond the limits.
  JasminBatchLimits limits;
  limits.max_messages = 2;
  EXPECT_EQ(batch(R"({"messages": [{"to": ["1", "2"], "content": "x"}]})", limits).messages.size(),
            2u);
  EXPECT_EQ(
      batch_refusal(R"({"messages": [{"to": ["1", "2", "3"], "content": "x"}]})", limits).status,
      413u);
  limits = {};
  limits.max_bytes = 1000;
  EXPECT_EQ(
      batch_refusal(
          R"({"messages": [{"to": "1", "content": ")" + std::string(1000, 'x') + R"("}]})", limits)
          .status,
      413u);
}

}  // namespace
}  // namespace smppd::api
