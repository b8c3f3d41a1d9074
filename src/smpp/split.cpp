#include "smpp/split.hpp"

#include <span>
#include <utility>

#include "smpp/coding.hpp"
#include "smpp/status.hpp"
#include "smpp/tlv.hpp"

namespace smpp {

namespace {

constexpr uint8_t kUdhi = 0x40;
constexpr uint8_t kSmscReceiptBits = 0x03;

// Characters of `bytes` in `alphabet`: septets (an escape counts as one more), UTF-16 units,
// octets.
std::size_t length_in(std::span<const uint8_t> bytes, Alphabet alphabet) {
  return alphabet == Alphabet::ucs2 ? bytes.size() / 2 : bytes.size();
}

}  // namespace

void receipt_on_last_part(SubmitSm& first, std::vector<SubmitSm>& more) {
  if (more.empty()) return;
  const uint8_t asked = first.registered_delivery & kSmscReceiptBits;
  first.registered_delivery &= static_cast<uint8_t>(~kSmscReceiptBits);
  for (std::size_t i = 0; i + 1 < more.size(); ++i) {
    more[i].registered_delivery &= static_cast<uint8_t>(~kSmscReceiptBits);
  }
  more.back().registered_delivery =
      static_cast<uint8_t>((more.back().registered_delivery & ~kSmscReceiptBits) | asked);
}

Split split_long(Pdu& pdu, const SplitOptions& options) {
  Split out;
  auto* m = pdu.as<SubmitSm>();
  if (m == nullptr) return out;
  if ((m->esm_class & kUdhi) != 0 || sar_concat(m->tlvs).has_value()) return out;
  const auto payload = m->tlvs.find(tlv::message_payload.tag);
  std::span<const uint8_t> text = m->short_message.bytes();
  if (payload) {
    if (!m->short_message.empty() && !payload->empty()) {
      // Both carry text (3.4 §5.2.21 forbids it): which one is meant is unknown.
      out.status = status::ESME_RINVTLVVAL;
      return out;
    }
    text = *payload;
  }
  const Alphabet alphabet = alphabet_of(m->data_coding);
  if (length_in(text, alphabet) <= options.max_length) {
    // Short enough; a short text in message_payload moves into short_message, which every
    // peer reads.
    if (payload && text.size() <= ShortMessage::kMaxLength) {
      const std::vector<uint8_t> bytes(text.begin(), text.end());
      m->short_message.assign(bytes);
      m->tlvs.erase(tlv::message_payload.tag);
    }
    return out;
  }
  SegmentOptions segment_options;
  segment_options.method = options.method;
  segment_options.reference =
      options.method == ConcatMethod::udh8 ? static_cast<uint16_t>(options.reference & 0xFF)
                                           : options.reference;
  segment_options.max_parts = options.max_parts;
  const std::vector<uint8_t> bytes(text.begin(), text.end());
  const Segmented segmented = segment(bytes, alphabet, segment_options);
  SubmitSm tmpl = *m;
  tmpl.tlvs.erase(tlv::message_payload.tag);
  std::vector<SubmitSm> parts = make_submits(segmented, tmpl, m->data_coding);
  if (!segmented.ok() || parts.empty()) {
    out.status = status::ESME_RINVMSGLEN;
    return out;
  }
  if (parts.size() == 1) {
    // Within one part after all (the alphabet's single-message limit is above max_length).
    *m = std::move(parts.front());
    return out;
  }
  *m = std::move(parts.front());
  out.more.assign(std::make_move_iterator(parts.begin() + 1), std::make_move_iterator(parts.end()));
  receipt_on_last_part(*m, out.more);
  out.split = true;
  return out;
}

}  // namespace smpp
