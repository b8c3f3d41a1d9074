// libFuzzer target for the text codecs, counting and segmentation.
//
// The first octet picks a data_coding; the rest is message bytes. Decoding any bytes must not
// crash; text that decodes cleanly and encodes again gives the same bytes (GSM, UCS-2, Latin-1);
// any UTF-8 text must count and segment consistently: the parts rejoin to the encoded bytes and
// their number is what count_encoded predicted.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <span>
#include <string_view>
#include <vector>

#include "smpp/segment.hpp"
#include "smpp/text.hpp"

namespace {
[[noreturn]] void fail(const char* what) {
  std::fprintf(stderr, "text_fuzz: %s\n", what);
  std::abort();
}

void check_segmentation(std::span<const uint8_t> encoded, smpp::Alphabet alphabet) {
  const smpp::TextInfo info = smpp::count_encoded(encoded, alphabet);
  smpp::SegmentOptions options;
  options.method = smpp::ConcatMethod::udh8;
  options.reference = 7;
  const smpp::Segmented seg = smpp::segment(encoded, alphabet, options);
  if (seg.error != smpp::SegmentError::ok) return;  // e.g. more than 255 parts
  if (info.ok() && seg.parts.size() != info.parts) fail("segment() and count_encoded() disagree");
  std::vector<uint8_t> joined;
  for (const auto& part : seg.parts) {
    const smpp::Udh udh = smpp::parse_udh(part.bytes);
    const std::span<const uint8_t> payload = seg.concatenated
                                                 ? std::span<const uint8_t>(udh.payload)
                                                 : std::span<const uint8_t>(part.bytes);
    if (seg.concatenated && udh.error != smpp::UdhError::ok) fail("a part's UDH does not parse");
    joined.insert(joined.end(), payload.begin(), payload.end());
  }
  if (joined != std::vector<uint8_t>(encoded.begin(), encoded.end())) {
    fail("parts do not rejoin to the message");
  }
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const uint8_t dc = data[0];
  const std::span<const uint8_t> bytes(data + 1, size - 1);

  const smpp::DecodedText decoded = smpp::decode_message(bytes, dc);
  if (decoded.ok()) {
    const smpp::Alphabet a = smpp::alphabet_of(dc);
    smpp::EncodedBytes back;
    if (a == smpp::Alphabet::gsm7) back = smpp::utf8_to_gsm7(decoded.text);
    if (a == smpp::Alphabet::ucs2) back = smpp::utf8_to_ucs2(decoded.text);
    if (a == smpp::Alphabet::latin1 && dc == 3) back = smpp::utf8_to_latin1(decoded.text);
    // A lone GSM escape decodes to U+00A0, which has no GSM code: such text does not encode
    // back at all (documented in text.hpp); text that does must give the same bytes.
    if ((a == smpp::Alphabet::gsm7 || a == smpp::Alphabet::ucs2 ||
         (a == smpp::Alphabet::latin1 && dc == 3)) &&
        back.ok() && back.bytes != std::vector<uint8_t>(bytes.begin(), bytes.end())) {
      fail("decoded text does not encode back to the same bytes");
    }
  }

  // The bytes as UTF-8 text: cheapest encoding, counting, segmentation.
  const std::string_view utf8(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  const smpp::EncodedText enc = smpp::encode_text(utf8);
  if (enc.ok()) {
    const smpp::DecodedText round = smpp::decode_message(enc.bytes, enc.data_coding);
    if (!round.ok() || round.text != utf8) fail("encode_text does not decode back to the text");
    check_segmentation(enc.bytes, enc.alphabet);
  }
  (void)smpp::analyze_text(utf8);
  (void)smpp::parse_udh(bytes);
  return 0;
}
