// The providers' answers (mnp/mnp_response): each provider's documented shapes and the variants
// seen in the wild read into a network; errors and nonsense read into an error, never a guess.
#include "mnp/mnp_response.hpp"

#include <gtest/gtest.h>

#include <string>

namespace smppd::mnp {
namespace {

Network network(uint16_t mcc, uint16_t mnc, bool three, bool ported) {
  return Network{mcc, mnc, three, ported};
}

void expect_network(const ParsedAnswer& a, const Network& n, std::string_view body) {
  ASSERT_TRUE(a.ok()) << body << "\n-> " << a.error;
  EXPECT_EQ(*a.network, n) << body;
}

void expect_error(const ParsedAnswer& a, std::string_view contains, std::string_view body) {
  ASSERT_FALSE(a.ok()) << body;
  EXPECT_NE(a.error.find(contains), std::string::npos) << body << "\n-> " << a.error;
}

// hlr-lookups.com API v2, POST /hlr-lookup (the SDKs' README example, abridged).
constexpr std::string_view kHlrLookupsHlr = R"({
   "id":"f94ef092cb53", "msisdn":"+14156226819", "connectivity_status":"CONNECTED",
   "mccmnc":"310260", "mcc":"310", "mnc":"260", "imsi":"***************",
   "original_network_name":"Verizon Wireless", "original_country_code":"US",
   "is_ported":true, "ported_network_name":"T-Mobile US", "is_roaming":false,
   "roaming_network_name":null, "cost":"0.0100", "timestamp":"2020-08-07 19:16:17.676+0300",
   "processing_status":"COMPLETED", "error_code":null, "data_source":"LIVE_HLR"})";

// hlr-lookups.com API v2, POST /mnp-lookup.
constexpr std::string_view kHlrLookupsMnp = R"({
   "id":"e428acb1c0ae", "msisdn":"+14156226819", "query_status":"OK", "mccmnc":"310260",
   "mcc":"310", "mnc":"260", "is_ported":true, "original_network_name":"Verizon Wireless",
   "ported_network_name":"T-Mobile US", "extra":"LRN:4154250000", "cost":"0.0050",
   "error_code":null})";

// hlrlookup.com API v2 (another company, a similar name).
constexpr std::string_view kHlrlookupCom = R"json({"body": {"results": [{
   "error": "NONE", "uuid": "f066f711-4043-4d54-847d-c273e6491881",
   "detected_telephone_number": "447790606023", "live_status": "LIVE",
   "original_network": "AVAILABLE",
   "original_network_details": {"name": "EE Limited (Orange)", "mccmnc": "23433"},
   "current_network": "AVAILABLE",
   "current_network_details": {"name": "Virgin Mobile", "mccmnc": "23438"},
   "is_ported": "YES", "telephone_number_type": "MOBILE"}]}})json";

TEST(HlrLookup, ReadsTheHlrAndMnpAnswers) {
  expect_network(parse_hlr_lookup(kHlrLookupsHlr), network(310, 260, true, true), kHlrLookupsHlr);
  expect_network(parse_hlr_lookup(kHlrLookupsMnp), network(310, 260, true, true), kHlrLookupsMnp);
}

TEST(HlrLookup, ReadsHlrlookupComsCurrentNetwork) {
  expect_network(parse_hlr_lookup(kHlrlookupCom), network(234, 38, false, true), kHlrlookupCom);
}

TEST(HlrLookup, ReadsTheLegacyApiAndOtherVariants) {
  const std::pair<std::string_view, Network> cases[] = {
      // The legacy API: results in a list, "isported".
      {R"({"success":true,"results":[{"msisdn":"+491788735000","mccmnc":"26203","isported":false}]})",
       network(262, 3, false, false)},
      // camelCase, integers, a ported flag as a string.
      {R"({"mcc":655,"mnc":1,"isPorted":"false"})", network(655, 1, false, false)},
      {R"({"MCC":"655","MNC":"010","IsPorted":1})", network(655, 10, true, true)},
      // No ported flag: not ported.
      {R"({"mccmnc":"65510"})", network(655, 10, false, false)},
      {R"({"mcc_mnc":65510,"ported":"yes"})", network(655, 10, false, true)},
      {R"({"mcc":"310","mnc":"260","is_ported":null})", network(310, 260, true, false)},
      // Spaces around values.
      {R"({"mcc":" 655 ","mnc":" 07","is_ported":" Y "})", network(655, 7, false, true)},
      // Wrapped in a list, or in data.
      {R"([{"mcc":"655","mnc":"02","is_ported":true}])", network(655, 2, false, true)},
      {R"({"data":{"mcc":"655","mnc":"02"}})", network(655, 2, false, false)},
  };
  for (const auto& [body, expected] : cases) expect_network(parse_hlr_lookup(body), expected, body);
}

