#include "smpp/downgrade.hpp"

#include <array>
#include <iterator>
#include <string>
#include <type_traits>
#include <vector>

#include "smpp/coding.hpp"
#include "smpp/receipt.hpp"
#include "smpp/segment.hpp"
#include "smpp/status.hpp"

namespace smpp {

namespace {

constexpr uint8_t kUdhi = 0x40;

// The UDH elements that stand for the message's SAR and port TLVs.
struct Elements {
  std::vector<uint8_t> bytes;  // IEI, length, value; ...
  std::size_t tlvs = 0;        // TLVs they replace
};

Elements elements_for(const TlvList& tlvs, bool has_concat_already) {
  Elements e;
  bool partial = false;
  if (auto sar = sar_concat(tlvs, &partial); sar && !has_concat_already) {
    // 16-bit reference (IEI 0x08): the SAR reference is 16-bit.
    const std::array<uint8_t, 6> ie = {0x08,
                                       0x04,
                                       static_cast<uint8_t>(sar->reference >> 8),
                                       static_cast<uint8_t>(sar->reference),
                                       sar->total,
                                       sar->seq};
    e.bytes.insert(e.bytes.end(), ie.begin(), ie.end());
    e.tlvs += 3;
  }
  const auto dst = tlvs.get(tlv::dest_port);
  const auto src = tlvs.get(tlv::source_port);
  if (dst || src) {
    // Application port addressing, 16-bit (IEI 0x05): destination first.
    const uint16_t d = dst.value_or(0), s = src.value_or(0);
    const std::array<uint8_t, 6> ie = {0x05,
                                       0x04,
                                       static_cast<uint8_t>(d >> 8),
                                       static_cast<uint8_t>(d),
                                       static_cast<uint8_t>(s >> 8),
                                       static_cast<uint8_t>(s)};
    e.bytes.insert(e.bytes.end(), ie.begin(), ie.end());
    e.tlvs += (dst ? 1 : 0) + (src ? 1 : 0);
  }
  return e;
}

// A payload too long for one short_message, as parts with a UDH.
template <class Sm>
Downgrade segment_payload(Sm& m, std::span<const uint8_t> payload, uint16_t reference) {
  Downgrade d;
  SegmentOptions options;
  options.method = ConcatMethod::udh8;
  options.reference = static_cast<uint16_t>(reference & 0xFF);
  const Segmented segmented = segment(payload, alphabet_of(m.data_coding), options);
  SubmitSm tmpl;
  static_cast<SmFields&>(tmpl) = static_cast<const SmFields&>(m);
  std::vector<SubmitSm> parts = make_submits(segmented, tmpl, m.data_coding);
  if (!segmented.ok() || parts.empty()) {
    d.status = status::ESME_RINVMSGLEN;
    return d;
  }
  d.converted = 1;
  static_cast<SmFields&>(m) = std::move(static_cast<SmFields&>(parts.front()));
  for (std::size_t i = 1; i < parts.size(); ++i) {
    if constexpr (std::is_same_v<Sm, SubmitSm>) {
      d.more.push_back(std::move(parts[i]));
    } else {
      Sm part;
      static_cast<SmFields&>(part) = std::move(static_cast<SmFields&>(parts[i]));
      d.more_deliveries.push_back(std::move(part));
    }
  }
  d.left = m.tlvs.count();
  return d;
}

// The 3.3 form of the message's fields.
template <class Sm>
Downgrade express(Sm& m, uint16_t reference) {
  Downgrade d;
  if (m.tlvs.empty()) return d;
  const auto payload = m.tlvs.find(tlv::message_payload.tag);
  std::span<const uint8_t> body = m.short_message.bytes();
  if (payload) {
    if (!m.short_message.empty() && !payload->empty()) {
      // Both carry text (3.4 §5.2.21 forbids it): which one is meant is unknown.
      d.status = status::ESME_RINVTLVVAL;
      return d;
    }
    body = *payload;
  }
  const bool had_udh = (m.esm_class & kUdhi) != 0;
  std::optional<Udh> udh;
  if (had_udh) {
    udh = parse_udh(body);
    if (!udh->ok()) {
      d.status = status::ESME_RINVESMCLASS;
      return d;
    }
  }
  const Elements added = elements_for(m.tlvs, udh && udh->concat.has_value());
  std::vector<uint8_t> out;
  out.reserve(body.size() + added.bytes.size() + 1);
  if (added.bytes.empty()) {
    out.assign(body.begin(), body.end());
  } else if (udh) {
    const std::size_t udhl = udh->header_length - 1 + added.bytes.size();
    if (udhl > 0xFF) {
      d.status = status::ESME_RINVMSGLEN;
      return d;
    }
    out.push_back(static_cast<uint8_t>(udhl));
    out.insert(out.end(), body.begin() + 1, body.begin() + udh->header_length);
    out.insert(out.end(), added.bytes.begin(), added.bytes.end());
    out.insert(out.end(), udh->payload.begin(), udh->payload.end());
  } else {
    out.push_back(static_cast<uint8_t>(added.bytes.size()));
    out.insert(out.end(), added.bytes.begin(), added.bytes.end());
    out.insert(out.end(), body.begin(), body.end());
  }
  if (out.size() > ShortMessage::kMaxLength) {
    // One 3.3 short_message holds 254 octets: a plain payload is segmented; one that comes with
    // a UDH, SAR or ports of its own would need those merged into every part, which is not done.
    if (payload && !had_udh && added.bytes.empty()) {
      const std::vector<uint8_t> text(payload->begin(), payload->end());
      return segment_payload(m, text, reference);
    }
    d.status = status::ESME_RINVMSGLEN;
    return d;
  }
  m.short_message.assign(out);
  if (!added.bytes.empty()) m.esm_class |= kUdhi;
  d.converted = added.tlvs + (payload ? 1 : 0);
  m.tlvs.erase(tlv::message_payload.tag);
  if (added.tlvs > 0) {
    for (uint16_t tag : {tlv::sar_msg_ref_num.tag, tlv::sar_total_segments.tag,
                         tlv::sar_segment_seqnum.tag, tlv::source_port.tag, tlv::dest_port.tag}) {
      m.tlvs.erase(tag);
    }
  }
  d.left = m.tlvs.count();
  return d;
}

}  // namespace

Downgrade express_for_v33(Pdu& pdu, uint16_t reference) {
  if (auto* m = pdu.as<SubmitSm>()) return express(*m, reference);
  if (auto* ds = pdu.as<DataSm>()) {
    SubmitSm m;
    m.service_type = ds->service_type;
    m.source_addr_ton = ds->source_addr_ton;
    m.source_addr_npi = ds->source_addr_npi;
    m.dest_addr_ton = ds->dest_addr_ton;
    m.dest_addr_npi = ds->dest_addr_npi;
    // data_sm addresses take 64 characters, submit_sm's 20.
    Downgrade refused;
    if (!m.source_addr.assign(ds->source_addr.view())) {
      refused.status = status::ESME_RINVSRCADR;
      return refused;
    }
    if (!m.destination_addr.assign(ds->destination_addr.view())) {
      refused.status = status::ESME_RINVDSTADR;
      return refused;
    }
    m.esm_class = ds->esm_class;
    m.registered_delivery = ds->registered_delivery;
    m.data_coding = ds->data_coding;
    m.tlvs = ds->tlvs;
    Downgrade d = express(m, reference);
    if (d.status != status::ESME_ROK) return d;
    d.became_submit = true;
    const uint32_t seq = pdu.sequence_number;
    pdu = make_pdu(seq, std::move(m));
    return d;
  }
  return {};
}

Downgrade express_delivery_for_v33(DeliverSm& m, uint16_t reference) {
  if (is_receipt(m.esm_class) && m.short_message.empty() &&
      !m.tlvs.contains(tlv::message_payload.tag)) {
    // A receipt told in TLVs only: its standard text, which a 3.3 client reads.
    if (auto r = parse_receipt(m)) {
      const std::string text = format_receipt_text(*r);
      if (m.short_message.assign(text)) {
        Downgrade d;
        d.converted = 1;
        d.left = m.tlvs.count();
        return d;
      }
    }
  }
  return express(m, reference);
}

}  // namespace smpp
