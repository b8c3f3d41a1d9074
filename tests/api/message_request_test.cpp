#include "api/message/message_request.hpp"

#include <gtest/gtest.h>

#include <string>

namespace smppd::api {
namespace {

using namespace std::chrono_literals;
using std::chrono::sys_days;
using std::chrono::sys_seconds;

const sys_seconds kNow = sys_days(2026y / std::chrono::June / 1);  // 2026-06-01T00:00:00Z

MessageRequest ok(std::string_view body, const MessageLimits& limits = {}) {
  auto r = parse_message_request(body, kNow, limits);
  if (auto* e = std::get_if<FieldError>(&r)) {
    ADD_FAILURE() << body << "\n  -> " << e->field << ": " << e->detail;
    return {};
  }
  return std::get<MessageRequest>(std::move(r));
}

FieldError bad(std::string_view body, const MessageLimits& limits = {}) {
  auto r = parse_message_request(body, kNow, limits);
  if (auto* e = std::get_if<FieldError>(&r)) return *e;
  ADD_FAILURE() << body << "\n  -> accepted";
  return {};
}

// A message with `extra` members added to a valid minimal one.
std::string with(std::string_view extra) {
  return R"({"to": "+258841234567", "from": "MYAPP", )" + std::string(extra) + "}";
}

std::vector<uint8_t> bytes(std::string_view s) {
  return {s.begin(), s.end()};
}

TEST(MessageRequest, TheDesignExample) {
  const MessageRequest m = ok(R"({
    "to": "+258841234567", "from": "MYAPP", "text": "Hello World", "registered_delivery": true
  })");
  EXPECT_EQ(m.to, (std::vector<Address>{{"258841234567", ton::kInternational, npi::kIsdn}}));
  EXPECT_EQ(m.from, (Address{"MYAPP", ton::kAlphanumeric, npi::kUnknown}));
  EXPECT_EQ(m.alphabet, smpp::Alphabet::gsm7);
  EXPECT_EQ(m.data_coding, 0);
  EXPECT_EQ(m.payload, bytes("Hello World"));
  EXPECT_EQ(m.text, "Hello World");
  EXPECT_TRUE(m.udh.empty());
  EXPECT_TRUE(m.registered_delivery);
  EXPECT_FALSE(m.schedule_at || m.expires_at || m.callback_url || m.client_ref);
}

TEST(MessageRequest, RecipientsKeepTheirPlus) {
  const MessageRequest m = ok(R"({"to": ["+258841234567", "841234568", "+1"], "from": "12345",
                                  "text": "x"})");
  EXPECT_EQ(m.to, (std::vector<Address>{{"258841234567", ton::kInternational, npi::kIsdn},
                                        {"841234568", ton::kUnknown, npi::kIsdn},
                                        {"1", ton::kInternational, npi::kIsdn}}));
  EXPECT_EQ(ok(R"({"to": "12345678901234567890", "from": "A", "text": "x"})").to[0].value.size(),
            20u);
}

TEST(MessageRequest, PhoneNumbersAreNotGuessedAt) {
  for (const char* to : {"+1 555 0100", "555-0100", "(555)0100", "12a", "+", "", "++1",
                         "123456789012345678901", "+123456789012345678901", "１２３"}) {
    const FieldError e = bad(R"({"to": ")" + std::string(to) + R"(", "from": "A", "text": "x"})");
    EXPECT_EQ(e.field, "to") << to;
    EXPECT_EQ(e.detail.rfind("not a phone number: '", 0), 0u) << e.detail;
  }
  EXPECT_EQ(
      bad(R"({"to": ["1", "2", "3", "12a"], "from": "A", "text": "x"})"),
      (FieldError{"to[3]", "not a phone number: '12a' (an optional '+' and 1 to 20 digits)"}));
}

