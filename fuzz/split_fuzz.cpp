// libFuzzer target for cutting long messages (smpp/split.hpp): a client's text, in
// message_payload or short_message, any data_coding, any max_length, method and max_parts.
//
// Input: [data_coding][max_length][method, in_payload, max_parts][registered_delivery] then the
// text's octets. When the message is cut, the parts joined must give the text back, each part
// must encode, there are at most max_parts, and only the last asks for the receipt; when it is
// refused, the PDU is unchanged. Any difference aborts.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "smpp/codec.hpp"
#include "smpp/split.hpp"
#include "smpp/status.hpp"
#include "smpp/tlv.hpp"

namespace {

using namespace smpp;

[[noreturn]] void fail(const char* what) {
  std::fprintf(stderr, "split_fuzz: %s\n", what);
  std::abort();
}

// The text a part carries (after its UDH, if it has one).
void append_text(const SubmitSm& m, std::vector<uint8_t>& out) {
  std::span<const uint8_t> b = m.short_message.bytes();
  if ((m.esm_class & 0x40) != 0) {
    if (b.empty() || std::size_t{b[0]} + 1 > b.size()) fail("a part's UDH is longer than it");
    b = b.subspan(std::size_t{b[0]} + 1);
  }
  out.insert(out.end(), b.begin(), b.end());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  if (size < 4) return 0;
  SubmitSm m;
  m.destination_addr.assign("258841234567");
  m.data_coding = data[0];
  m.registered_delivery = data[3];
  const std::vector<uint8_t> text(data + 4, data + size);
  const bool in_payload = (data[2] & 0x02) != 0 || text.size() > ShortMessage::kMaxLength;
  if (in_payload) {
    m.tlvs.set(tlv::message_payload, text);
  } else {
    m.short_message.assign(text);
  }
  SplitOptions o;
  o.method = (data[2] & 0x01) != 0 ? ConcatMethod::sar : ConcatMethod::udh8;
  o.max_length = data[1];
  o.max_parts = 1 + (data[2] >> 2);
  o.reference = static_cast<uint16_t>(size);
  Pdu pdu = make_pdu(1, m);
  const Split s = split_long(pdu, o);
  const SubmitSm& first = *pdu.as<SubmitSm>();
  if (s.status != status::ESME_ROK) {
    if (!(first == m)) fail("a refused message was changed");
    return 0;
  }
  if (!s.split) {
    if (!s.more.empty()) fail("parts without a split");
    std::vector<uint8_t> whole;
    append_text(first, whole);
    const auto payload = first.tlvs.find(tlv::message_payload.tag);
    if (payload) whole.insert(whole.end(), payload->begin(), payload->end());
    if (whole != text) fail("a message left whole lost its text");
    return 0;
  }
  if (1 + s.more.size() > o.max_parts) fail("more parts than max_parts");
  std::vector<uint8_t> joined;
  append_text(first, joined);
  for (const SubmitSm& part : s.more) append_text(part, joined);
  if (joined != text) fail("the parts joined are not the text");
  const uint8_t asked = m.registered_delivery & 0x03;
  if ((first.registered_delivery & 0x03) != 0) fail("a part before the last asks for a receipt");
  for (std::size_t i = 0; i + 1 < s.more.size(); ++i) {
    if ((s.more[i].registered_delivery & 0x03) != 0) fail("a middle part asks for a receipt");
  }
  if ((s.more.back().registered_delivery & 0x03) != asked) fail("the last part lost the receipt");
  for (const SubmitSm& part : s.more) {
    if (part.tlvs.contains(tlv::message_payload.tag)) fail("a part kept message_payload");
    const std::vector<uint8_t> bytes = encode(make_pdu(2, part));
    if (bytes.empty()) fail("a part does not encode");
  }
  return 0;
}