TEST(HlrLookup, ErrorsItReportsAreErrors) {
  const std::pair<std::string_view, std::string_view> cases[] = {
      {R"({"id":"x","msisdn":"+1","query_status":"FAILED","mcc":null,"mnc":null,"error_code":null})",
       "query_status 'FAILED'"},
      {R"({"msisdn":"+1","connectivity_status":"INVALID_MSISDN","mcc":null,"mnc":null})",
       "the number is invalid"},
      {R"({"processing_status":"REJECTED","mcc":"310","mnc":"260"})", "processing_status"},
      {R"({"mcc":"310","mnc":"260","error_code":"INSUFFICIENT_BALANCE"})",
       "error_code 'INSUFFICIENT_BALANCE'"},
      {R"({"success":false,"errors":[{"code":"ERR_AUTH","message":"Invalid API key"}]})",
       "Invalid API key"},
      {R"({"errors":[{"code":401,"message":"Unauthorized"}]})", "Unauthorized"},
      {R"({"body":{"results":[{"error":"INVALID_NUMBER","live_status":"NO_COVERAGE"}]}})",
       "INVALID_NUMBER"},
      {R"({"msisdn":"+1","connectivity_status":"UNDETERMINED","mcc":null,"mnc":null})",
       "no mcc and mnc"},
  };
  for (const auto& [body, error] : cases) expect_error(parse_hlr_lookup(body), error, body);
}

TEST(Xconnect, ReadsTheShapesSuchApisUse) {
  const std::pair<std::string_view, Network> cases[] = {
      {R"({"tn":"+258841234567","mcc":"643","mnc":"04","ported":true})",
       network(643, 4, false, true)},
      {R"({"result":{"number":"+258841234567","hni":"64304","is_ported":false}})",
       network(643, 4, false, false)},
      {R"({"results":[{"network":{"mcc":"643","mnc":"01"},"ported":"true"}]})",
       network(643, 1, false, true)},
      {R"({"status":"OK","data":{"mccMnc":"643001","portability":"x"}})",
       network(643, 1, true, false)},
      {R"({"number":"27821234567","current_network":{"mccmnc":"65510"},"number_ported":1})",
       network(655, 10, false, true)},
  };
  for (const auto& [body, expected] : cases) expect_network(parse_xconnect(body), expected, body);
}

TEST(Xconnect, AStatusOfQueryIsNotItsConcern) {
  // query_status is hlr-lookups.com's: xconnect does not read it.
  expect_network(parse_xconnect(R"({"query_status":"PENDING","mcc":"643","mnc":"04"})"),
                 network(643, 4, false, false), "query_status");
}