TEST(MessageRequest, RecipientsTypesAndCount) {
  EXPECT_EQ(bad(R"({"to": 258841234567, "from": "A", "text": "x"})"),
            (FieldError{"to", "expected a string or an array of strings"}));
  EXPECT_EQ(bad(R"({"to": ["1", 2], "from": "A", "text": "x"})"),
            (FieldError{"to[1]", "expected a string"}));
  EXPECT_EQ(bad(R"({"to": [], "from": "A", "text": "x"})"),
            (FieldError{"to", "must not be empty"}));
  EXPECT_EQ(bad(R"({"to": ["1", "2", "3"], "from": "A", "text": "x"})", {.max_recipients = 2}),
            (FieldError{"to", "at most 2 recipients, got 3"}));
}

TEST(MessageRequest, Senders) {
  const auto from = [](std::string_view f) {
    return ok(R"({"to": "1", "from": ")" + std::string(f) + R"(", "text": "x"})").from;
  };
  EXPECT_EQ(from("12345"), (Address{"12345", ton::kUnknown, npi::kIsdn}));  // a short code
  EXPECT_EQ(from("+447700900123"), (Address{"447700900123", ton::kInternational, npi::kIsdn}));
  EXPECT_EQ(from("0841234567"), (Address{"0841234567", ton::kUnknown, npi::kIsdn}));
  EXPECT_EQ(from("My Shop"), (Address{"My Shop", ton::kAlphanumeric, npi::kUnknown}));
  EXPECT_EQ(from("ABCDEFGHIJK").value, "ABCDEFGHIJK");  // 11
  EXPECT_EQ(from("ABCDEFGHI[").value, "ABCDEFGHI[");    // 9 + an extension character (2)

  const auto sender_error = [](std::string_view f) {
    return bad(R"({"to": "1", "from": ")" + std::string(f) + R"(", "text": "x"})");
  };
  EXPECT_EQ(sender_error("ABCDEFGHIJKL"),
            (FieldError{"from", "alphanumeric sender longer than 11 GSM characters"}));
  EXPECT_EQ(sender_error("ABCDEFGHIJ[").detail,
            "alphanumeric sender longer than 11 GSM characters");
  EXPECT_EQ(sender_error("Caf\u00e9"),
            (FieldError{"from",
                        "alphanumeric sender 'Caf\u00e9' may hold only printable ASCII "
                        "characters of the GSM alphabet"}));
  EXPECT_EQ(sender_error("a`b").field, "from");  // a backtick is not in GSM 03.38
  EXPECT_EQ(
      sender_error("+12ab"),
      (FieldError{"from", "not a phone number: '+12ab' (an optional '+' and 1 to 20 digits)"}));
  EXPECT_EQ(sender_error("123456789012345678901").detail.rfind("not a phone number", 0), 0u);
  EXPECT_EQ(sender_error(""), (FieldError{"from", "must not be empty"}));
  EXPECT_EQ(bad(R"({"to": "1", "from": 12345, "text": "x"})"),
            (FieldError{"from", "expected a string"}));
}

TEST(MessageRequest, TheAddressRulesAreTheOtherFaces) {
  // Kannel's and Jasmin's parsers read addresses with the same functions.
  EXPECT_EQ(parse_phone_number("+258841234567"),
            (Address{"258841234567", ton::kInternational, npi::kIsdn}));
  EXPECT_EQ(parse_phone_number("0841"), (Address{"0841", ton::kUnknown, npi::kIsdn}));
  EXPECT_FALSE(parse_phone_number("+"));
  EXPECT_FALSE(parse_phone_number("12 34"));
  EXPECT_FALSE(parse_phone_number(std::string(21, '1')));
  EXPECT_EQ(std::get<Address>(parse_sender("SHOP")),
            (Address{"SHOP", ton::kAlphanumeric, npi::kUnknown}));
  EXPECT_EQ(std::get<Address>(parse_sender("+1555")),
            (Address{"1555", ton::kInternational, npi::kIsdn}));
  EXPECT_EQ(std::get<std::string>(parse_sender("")), "must not be empty");
  EXPECT_EQ(std::get<std::string>(parse_sender("ABCDEFGHIJKL")),
            "alphanumeric sender longer than 11 GSM characters");
}

