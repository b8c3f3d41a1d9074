// What the backends say about a client, made into its settings over auth.defaults
// (extauth/client_settings), and the HTTP service's JSON answer read into them
// (extauth/http_answer).
#include "extauth/client_settings.hpp"

#include <gtest/gtest.h>

#include "extauth/http_answer.hpp"

namespace smppd::extauth {
namespace {

const std::set<std::string, std::less<>> kUpstreams = {"carrier-a", "carrier-b"};

config::ExternalDefaults defaults() {
  config::ExternalDefaults d;
  d.rate_limit.messages_per_second = 10;
  d.tier = "bronze";
  d.tags = {{"source", "ldap"}};
  d.allowed_ips = {std::get<config::Cidr>(config::Cidr::parse("192.0.2.0/24"))};
  return d;
}

TEST(SettingsBuilder, NothingGivenIsTheDefaults) {
  SettingsBuilder b("acme", defaults(), &kUpstreams);
  auto c = b.build();
  EXPECT_EQ(c->system_id, "acme");
  EXPECT_EQ(c->rate_limit.messages_per_second, 10);
  EXPECT_EQ(c->tier, "bronze");
  ASSERT_EQ(c->allowed_ips.size(), 1u);
  EXPECT_EQ(c->bind_types.size(), 3u);
  EXPECT_TRUE(c->password.empty());
}

TEST(SettingsBuilder, GivenFieldsReplaceTheDefaultsListsCollectTagsAdd) {
  SettingsBuilder b("acme", defaults(), &kUpstreams);
  EXPECT_TRUE(b.add(Field::allowed_ips, "10.0.0.0/8"));
  EXPECT_TRUE(b.add(Field::allowed_ips, " 2001:db8::/32 , 198.51.100.7"));
  EXPECT_TRUE(b.add(Field::bind_types, "transmitter"));
  EXPECT_TRUE(b.add(Field::bind_types, "rx"));
  EXPECT_TRUE(b.add(Field::rate_limit, "2.5"));
  EXPECT_TRUE(b.add(Field::burst, "5"));
  EXPECT_TRUE(b.add(Field::window_size, "20"));
  EXPECT_TRUE(b.add(Field::max_connections, "3"));
  EXPECT_TRUE(b.add(Field::upstream, "carrier-b"));
  EXPECT_TRUE(b.add(Field::tier, "gold"));
  EXPECT_TRUE(b.add(Field::tags, "plan = otp"));
  ASSERT_FALSE(b.failed()) << b.error();
  auto c = b.build();
  ASSERT_EQ(c->allowed_ips.size(), 3u);  // the default's block is replaced, not added to
  EXPECT_EQ(c->allowed_ips[0].text(), "10.0.0.0/8");
  EXPECT_EQ(c->bind_types,
            (std::vector<config::BindType>{config::BindType::transmitter, config::BindType::receiver}));
  EXPECT_EQ(c->rate_limit.messages_per_second, 2.5);
  EXPECT_EQ(c->rate_limit.burst, 5u);
  EXPECT_EQ(c->rate_limit.window_size, 20u);
  EXPECT_EQ(c->max_connections, 3u);
  EXPECT_EQ(c->upstream, "carrier-b");
  EXPECT_EQ(c->tier, "gold");
  EXPECT_EQ(c->tags, (std::map<std::string, std::string>{{"plan", "otp"}, {"source", "ldap"}}));
}

TEST(SettingsBuilder, ABadValueFailsTheWholeAnswerAndSaysWhich) {
  struct Case {
    Field field;
    std::string value;
    std::string says;
  };
  const std::vector<Case> cases = {
      {Field::allowed_ips, "10.0.0.0/33", "is not an address or address block"},
      {Field::allowed_ips, "everyone", "is not an address or address block"},
      {Field::bind_types, "outbind", "is not a bind type"},
      {Field::rate_limit, "fast", "is not a rate"},
      {Field::rate_limit, "-1", "is not a rate"},
      {Field::rate_limit, "nan", "is not a rate"},
      {Field::max_connections, "4294967296", "is not a whole number"},
      {Field::window_size, "1.5", "is not a whole number"},
      {Field::upstream, "carrier-z", "is not a configured upstream"},
      {Field::tags, "noequals", "is not a tag"},
      {Field::tags, "=x", "is not a tag"},
  };
  for (const auto& c : cases) {
    SettingsBuilder b("acme", defaults(), &kUpstreams);
    b.source_name("attr");
    EXPECT_FALSE(b.add(c.field, c.value)) << c.value;
    EXPECT_TRUE(b.failed());
    EXPECT_NE(b.error().find("attr: '"), std::string::npos) << b.error();
    EXPECT_NE(b.error().find(c.says), std::string::npos) << b.error();
    // Later values change nothing: the answer is refused whole.
    EXPECT_FALSE(b.add(Field::tier, "gold"));
  }
}

// A value that names nothing would leave allowed_ips empty, which means any address.
TEST(SettingsBuilder, AnEmptyListIsAnErrorNotAnyAddress) {
  for (std::string_view v : {"", " ", ",", " , "}) {
    SettingsBuilder b("acme", defaults(), &kUpstreams);
    EXPECT_FALSE(b.add(Field::allowed_ips, v)) << "'" << v << "'";
    EXPECT_NE(b.error().find("names no address"), std::string::npos) << b.error();
    SettingsBuilder t("acme", defaults(), &kUpstreams);
    EXPECT_FALSE(t.add(Field::bind_types, v));
  }
  // An empty JSON list gives nothing: the defaults stay.
  SettingsBuilder b("acme", defaults(), &kUpstreams);
  std::string error;
  ASSERT_TRUE(read_http_answer(R"({"allowed_ips": []})", b, error)) << error;
  EXPECT_EQ(b.build()->allowed_ips.size(), 1u);
  SettingsBuilder b2("acme", defaults(), &kUpstreams);
  EXPECT_FALSE(read_http_answer(R"({"allowed_ips": [""]})", b2, error));
}

TEST(SettingsBuilder, ErrorsShowValuesPrintableAndShort) {
  SettingsBuilder b("acme", defaults(), &kUpstreams);
  b.source_name("smppTier");
  EXPECT_FALSE(b.add(Field::tier, std::string(100, 'x')));
  EXPECT_LT(b.error().size(), 150u);
  SettingsBuilder b2("acme", defaults(), &kUpstreams);
  b2.source_name("smppBindType");
  EXPECT_FALSE(b2.add(Field::bind_types, std::string("tx\x01\n", 4)));
  for (char c : b2.error()) EXPECT_TRUE(c >= 0x20 && c < 0x7F) << b2.error();
}

TEST(FieldNames, RoundTrip) {
  for (Field f : {Field::allowed_ips, Field::bind_types, Field::rate_limit, Field::burst,
                  Field::window_size, Field::max_connections, Field::upstream, Field::tier,
                  Field::tags}) {
    EXPECT_EQ(field_named(to_string(f)), f);
  }
  EXPECT_EQ(field_named("password"), std::nullopt);
}

TEST(HttpAnswer, ReadsEveryFormOfTheFields) {
  SettingsBuilder b("acme", defaults(), &kUpstreams);
  std::string error;
  ASSERT_TRUE(read_http_answer(R"({
      "allowed_ips": ["10.0.0.0/8", "192.168.0.1"], "bind_types": "transmitter, transceiver",
      "rate_limit": {"messages_per_second": 50, "burst": 100, "window_size": 10},
      "max_connections": 4, "upstream": "carrier-a", "tier": "gold",
      "tags": {"plan": "otp", "level": 3}, "unknown": {"ignored": true}, "window_size": null})",
                               b, error))
      << error;
  auto c = b.build();
  EXPECT_EQ(c->allowed_ips.size(), 2u);
  EXPECT_EQ(c->bind_types.size(), 2u);
  EXPECT_EQ(c->rate_limit.messages_per_second, 50);
  EXPECT_EQ(c->rate_limit.burst, 100u);
  EXPECT_EQ(c->rate_limit.window_size, 10u);
  EXPECT_EQ(c->max_connections, 4u);
  EXPECT_EQ(c->upstream, "carrier-a");
  EXPECT_EQ(c->tags.at("level"), "3");
  EXPECT_EQ(c->tags.at("source"), "ldap");

