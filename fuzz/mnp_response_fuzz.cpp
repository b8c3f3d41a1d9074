// What MNP/HLR providers answer (mnp/mnp_response), and the numbers the cache keys: any bytes are
// read by every provider's parser without crashing or reading out of bounds; an answer read is a
// network of 3-digit mcc and 2- or 3-digit mnc, and anything else is an error that is printable
// and bounded (it may be logged). The JSON paths of mnp.custom.fields parse or are refused, and a
// number packs into a key that gives its digits back.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "mnp/mnp_cache.hpp"
#include "mnp/mnp_response.hpp"

namespace {

using namespace smppd;

void check_text(std::string_view s, std::size_t max) {
  if (s.size() > max) std::abort();
  for (char c : s) {
    if (c < 0x20 || c > 0x7E) std::abort();
  }
}

void check(const mnp::ParsedAnswer& a) {
  if (a.ok()) {
    const mnp::Network& n = *a.network;
    if (n.mcc > 999 || n.mnc > 999 || (!n.mnc_three_digits && n.mnc > 99)) std::abort();
    if (n.mcc_text().size() != 3 || n.mnc_text().size() != (n.mnc_three_digits ? 3u : 2u))
      std::abort();
    if (!a.error.empty()) std::abort();
  } else {
    if (a.error.empty()) std::abort();
    check_text(a.error, 1024);
  }
}

mnp::AnswerFormat custom(std::string mcc, std::string mnc, std::string mccmnc, std::string ported) {
  config::MnpConfig c;
  c.provider = config::MnpProvider::custom;
  c.fields = {std::move(mcc), std::move(mnc), std::move(mccmnc), std::move(ported)};
  std::string error;
  auto format = mnp::make_answer_format(c, error);
  if (!format) std::abort();
  return *format;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  static const mnp::AnswerFormat split =
      custom("result.network.mcc", "result.network.mnc", "", "result.ported");
  static const mnp::AnswerFormat joined = custom("", "", "results[0].hni", "results[0].ported");
  check(mnp::parse_xconnect(body));
  check(mnp::parse_hlr_lookup(body));
  check(mnp::parse_custom(split, body));
  check(mnp::parse_custom(joined, body));
  check_text(mnp::error_message(body), 200);

  // A short input is also a JSON path and a number.
  if (size <= 64) {
    const auto path = config::parse_json_path(body);
    if (const auto* steps = std::get_if<config::JsonPath>(&path)) {
      if (steps->empty() || steps->size() > 16) std::abort();
    }
    if (const auto key = mnp::pack_number(body)) {
      const std::string_view digits = body.front() == '+' ? body.substr(1) : body;
      if (mnp::unpack_number(*key) != digits) std::abort();
    }
  }
  return 0;
}