TEST(MessageRequest, RequiredAndUnknownFields) {
  EXPECT_EQ(bad(R"({"from": "A", "text": "x"})"), (FieldError{"to", "required"}));
  EXPECT_EQ(bad(R"({"to": "1", "text": "x"})"), (FieldError{"from", "required"}));
  EXPECT_EQ(bad(R"({"to": "1", "from": "A"})"), (FieldError{"text", "required (or binary)"}));
  EXPECT_EQ(bad(with(R"("text": "x", "registred_delivery": true)")),
            (FieldError{"registred_delivery", "unknown field"}));
  // A key given twice: the last one counts.
  EXPECT_EQ(ok(R"({"to": "1", "to": "2", "from": "A", "text": "x"})").to[0].value, "2");
}

TEST(MessageRequest, MalformedBodies) {
  // The parser's reason and the offset where it stopped, for a body that is not one JSON object.
  EXPECT_EQ(bad("{"), (FieldError{"", "malformed JSON at byte 1: incomplete JSON"}));
  EXPECT_EQ(bad(""), (FieldError{"", "malformed JSON at byte 0: incomplete JSON"}));
  EXPECT_EQ(bad(R"({"to": "1"} x)"), (FieldError{"", "malformed JSON at byte 12: extra data"}));
  EXPECT_EQ(bad(R"({"to": tru})"), (FieldError{"", "malformed JSON at byte 7: syntax error"}));
  EXPECT_EQ(bad(R"({"text": "\ud800"})").field, "");  // a lone surrogate is not text
  EXPECT_EQ(bad(R"({"to": [[[[[[[[[["1"]]]]]]]]]]})"),
            (FieldError{"", "malformed JSON at byte 14: too deep"}));
  EXPECT_EQ(bad("[]"), (FieldError{"", "expected a JSON object"}));
  EXPECT_EQ(bad("\"text\""), (FieldError{"", "expected a JSON object"}));
}

TEST(MessageRequest, AutoTakesTheCheapestAlphabet) {
  MessageRequest m = ok(with(R"("text": "Hello")"));
  EXPECT_EQ(m.alphabet, smpp::Alphabet::gsm7);
  EXPECT_EQ(m.data_coding, 0);
  m = ok(with(R"("text": "10 \u20ac", "encoding": "auto")"));  // € is in the extension table
  EXPECT_EQ(m.alphabet, smpp::Alphabet::gsm7);
  EXPECT_EQ(m.payload, (std::vector<uint8_t>{'1', '0', ' ', 0x1B, 0x65}));
  m = ok(with(R"("text": "Hi \ud83d\ude00")"));  // an emoji: UCS-2, as a surrogate pair
  EXPECT_EQ(m.alphabet, smpp::Alphabet::ucs2);
  EXPECT_EQ(m.data_coding, 8);
  EXPECT_EQ(m.payload, (std::vector<uint8_t>{0, 'H', 0, 'i', 0, ' ', 0xD8, 0x3D, 0xDE, 0x00}));
  m = ok(with(R"("text": "caf\u00e9")"));  // é is in GSM 03.38: no need for Latin-1
  EXPECT_EQ(m.alphabet, smpp::Alphabet::gsm7);
}

