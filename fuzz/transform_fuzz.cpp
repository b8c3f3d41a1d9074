// libFuzzer target for the middleware's rewriting of a client's message (middleware/transform,
// middleware/protocol through middleware/chain): rules come from the configuration, but the
// message they rewrite is the client's, any PDU at all.
//
// The input is one PDU as a client might send it (decode failures are not this target's
// business). It goes through two chains: rules that read and rewrite the text (append, a set of
// data_coding when the text matches a regex, ${short_message} into an address) with UDH parts;
// and the same with SAR parts, a low max_parts and version_mapping 3.4 -> 3.3. Each runs with
// and without parts allowed. Whatever comes out, when not refused, must encode and decode back
// to itself, parts included, and hold no more parts than it may. Any difference aborts.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <span>
#include <vector>

#include "middleware/chain.hpp"
#include "smpp/codec.hpp"

namespace {

using namespace smppd;

[[noreturn]] void fail(const char* what) {
  std::fprintf(stderr, "transform_fuzz: %s\n", what);
  std::abort();
}

config::Config make(bool sar) {
  config::Config c;
  config::MiddlewareConfig t;
  t.type = config::MiddlewareType::transform;
  t.rules = {
      {{}, {}, {{"short_message", "${short_message} Reply STOP to opt out. €"}}},
      {{{"short_message", "(?s).*[aä].*"}}, {{"data_coding", "8"}}, {}},
      {{{"short_message", "(a*)*b"}}, {{"service_type", "X"}}, {}},  // Boost gives up: no match
      {{{"destination_addr", "^8[0-9]{8}$"}},
       {},
       {{"destination_addr", "+258${destination_addr}"}}},
      {{{"esm_class", "[0-9]+"}}, {}, {{"source_addr", "${service_type}${source_addr}"}}},
      {{{"client", "alice"}}, {{"source_addr_ton", "5"}, {"priority_flag", "1"}}, {}},
  };
  c.middleware.push_back(t);
  if (sar) {
    c.multipart.segmentation_method = config::SegmentationMethod::sar_tlv;
    c.multipart.segmentation_max_parts = 3;
    config::MiddlewareConfig p;
    p.type = config::MiddlewareType::protocol;
    p.version_mapping = {{smpp::Version::v34, smpp::Version::v33}};
    c.middleware.push_back(p);
  }
  return c;
}

void check_round_trip(const smpp::Pdu& pdu) {
  const std::vector<uint8_t> bytes = smpp::encode(pdu);
  smpp::Pdu back;
  smpp::DecodeError error;
  if (!smpp::decode(bytes, back, error)) fail("a rewritten PDU does not decode");
  if (!(back == pdu)) fail("a rewritten PDU does not decode to itself");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  static const middleware::Chain udh(make(false));
  static const middleware::Chain sar(make(true));
  smpp::Pdu original;
  smpp::DecodeError error;
  if (!smpp::decode(std::span<const uint8_t>(data, size), original, error)) return 0;
  for (const middleware::Chain* chain : {&udh, &sar}) {
    for (bool parts_allowed : {true, false}) {
      smpp::Pdu pdu = original;
      const middleware::Verdict v =
          chain->run(pdu, "alice", middleware::MessageContext{smpp::Version::v34, parts_allowed});
      if (v.rejection) continue;
      if (!parts_allowed && !v.rewrite.more_parts.empty()) fail("parts where none are allowed");
      check_round_trip(pdu);
      for (const smpp::SubmitSm& part : v.rewrite.more_parts) {
        check_round_trip(smpp::make_pdu(pdu.sequence_number, part));
      }
      // A transform's parts are at most max_parts; 3.3's own segmentation of a long payload
      // (protocol) at most 255.
      if (v.rewrite.more_parts.size() + 1 > 255) fail("more than 255 parts");
    }
  }
  return 0;
}
