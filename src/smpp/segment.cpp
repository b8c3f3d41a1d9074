#include "smpp/segment.hpp"

#include <algorithm>

namespace smpp {

namespace {

// Largest value of message_payload's 16-bit length.
constexpr std::size_t kMaxPayload = 0xFFFF;
constexpr std::size_t kMaxTotal = 255;

void append_udh(std::vector<uint8_t>& out, ConcatMethod method, uint16_t reference, uint8_t total,
                uint8_t seq) {
  if (method == ConcatMethod::udh8) {
    out.insert(out.end(), {0x05, iei::kConcat8, 0x03, static_cast<uint8_t>(reference), total, seq});
  } else {
    out.insert(out.end(), {0x06, iei::kConcat16, 0x04, static_cast<uint8_t>(reference >> 8),
                           static_cast<uint8_t>(reference & 0xFF), total, seq});
  }
}

}  // namespace

std::string_view to_string(SegmentError e) {
  switch (e) {
    case SegmentError::ok:
      return "ok";
    case SegmentError::too_many_parts:
      return "too many parts";
    case SegmentError::reference_out_of_range:
      return "reference above 255 for an 8-bit UDH";
    case SegmentError::payload_too_long:
      return "message longer than 65535 octets";
  }
  return "unknown";
}

std::string_view to_string(UdhError e) {
  switch (e) {
    case UdhError::ok:
      return "ok";
    case UdhError::empty:
      return "no UDH length octet";
    case UdhError::header_past_end:
      return "UDH length past the end of the message";
    case UdhError::element_overrun:
      return "information element overruns the UDH";
    case UdhError::bad_concat_length:
      return "concatenation element of wrong length";
  }
  return "unknown";
}

Segmented segment(std::span<const uint8_t> encoded, Alphabet alphabet,
                  const SegmentOptions& options) {
  Segmented r;
  r.method = options.method;
  r.reference = options.reference;

  if (options.method == ConcatMethod::payload) {
    if (encoded.size() > kMaxPayload) {
      r.error = SegmentError::payload_too_long;
      return r;
    }
    r.total = 1;
    r.parts.push_back({1, std::vector<uint8_t>(encoded.begin(), encoded.end())});
    return r;
  }
  if (options.method == ConcatMethod::udh8 && options.reference > 0xFF) {
    r.error = SegmentError::reference_out_of_range;
    return r;
  }

  const std::size_t unit = unit_octets(alphabet);
  const PartLimits limits = part_limits(
      alphabet, options.method == ConcatMethod::udh16 ? ConcatRef::ref16 : ConcatRef::ref8);
  if (encoded.size() <= limits.single * unit) {
    r.total = 1;
    r.parts.push_back({1, std::vector<uint8_t>(encoded.begin(), encoded.end())});
    return r;
  }

  // Find the cuts first, so nothing is built for a message that has too many parts.
  const std::size_t max_parts = std::min(options.max_parts, kMaxTotal);
  std::vector<std::size_t> lengths;
  std::size_t pos = 0;
  while (pos < encoded.size()) {
    const std::size_t n = chunk_length(encoded.subspan(pos), alphabet, limits.per_part * unit);
    // n is never 0 here: a part holds at least 66 units, more than any pair.
    if (n == 0 || lengths.size() == max_parts) {
      r.error = SegmentError::too_many_parts;
      return r;
    }
    lengths.push_back(n);
    pos += n;
  }

  r.concatenated = true;
  r.total = static_cast<uint8_t>(lengths.size());
  r.parts.reserve(lengths.size());
  pos = 0;
  for (std::size_t i = 0; i < lengths.size(); ++i) {
    SegmentPart part;
    part.seq = static_cast<uint8_t>(i + 1);
    part.bytes.reserve(lengths[i] + 7);
    if (options.method != ConcatMethod::sar) {
      append_udh(part.bytes, options.method, options.reference, r.total, part.seq);
    }
    const auto chunk = encoded.subspan(pos, lengths[i]);
    part.bytes.insert(part.bytes.end(), chunk.begin(), chunk.end());
    pos += lengths[i];
    r.parts.push_back(std::move(part));
  }
  return r;
}

std::vector<SubmitSm> make_submits(const Segmented& segmented, const SubmitSm& tmpl,
                                   uint8_t data_coding) {
  std::vector<SubmitSm> out;
  if (!segmented.ok()) return out;
  out.reserve(segmented.parts.size());
  const bool udh = segmented.concatenated && (segmented.method == ConcatMethod::udh8 ||
                                              segmented.method == ConcatMethod::udh16);
  const bool sar = segmented.concatenated && segmented.method == ConcatMethod::sar;
  for (const SegmentPart& part : segmented.parts) {
    SubmitSm sm = tmpl;
    sm.data_coding = data_coding;
    sm.esm_class = static_cast<uint8_t>(sm.esm_class & ~esm_class::kUdhi);
    if (udh) sm.esm_class = static_cast<uint8_t>(sm.esm_class | esm_class::kUdhi);
    sm.tlvs.erase(tlv::sar_msg_ref_num.tag);
    sm.tlvs.erase(tlv::sar_total_segments.tag);
    sm.tlvs.erase(tlv::sar_segment_seqnum.tag);
    sm.tlvs.erase(tlv::message_payload.tag);
    if (segmented.method == ConcatMethod::payload) {
      sm.short_message.clear();
      sm.tlvs.set(tlv::message_payload, std::span<const uint8_t>(part.bytes));
    } else {
      // Parts are at most 7 + 160 octets, well inside short_message's 254.
      sm.short_message.assign(std::span<const uint8_t>(part.bytes));
    }
    if (sar) {
      sm.tlvs.set(tlv::sar_msg_ref_num, segmented.reference);
      sm.tlvs.set(tlv::sar_total_segments, segmented.total);
      sm.tlvs.set(tlv::sar_segment_seqnum, part.seq);
    }
    out.push_back(std::move(sm));
  }
  return out;
}

Udh parse_udh(std::span<const uint8_t> short_message) {
  Udh r;
  if (short_message.empty()) {
    r.error = UdhError::empty;
    return r;
  }
  const std::size_t udhl = short_message[0];
  if (udhl + 1 > short_message.size()) {
    r.error = UdhError::header_past_end;
    return r;
  }
  r.header_length = udhl + 1;
  const auto header = short_message.subspan(1, udhl);
  std::size_t pos = 0;
  while (pos < header.size()) {
    if (header.size() - pos < 2) {
      r.error = UdhError::element_overrun;
      return r;
    }
    const uint8_t id = header[pos];
    const std::size_t len = header[pos + 1];
    pos += 2;
    if (len > header.size() - pos) {
      r.error = UdhError::element_overrun;
      return r;
    }
    const auto data = header.subspan(pos, len);
    pos += len;
    r.elements.push_back({id, data});
    if (id == iei::kConcat8) {
      if (len != 3) {
        r.error = UdhError::bad_concat_length;
        return r;
      }
      r.concat = ConcatInfo{data[0], data[1], data[2], false};
    } else if (id == iei::kConcat16) {
      if (len != 4) {
        r.error = UdhError::bad_concat_length;
        return r;
      }
      r.concat =
          ConcatInfo{static_cast<uint16_t>((data[0] << 8) | data[1]), data[2], data[3], true};
    }
  }
  r.payload = short_message.subspan(r.header_length);
  return r;
}

std::optional<ConcatInfo> sar_concat(const TlvList& tlvs, bool* partial) {
  const auto ref = tlvs.get(tlv::sar_msg_ref_num);
  const auto total = tlvs.get(tlv::sar_total_segments);
  const auto seq = tlvs.get(tlv::sar_segment_seqnum);
  const bool any = tlvs.contains(tlv::sar_msg_ref_num.tag) ||
                   tlvs.contains(tlv::sar_total_segments.tag) ||
                   tlvs.contains(tlv::sar_segment_seqnum.tag);
  const bool all = ref && total && seq;
  if (partial) *partial = any && !all;
  if (!all) return std::nullopt;
  return ConcatInfo{*ref, *total, *seq, true};
}

}  // namespace smpp