TEST(MessageRequest, RequestedEncodings) {
  MessageRequest m = ok(with(R"("text": "Hello", "encoding": "ucs2")"));
  EXPECT_EQ(m.data_coding, 8);
  EXPECT_EQ(m.payload.size(), 10u);
  m = ok(with(R"("text": "caf\u00e9", "encoding": "latin1")"));
  EXPECT_EQ(m.data_coding, 3);
  EXPECT_EQ(m.payload, (std::vector<uint8_t>{'c', 'a', 'f', 0xE9}));
  m = ok(with(R"("text": "Hello", "encoding": "gsm7")"));
  EXPECT_EQ(m.data_coding, 0);

  EXPECT_EQ(bad(with(R"("text": "Hi \u041f\u0440", "encoding": "gsm7")")),
            (FieldError{"text", "'\u041f' (byte 3) cannot be sent in gsm7"}));
  EXPECT_EQ(bad(with(R"("text": "10 \u20ac", "encoding": "latin1")")),
            (FieldError{"text", "'\u20ac' (byte 3) cannot be sent in latin1"}));
  EXPECT_EQ(bad(with(R"("text": "x", "encoding": "utf8")")),
            (FieldError{"encoding", "expected one of auto, gsm7, ucs2, latin1, binary"}));
  EXPECT_EQ(bad(with(R"("text": "x", "encoding": 8)")).field, "encoding");
  EXPECT_EQ(bad(with(R"("text": "x", "encoding": "binary")")),
            (FieldError{"encoding", "\"binary\" goes with the binary field (hex), not with text"}));
}

TEST(MessageRequest, TextErrors) {
  EXPECT_EQ(bad(with(R"("text": "")")), (FieldError{"text", "must not be empty"}));
  EXPECT_EQ(bad(with(R"("text": 42)")), (FieldError{"text", "expected a string"}));
  EXPECT_EQ(bad(with(R"("text": "x", "binary": "00")")),
            (FieldError{"binary", "give text or binary, not both"}));
  EXPECT_EQ(bad(with(R"("text": "x", "udh": "00")")),
            (FieldError{"udh", "only allowed with binary"}));
}

TEST(MessageRequest, PartsAreBounded) {
  EXPECT_EQ(ok(with(R"("text": ")" + std::string(1530, 'a') + "\"")).payload.size(), 1530u);
  EXPECT_EQ(bad(with(R"("text": ")" + std::string(1531, 'a') + "\"")),
            (FieldError{"text", "needs 11 parts, at most 10"}));
  EXPECT_EQ(bad(with(R"("text": ")" + std::string(161, 'a') + "\""), {.max_parts = 1}),
            (FieldError{"text", "needs 2 parts, at most 1"}));
  // Far too long: refused before it is encoded.
  EXPECT_EQ(bad(with(R"("text": ")" + std::string(100000, 'a') + "\"")),
            (FieldError{"text", "needs more than 10 parts"}));
  EXPECT_EQ(bad(with(R"("binary": ")" + std::string(2 * 1341, 'a') + "\"")),
            (FieldError{"binary", "needs 11 parts, at most 10"}));
}

TEST(MessageRequest, Binary) {
  MessageRequest m = ok(with(R"("binary": "0102fF")"));
  EXPECT_EQ(m.alphabet, smpp::Alphabet::binary);
  EXPECT_EQ(m.data_coding, 4);
  EXPECT_EQ(m.payload, (std::vector<uint8_t>{0x01, 0x02, 0xFF}));
  EXPECT_FALSE(m.text);
  m = ok(with(R"("binary": "cafe", "encoding": "binary")"));
  EXPECT_EQ(m.payload, (std::vector<uint8_t>{0xCA, 0xFE}));

  EXPECT_EQ(bad(with(R"("binary": "012")")),
            (FieldError{"binary", "expected an even number of hex digits"}));
  EXPECT_EQ(bad(with(R"("binary": "zz")")).field, "binary");
  EXPECT_EQ(bad(with(R"("binary": "")")), (FieldError{"binary", "must not be empty"}));
  EXPECT_EQ(bad(with(R"("binary": 12)")),
            (FieldError{"binary", "expected a string of hex digits"}));
  EXPECT_EQ(bad(with(R"("binary": "00", "encoding": "ucs2")")),
            (FieldError{"encoding", "binary content is sent as binary: leave encoding out"}));
}