  SettingsBuilder b2("acme", defaults(), &kUpstreams);
  ASSERT_TRUE(read_http_answer(R"({"rate_limit": 7.5, "tags": ["a=b"]})", b2, error)) << error;
  EXPECT_EQ(b2.build()->rate_limit.messages_per_second, 7.5);

  SettingsBuilder b3("acme", defaults(), &kUpstreams);
  ASSERT_TRUE(read_http_answer("{}", b3, error));
  EXPECT_EQ(b3.build()->tier, "bronze");
}

TEST(HttpAnswer, RefusesWhatIsNotAnObjectOrHasWrongTypes) {
  for (std::string_view body :
       {"", "null", "[]", "\"ok\"", "{", "<html>", R"({"rate_limit": [1, 2]})",
        R"({"tier": {"a": 1}})", R"({"allowed_ips": [1, {"x": 1}]})",
        R"({"allowed_ips": ["nope"]})", R"({"max_connections": -1})",
        R"({"tags": {"a": {"b": 1}}})", R"({"upstream": "nowhere"})"}) {
    SettingsBuilder b("acme", defaults(), &kUpstreams);
    std::string error;
    EXPECT_FALSE(read_http_answer(body, b, error)) << body;
    EXPECT_FALSE(error.empty()) << body;
  }
  std::string deep(100, '[');
  SettingsBuilder b("acme", defaults(), &kUpstreams);
  std::string error;
  EXPECT_FALSE(read_http_answer("{\"tags\":" + deep, b, error));
}

TEST(HttpAnswer, TheRequestBodyHasTheFiveFields) {
  const std::string body = http_request_body("acme", "pa\"ss", "10.0.0.1", "transmitter", "smpp");
  EXPECT_EQ(body,
            R"({"system_id":"acme","password":"pa\"ss","ip":"10.0.0.1","bind_type":"transmitter","listener":"smpp"})");
}

}  // namespace
}  // namespace smppd::extauth