TEST(Responses, NonsenseIsAnError) {
  const std::pair<std::string_view, std::string_view> cases[] = {
      {"", "empty"},
      {"   ", "empty"},
      {"<html><body>502 Bad Gateway</body></html>", "not JSON"},
      {R"({"mcc":"655","mnc":"01")", "not JSON"},
      {R"({"mcc":"655","mnc":"01"} trailing)", "not JSON"},
      {R"("just a string")", "not a JSON object"},
      {"42", "not a JSON object"},
      {"[]", "empty list"},
      {"{}", "no mcc and mnc"},
      {R"({"mcc":"6555","mnc":"01"})", "mcc '6555' is not 3 digits"},
      {R"({"mcc":"65","mnc":"01"})", "mcc '65' is not 3 digits"},
      {R"({"mcc":"655","mnc":"1"})", "mnc '1' is not 2 or 3 digits"},
      {R"({"mcc":"655","mnc":"0001"})", "mnc '0001' is not 2 or 3 digits"},
      {R"({"mcc":"6a5","mnc":"01"})", "is not 3 digits"},
      {R"({"mcc":1000,"mnc":1})", "is not 3 digits"},
      {R"({"mcc":-1,"mnc":1})", "is not 3 digits"},
      {R"({"mcc":655.0,"mnc":1})", "a fractional number"},
      {R"({"mcc":true,"mnc":1})", "is not 3 digits"},
      {R"({"mcc":"655"})", "an mcc without an mnc"},
      {R"({"mccmnc":"6551"})", "mccmnc '6551' is not 5 or 6 digits"},
      {R"({"mccmnc":"6550011"})", "is not 5 or 6 digits"},
      {R"({"mcc":"655","mnc":"01","mccmnc":"65502"})", "disagree"},
      {R"({"mcc":"655","mnc":"01","is_ported":"maybe"})", "ported is 'maybe'"},
      {R"({"mcc":"655","mnc":"01","ported":2})", "neither true nor false"},
      {R"({"mcc":"655","mnc":"01","ported":{}})", "neither true nor false"},
      {R"({"error":"Invalid API key"})", "Invalid API key"},
      {R"({"error":{"code":403,"message":"Forbidden"}})", "Forbidden"},
      {R"({"status":"error","message":"quota exceeded"})", "quota exceeded"},
      {R"({"success":"false","message":"no credit"})", "no credit"},
  };
  for (const auto& [body, error] : cases) {
    expect_error(parse_xconnect(body), error, body);
    expect_error(parse_hlr_lookup(body), error, body);
  }
}

TEST(Responses, NoErrorMarkersAreNotErrors) {
  const std::string_view cases[] = {
      R"({"error":"NONE","mcc":"655","mnc":"01"})",
      R"({"error":null,"mcc":"655","mnc":"01"})",
      R"({"error":"","mcc":"655","mnc":"01"})",
      R"({"error":{"groupId":0,"id":0,"name":"NO_ERROR"},"mcc":"655","mnc":"01"})",
      R"({"error_code":0,"mcc":"655","mnc":"01"})",
      R"({"errors":[],"mcc":"655","mnc":"01"})",
      R"({"success":true,"mcc":"655","mnc":"01"})",
  };
  for (std::string_view body : cases)
    expect_network(parse_xconnect(body), network(655, 1, false, false), body);
}

TEST(Responses, DeepAndHugeAnswersAreRefused) {
  std::string deep(1000, '[');
  deep += std::string(1000, ']');
  expect_error(parse_xconnect(deep), "not JSON", "deep");
  std::string wrapped = R"({"mcc":"655","mnc":"01"})";
  for (int i = 0; i < 10; ++i) wrapped = R"({"data":)" + wrapped + "}";
  expect_error(parse_xconnect(wrapped), "no mcc and mnc", "wrapped 10 deep");
  std::string huge = R"({"mcc":"655","mnc":"01","pad":")" + std::string(300 * 1024, 'x') + "\"}";
  expect_error(parse_xconnect(huge), "larger than 256 KiB", "huge");
}

TEST(Responses, ErrorTextIsPrintableAndBounded) {
  std::string body = R"({"error":")";
  body += "line\\nbreak \\u0007 bell ";
  body += std::string(500, 'x');
  body += "\"}";
  const auto a = parse_xconnect(body);
  ASSERT_FALSE(a.ok());
  EXPECT_LE(a.error.size(), 260u);
  for (char c : a.error) EXPECT_TRUE(c >= 0x20 && c < 0x7F) << int(c);
}

config::MnpConfig custom_config(std::string mcc, std::string mnc, std::string mccmnc,
                                std::string ported) {
  config::MnpConfig c;
  c.provider = config::MnpProvider::custom;
  c.fields = {std::move(mcc), std::move(mnc), std::move(mccmnc), std::move(ported)};
  return c;
}

AnswerFormat format_of(const config::MnpConfig& c) {
  std::string error;
  auto f = make_answer_format(c, error);
  EXPECT_TRUE(f.has_value()) << error;
  return f.value_or(AnswerFormat{});
}