TEST(MessageRequest, BinaryWithItsOwnUdh) {
  // Application port addressing, 16-bit ports (a WAP push): 06 05 04 0B84 23F0.
  MessageRequest m = ok(with(R"("binary": "0102", "udh": "0605040b8423f0")"));
  EXPECT_EQ(m.udh, (std::vector<uint8_t>{0x06, 0x05, 0x04, 0x0B, 0x84, 0x23, 0xF0}));
  EXPECT_EQ(m.payload, (std::vector<uint8_t>{0x01, 0x02}));
  // A UDH alone (no data) is a message too.
  EXPECT_EQ(ok(with(R"("binary": "", "udh": "050003010201")")).udh.size(), 6u);
  // 7 + 133 = 140 fits one part; 7 + 134 does not.
  ok(with(R"("binary": ")" + std::string(2 * 133, '0') + R"(", "udh": "0605040b8423f0")"));
  EXPECT_EQ(
      bad(with(R"("binary": ")" + std::string(2 * 134, '0') + R"(", "udh": "0605040b8423f0")")),
      (FieldError{"binary",
                  "with a udh, udh and binary must fit one part: 141 octets, at most 140"}));

  EXPECT_EQ(bad(with(R"("binary": "00", "udh": "0605040b84")")),
            (FieldError{"udh", "its length octet says 6 octets follow, there are 4"}));
  EXPECT_EQ(bad(with(R"("binary": "00", "udh": "03000501")")),
            (FieldError{"udh", "information element overruns the UDH"}));
  EXPECT_EQ(bad(with(R"("binary": "00", "udh": "0400020102")")),
            (FieldError{"udh", "concatenation element of wrong length"}));
  EXPECT_EQ(bad(with(R"("binary": "00", "udh": "")")), (FieldError{"udh", "must not be empty"}));
  EXPECT_EQ(bad(with(R"("binary": "00", "udh": "0x05")")).field, "udh");
}

TEST(MessageRequest, RegisteredDeliveryIsABoolean) {
  EXPECT_FALSE(ok(with(R"("text": "x")")).registered_delivery);
  EXPECT_FALSE(ok(with(R"("text": "x", "registered_delivery": false)")).registered_delivery);
  for (const char* v : {"1", "0", "\"true\"", "null"}) {
    EXPECT_EQ(bad(with(R"("text": "x", "registered_delivery": )" + std::string(v))),
              (FieldError{"registered_delivery", "expected true or false"}))
        << v;
  }
}

TEST(MessageRequest, Validity) {
  const auto expires = [](std::string_view v) {
    return ok(with(R"("text": "x", "validity": )" + std::string(v))).expires_at;
  };
  EXPECT_EQ(expires("3600"), kNow + 1h);
  EXPECT_EQ(expires("\"90s\""), kNow + 90s);
  EXPECT_EQ(expires("\"10m\""), kNow + 10min);
  EXPECT_EQ(expires("\"2h\""), kNow + 2h);
  EXPECT_EQ(expires("\"1d\""), kNow + 24h);
  EXPECT_EQ(expires("\"30d\""), kNow + 720h);

  const auto error = [](std::string_view v) {
    return bad(with(R"("text": "x", "validity": )" + std::string(v)));
  };
  const FieldError kShape{"validity",
                          "expected seconds or a duration like \"10m\", \"2h\", \"1d\""};
  EXPECT_EQ(error("0"), (FieldError{"validity", "must be positive"}));
  EXPECT_EQ(error("-5"), (FieldError{"validity", "must be positive"}));
  EXPECT_EQ(error("\"0m\""), (FieldError{"validity", "must be positive"}));
  EXPECT_EQ(error("\"31d\""), (FieldError{"validity", "at most 30 days"}));
  EXPECT_EQ(error("2592001"), (FieldError{"validity", "at most 30 days"}));
  EXPECT_EQ(error("18446744073709551615"), (FieldError{"validity", "at most 30 days"}));
  for (const char* v : {"3600.5", "\"10\"", "\"10x\"", "\"1h30m\"", "\"h\"", "\"-1h\"", "true"}) {
    EXPECT_EQ(error(v), kShape) << v;
  }
}

