// What an MNP/HLR provider answers, read into the network that serves the number (network.hpp),
// or into the reason it cannot be: the answer is untrusted and anything that does not name a
// network plainly (not JSON, an error the provider reports, an mcc of 4 digits, a ported flag of
// "maybe") is an error, which the client turns into the fallback (route as not ported).
//
//  - hlr_lookup: hlr-lookups.com's API v2 answers, of POST /hlr-lookup and /mnp-lookup
//    ({"mcc": "310", "mnc": "260", "mccmnc": "310260", "is_ported": true, "error_code": null,
//    ...}; query_status other than OK, processing_status REJECTED or FAILED, connectivity_status
//    INVALID_MSISDN and a non-null error_code are errors); its legacy API's
//    {"success": true, "results": [{"mccmnc": ..., "isported": ...}]}; and hlrlookup.com's
//    {"body": {"results": [{"error": "NONE", "current_network_details": {"mccmnc": "23438"},
//    "is_ported": "YES"}]}}.
//  - xconnect: XConnect publishes no public schema for its JSON answers, so this reads the
//    shapes such APIs use: mcc and mnc (or one of mccmnc, mcc_mnc, hni), and ported or is_ported,
//    at the top or under result, results[0], data or body, or in a current_network or network
//    object; {"error": ...}, {"errors": [...]}, {"success": false} are errors.
//  - custom: the values at the JSON paths the configuration names (mnp.custom.fields).
//
// Everywhere, names match whatever their case, '_' and '-' ("isPorted" is "is_ported"); mcc,
// mnc and mccmnc may be strings or integers (an integer mnc below 100 has 2 digits); ported may
// be a boolean, 0 or 1, or "true"/"false", "yes"/"no", "y"/"n", "1"/"0"; null or absent reads
// as not ported (as the fallback does), anything else is an error.
//
// Pure: no sockets, no logging; the fuzz build has it (fuzz/mnp_response_fuzz.cpp).
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "config/config.hpp"
#include "mnp/network.hpp"

namespace smppd::mnp {

// How a provider's answers are read: the provider and, for custom, where each value is.
struct AnswerFormat {
  config::MnpProvider provider = config::MnpProvider::xconnect;
  config::JsonPath mcc;  // custom: empty when not configured
  config::JsonPath mnc;
  config::JsonPath mccmnc;
  config::JsonPath ported;  // custom: empty: never ported
};

// The format the configuration describes; std::nullopt with `error` when a custom field's path
// is invalid or the fields name no network (the loader refuses such a configuration first).
std::optional<AnswerFormat> make_answer_format(const config::MnpConfig& config, std::string& error);

struct ParsedAnswer {
  std::optional<Network> network;  // the answer, when it names a network
  std::string error;               // else why not: short, printable ASCII, bounded

  bool ok() const { return network.has_value(); }
};

// An answer with a 2xx status.
ParsedAnswer parse_answer(const AnswerFormat& format, std::string_view body);
ParsedAnswer parse_xconnect(std::string_view body);
ParsedAnswer parse_hlr_lookup(std::string_view body);
ParsedAnswer parse_custom(const AnswerFormat& format, std::string_view body);

// What a provider says went wrong, for an answer with an error status: the message of a JSON
// body ("message", "error", "errors"[0], "detail"...) or a text body's first line; printable
// ASCII, at most 200 characters; empty when there is nothing to say.
std::string error_message(std::string_view body);

}  // namespace smppd::mnp