TEST(Custom, ReadsTheConfiguredPaths) {
  const auto f = format_of(
      custom_config("result.network.mcc", "result.network.mnc", "", "result.portability.ported"));
  expect_network(
      parse_custom(
          f, R"({"result":{"network":{"mcc":"262","mnc":"01"},"portability":{"ported":"Y"}}})"),
      network(262, 1, false, true), "nested");
  // The ported path absent or null: not ported.
  expect_network(parse_custom(f, R"({"result":{"network":{"mcc":262,"mnc":7}}})"),
                 network(262, 7, false, false), "no ported");

  const auto g = format_of(custom_config("", "", "lookups[1].hni", "lookups[1].ported"));
  expect_network(parse_custom(g, R"({"lookups":[{"hni":"00000"},{"hni":"26207","ported":false}]})"),
                 network(262, 7, false, false), "index");
  expect_network(parse_answer(g, R"({"lookups":[{},{"hni":262070,"ported":true}]})"),
                 network(262, 70, true, true), "through parse_answer");

  // Keys are exact: the paths are the operator's word.
  const auto h = format_of(custom_config("MCC", "MNC", "", ""));
  expect_error(parse_custom(h, R"({"mcc":"262","mnc":"01"})"), "no value at MCC", "case");
}

TEST(Custom, MissingAndNonsenseValuesAreErrors) {
  const auto f = format_of(custom_config("a.mcc", "a.mnc", "", "a.ported"));
  expect_error(parse_custom(f, R"({"a":{"mnc":"01"}})"), "no value at a.mcc", "no mcc");
  expect_error(parse_custom(f, R"({"a":{"mcc":"262"}})"), "no value at a.mnc", "no mnc");
  expect_error(parse_custom(f, R"({"a":{"mcc":null,"mnc":"01"}})"), "no value at a.mcc", "null");
  expect_error(parse_custom(f, R"({"a":[1,2]})"), "no value at a.mcc", "a list");
  expect_error(parse_custom(f, R"({"a":{"mcc":"2620","mnc":"01"}})"), "not 3 digits", "mcc");
  expect_error(parse_custom(f, R"({"a":{"mcc":"262","mnc":"01","ported":"perhaps"}})"),
               "a.ported is 'perhaps'", "ported");
  expect_error(parse_custom(f, R"({"error":{"message":"unknown number"}})"),
               "(the provider says: unknown number)", "error");
  expect_error(parse_custom(f, "not json"), "not JSON", "text");
}

TEST(Custom, FormatNeedsANetworkAndValidPaths) {
  std::string error;
  EXPECT_FALSE(make_answer_format(custom_config("a", "", "", ""), error));
  EXPECT_NE(error.find("fields.mcc and fields.mnc, or fields.mccmnc"), std::string::npos);
  EXPECT_FALSE(make_answer_format(custom_config("", "", "a..b", ""), error));
  EXPECT_NE(error.find("empty key"), std::string::npos);
  config::MnpConfig x;
  x.provider = config::MnpProvider::hlr_lookup;
  const auto f = make_answer_format(x, error);
  ASSERT_TRUE(f.has_value());
  expect_network(parse_answer(*f, kHlrLookupsMnp), network(310, 260, true, true), "hlr");
}

TEST(ErrorMessage, SaysWhatTheProviderSays) {
  EXPECT_EQ(error_message(R"({"error":"UNAUTHORIZED","message":"Invalid api_key or api_secret"})"),
            "Invalid api_key or api_secret");
  EXPECT_EQ(error_message(R"({"errors":[{"code":"E1","message":"Bad key"}]})"), "Bad key");
  EXPECT_EQ(error_message(R"({"error":{"code":429}})"), "429");
  EXPECT_EQ(error_message("ERR FAIL Invalid USERNAME or PASSWORD\r\nmore"),
            "ERR FAIL Invalid USERNAME or PASSWORD");
  EXPECT_EQ(error_message(R"({"a":1})"), "");
  EXPECT_EQ(error_message(""), "");
  EXPECT_EQ(error_message("\x01\xff"), "??");
  EXPECT_LE(error_message(std::string(1000, 'x')).size(), 200u);
}

}  // namespace
}  // namespace smppd::mnp