TEST(MessageRequest, Schedule) {
  const auto at = [](std::string_view s) {
    return ok(with(R"("text": "x", "schedule": ")" + std::string(s) + "\"")).schedule_at;
  };
  const sys_seconds christmas_eve = sys_days(2026y / std::chrono::December / 24) + 18h;
  EXPECT_EQ(at("2026-12-24T18:00:00Z"), christmas_eve);
  EXPECT_EQ(at("2026-12-24T20:00:00+02:00"), christmas_eve);
  EXPECT_EQ(at("2026-12-24T13:30:00-04:30"), christmas_eve);
  EXPECT_EQ(at("2026-12-24t18:00:00.999z"), christmas_eve);  // fractions dropped
  EXPECT_EQ(at("2027-02-28T00:00:00Z"), sys_days(2027y / std::chrono::February / 28));

  // Validity counts from the schedule.
  const MessageRequest m =
      ok(with(R"("text": "x", "schedule": "2026-12-24T18:00:00Z", "validity": "1h")"));
  EXPECT_EQ(m.expires_at, christmas_eve + 1h);

  const auto error = [](std::string_view s) {
    return bad(with(R"("text": "x", "schedule": )" + std::string(s)));
  };
  EXPECT_EQ(error("\"2026-05-31T23:59:59Z\""), (FieldError{"schedule", "is not in the future"}));
  EXPECT_EQ(error("\"2026-06-01T00:00:00Z\""), (FieldError{"schedule", "is not in the future"}));
  EXPECT_EQ(error("\"2027-06-02T00:00:00Z\""),
            (FieldError{"schedule", "more than 365 days ahead"}));
  const FieldError kShape{"schedule", "expected an RFC 3339 time like 2026-12-24T18:00:00Z"};
  for (const char* s :
       {"\"2026-02-30T00:00:00Z\"", "\"2026-13-01T00:00:00Z\"", "\"2026-12-24T24:00:00Z\"",
        "\"2026-12-24 18:00:00Z\"", "\"2026-12-24T18:00:00\"", "\"2026-12-24T18:00:00+2:00\"",
        "\"2026-12-24T18:00:00.Z\"", "\"2026-12-24T18:00Z\"", "\"tomorrow\"", "1798135200"}) {
    EXPECT_EQ(error(s), kShape) << s;
  }
}

TEST(MessageRequest, CallbackUrl) {
  for (const char* url :
       {"https://hooks.example.com/dlr?id=1", "http://10.0.0.1:8080", "HTTPS://example.com",
        "http://[::1]:8080/cb", "https://user:secret@example.com/x"}) {
    EXPECT_EQ(ok(with(R"("text": "x", "callback_url": ")" + std::string(url) + "\"")).callback_url,
              url);
  }
  const FieldError kShape{"callback_url", "expected an http:// or https:// URL with a host"};
  for (const char* url : {"ftp://example.com", "https://", "https:///path", "http://host:0",
                          "http://host:99999", "http://host:", "http://ho st/", "example.com",
                          "http://[::1", "http://[]/", "http://h\\u00e9/"}) {
    EXPECT_EQ(bad(with(R"("text": "x", "callback_url": ")" + std::string(url) + "\"")), kShape)
        << url;
  }
  EXPECT_EQ(
      bad(with(R"("text": "x", "callback_url": "https://e.com/)" + std::string(2048, 'a') + "\"")),
      (FieldError{"callback_url", "longer than 2048 characters"}));
  EXPECT_EQ(bad(with(R"("text": "x", "callback_url": 1)")),
            (FieldError{"callback_url", "expected a string"}));
}

TEST(MessageRequest, ClientRef) {
  EXPECT_EQ(ok(with(R"("text": "x", "client_ref": "order-42")")).client_ref, "order-42");
  EXPECT_EQ(ok(with(R"("text": "x", "client_ref": ")" + std::string(64, 'r') + "\"")).client_ref,
            std::string(64, 'r'));
  const FieldError kShape{"client_ref", "expected 1 to 64 printable ASCII characters"};
  for (const std::string& ref :
       {std::string(65, 'r'), std::string(), std::string("a\\nb"), std::string("caf\\u00e9")}) {
    EXPECT_EQ(bad(with(R"("text": "x", "client_ref": ")" + ref + "\"")), kShape) << ref;
  }
}

TEST(MessageRequest, AnErrorQuotesAtMost32Bytes) {
  // 31 digits, then a two-byte character across the cut: it is left out whole.
  const FieldError e =
      bad(R"({"to": ")" + std::string(31, '1') + "\u00e9" + R"(11", "from": "A"})");
  EXPECT_EQ(e.detail, "not a phone number: '" + std::string(31, '1') +
                          "...' (an optional '+' and 1 to 20 digits)");
}

// ---- batch ----

std::variant<BatchRequest, FieldError> batch(std::string_view body,
                                             const MessageLimits& limits = {}) {
  return parse_batch_request(body, kNow, limits);
}

TEST(MessageBatch, EachItemStandsAlone) {
  const auto r = batch(R"({"messages": [
    {"to": "+258841234567", "from": "MYAPP", "text": "one"},
    {"to": ["1", "x2"], "from": "MYAPP", "text": "two"},
    "three",
    {"to": "2", "from": "MYAPP", "text": "four", "colour": "red"},
    {"to": "3", "from": "MYAPP", "binary": "cafe"}
  ]})");
  ASSERT_TRUE(std::holds_alternative<BatchRequest>(r));
  const auto& items = std::get<BatchRequest>(r).items;
  ASSERT_EQ(items.size(), 5u);
  ASSERT_TRUE(std::holds_alternative<MessageRequest>(items[0]));
  EXPECT_EQ(std::get<MessageRequest>(items[0]).text, "one");
  EXPECT_EQ(std::get<FieldError>(items[1]),
            (FieldError{"messages[1].to[1]",
                        "not a phone number: 'x2' (an optional '+' and 1 to 20 digits)"}));
  EXPECT_EQ(std::get<FieldError>(items[2]), (FieldError{"messages[2]", "expected a JSON object"}));
  EXPECT_EQ(std::get<FieldError>(items[3]), (FieldError{"messages[3].colour", "unknown field"}));
  ASSERT_TRUE(std::holds_alternative<MessageRequest>(items[4]));
  EXPECT_EQ(std::get<MessageRequest>(items[4]).payload, (std::vector<uint8_t>{0xCA, 0xFE}));
}

TEST(MessageBatch, TheEnvelope) {
  const auto error = [](std::string_view body, const MessageLimits& limits = {}) {
    const auto r = batch(body, limits);
    if (const auto* e = std::get_if<FieldError>(&r)) return *e;
    ADD_FAILURE() << body << " -> accepted";
    return FieldError{};
  };
  EXPECT_EQ(error("[]"), (FieldError{"", "expected a JSON object"}));
  EXPECT_EQ(error("{").field, "");
  EXPECT_EQ(error("{}"), (FieldError{"messages", "required"}));
  EXPECT_EQ(error(R"({"messages": [], "async": true})"), (FieldError{"async", "unknown field"}));
  EXPECT_EQ(error(R"({"messages": {}})"),
            (FieldError{"messages", "expected an array of messages"}));
  EXPECT_EQ(error(R"({"messages": []})"), (FieldError{"messages", "must not be empty"}));
  EXPECT_EQ(error(R"({"messages": [{}, {}, {}]})", {.max_batch = 2}),
            (FieldError{"messages", "at most 2 messages, got 3"}));
}

}  // namespace
}  // namespace smppd::api
