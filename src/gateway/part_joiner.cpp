#include "gateway/part_joiner.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <limits>
#include <utility>

#include "gateway/message_ids.hpp"
#include "smpp/time.hpp"

namespace smppd::gateway {

namespace {

smpp::ReassemblyLimits limits_of(const config::MultipartConfig& c) {
  smpp::ReassemblyLimits l;
  l.timeout = c.reassembly_timeout;
  l.max_parts = std::min<std::size_t>(c.reassembly_max_parts, 255);
  l.max_buffered_bytes = static_cast<std::size_t>(
      std::min<uint64_t>(c.reassembly_buffer_size, std::numeric_limits<std::size_t>::max()));
  return l;
}

// The parts' own request of a receipt, strongest first: always (1) over on failure (2) over
// none; bits 2-7 (SME acknowledgements, intermediate notification) of the completing part.
uint8_t joined_receipt_request(uint8_t completing, const std::vector<HeldPart>& earlier) {
  uint8_t asked = completing & 0x03;
  for (const HeldPart& p : earlier) {
    const uint8_t bits = p.registered_delivery & 0x03;
    if (bits == 1 || (bits == 2 && asked == 0)) asked = bits;
  }
  return static_cast<uint8_t>((completing & 0xFC) | asked);
}

// `m`, a part, becomes the whole message of `payload`: no UDHI, no SAR TLVs, the text in
// short_message (message_payload beyond what short_message takes).
void make_whole(smpp::SubmitSm& m, const std::vector<uint8_t>& payload) {
  m.esm_class = static_cast<uint8_t>(m.esm_class & ~smpp::esm_class::kUdhi);
  m.tlvs.erase(smpp::tlv::sar_msg_ref_num.tag);
  m.tlvs.erase(smpp::tlv::sar_total_segments.tag);
  m.tlvs.erase(smpp::tlv::sar_segment_seqnum.tag);
  m.tlvs.erase(smpp::tlv::message_payload.tag);
  if (payload.size() <= 254) {
    m.short_message.assign(payload);
  } else {
    m.short_message.clear();
    m.tlvs.set(smpp::tlv::message_payload, payload);
  }
}

// The concatenation of a part (UDH, else SAR TLVs), as the gateway's message_concat reads it.
std::optional<smpp::ConcatInfo> message_seq(const smpp::SubmitSm& m) {
  std::optional<smpp::ConcatInfo> concat;
  if (m.esm_class & smpp::esm_class::kUdhi) {
    std::span<const uint8_t> sent = m.short_message.bytes();
    if (sent.empty()) {
      if (auto payload = m.tlvs.get(smpp::tlv::message_payload)) sent = *payload;
    }
    concat = smpp::parse_udh(sent).concat;
  }
  if (!concat) concat = smpp::sar_concat(m.tlvs);
  return concat;
}

}  // namespace

smpp::Pdu given_up_receipt(const GivenUp& message, const HeldPart& part, smpp::MessageState state,
                           uint32_t error, int64_t now_unix_seconds) {
  smpp::Receipt r;
  r.id = render_message_id(part.id, message.version);
  r.sub = "001";
  r.dlvrd = "000";
  r.submit_date =
      smpp::format_receipt_date(smpp::SmppTime::from_unix_seconds(message.first_unix_seconds));
  r.done_date = smpp::format_receipt_date(smpp::SmppTime::from_unix_seconds(now_unix_seconds));
  r.state = state;
  r.stat = std::string(smpp::stat_word(state));
  r.err = fmt::format("{:03}", std::min<uint32_t>(error, 999));
  smpp::DeliverSm d;
  d.source_addr_ton = message.destination_ton;
  d.source_addr_npi = message.destination_npi;
  d.source_addr.assign(message.destination);
  d.dest_addr_ton = message.source_ton;
  d.dest_addr_npi = message.source_npi;
  d.destination_addr.assign(message.source);
  smpp::fill_receipt(d, r, message.version);
  smpp::Pdu out;
  out.body = std::move(d);
  return out;
}

PartJoiner::PartJoiner(const config::MultipartConfig& config)
    : timeout_(config.reassembly_timeout), reassembler_(limits_of(config)) {}

PartJoiner::Result PartJoiner::add(std::string_view client, smpp::Version version,
                                   smpp::Pdu& request, uint64_t id, TimePoint now,
                                   int64_t now_unix_seconds, bool start_new) {
  Result out;
  auto* m = request.as<smpp::SubmitSm>();
  if (m == nullptr) return out;
  // The part as it came, and how its client cut the message.
  std::span<const uint8_t> sent = m->short_message.bytes();
  if (sent.empty()) {
    if (auto payload = m->tlvs.get(smpp::tlv::message_payload)) sent = *payload;
  }
  smpp::ConcatMethod method = smpp::ConcatMethod::sar;
  if (m->esm_class & smpp::esm_class::kUdhi) {
    const smpp::Udh udh = smpp::parse_udh(sent);
    // Other elements (ports, language shift tables...) belong to each part: the text alone
    // would lose them.
    for (const smpp::InformationElement& e : udh.elements) {
      if (e.iei != 0x00 && e.iei != 0x08) return out;
    }
    method = udh.concat && udh.concat->ref16 ? smpp::ConcatMethod::udh16 : smpp::ConcatMethod::udh8;
  }
  std::lock_guard lock(mutex_);
  struct Busy {
    PartJoiner& j;
    ~Busy() { j.busy_.store(j.reassembler_.pending_messages() > 0, std::memory_order_relaxed); }
  } busy{*this};
  if (drained_) return out;
  if (!start_new) {
    const std::optional<smpp::ConcatInfo> concat = message_seq(*m);
    if (!concat) return out;
    const smpp::ReassemblyKey key{std::string(client), m->source_addr.str(),
                                  m->destination_addr.str(), concat->reference, concat->total};
    if (!held_.contains(key)) return out;
  }
  smpp::AcceptResult a = reassembler_.add_sm(client, *m, now);
  switch (a.outcome) {
    case smpp::ReassemblyOutcome::rejected:
      // Not joinable (malformed, or more parts than max_parts): the SMSC judges it as it came.
      out.reason = a.reason;
      return out;
    case smpp::ReassemblyOutcome::overflow:
      out.kind = Kind::refused;
      out.reason = a.reason;
      return out;
    case smpp::ReassemblyOutcome::duplicate:
      out.kind = Kind::duplicate;
      return out;
    case smpp::ReassemblyOutcome::stored: {
      auto [it, fresh] = held_.try_emplace(*a.key);
      Held& held = it->second;
      GivenUp& g = held.answered;
      if (fresh) {
        g.client = std::string(client);
        g.version = version;
        g.source_ton = m->source_addr_ton;
        g.source_npi = m->source_addr_npi;
        g.source = m->source_addr.str();
        g.destination_ton = m->dest_addr_ton;
        g.destination_npi = m->dest_addr_npi;
        g.destination = m->destination_addr.str();
        g.first_unix_seconds = now_unix_seconds;
        held.as_sent.resize(a.key->total);
      }
      g.parts.push_back(HeldPart{id, m->registered_delivery});
      const std::optional<smpp::ConcatInfo> concat = message_seq(*m);
      if (concat && concat->seq >= 1 && concat->seq <= held.as_sent.size()) {
        held.as_sent[concat->seq - 1].assign(sent.begin(), sent.end());
      }
      out.kind = Kind::held;
      return out;
    }
    case smpp::ReassemblyOutcome::complete:
      break;
  }
  smpp::CompleteMessage& done = *a.message;
  out.kind = Kind::whole;
  auto as_sent = std::make_shared<AsSent>();
  as_sent->parts.method = method;
  as_sent->parts.concatenated = true;
  as_sent->parts.reference = done.key.reference;
  as_sent->parts.total = done.key.total;
  std::vector<std::vector<uint8_t>> originals;
  if (auto it = held_.find(done.key); it != held_.end()) {
    out.earlier = std::move(it->second.answered);
    originals = std::move(it->second.as_sent);
    held_.erase(it);
  } else {
    out.earlier.client = std::string(client);
    out.earlier.version = version;
    out.earlier.first_unix_seconds = now_unix_seconds;
  }
  originals.resize(done.key.total);
  if (const std::optional<smpp::ConcatInfo> concat = message_seq(*m);
      concat && concat->seq >= 1 && concat->seq <= originals.size()) {
    originals[concat->seq - 1].assign(sent.begin(), sent.end());
  }
  for (std::size_t i = 0; i < originals.size(); ++i) {
    as_sent->parts.parts.push_back(
        smpp::SegmentPart{static_cast<uint8_t>(i + 1), std::move(originals[i])});
  }
  as_sent->payload = done.payload;
  out.as_sent = std::move(as_sent);
  m->registered_delivery = joined_receipt_request(m->registered_delivery, out.earlier.parts);
  make_whole(*m, done.payload);
  return out;
}

std::vector<GivenUp> PartJoiner::given_up(std::vector<smpp::IncompleteMessage> messages) {
  std::vector<GivenUp> out;
  out.reserve(messages.size());
  for (smpp::IncompleteMessage& m : messages) {
    auto it = held_.find(m.key);
    if (it == held_.end()) continue;
    out.push_back(std::move(it->second.answered));
    held_.erase(it);
  }
  return out;
}

std::vector<GivenUp> PartJoiner::expire(TimePoint now) {
  std::lock_guard lock(mutex_);
  std::vector<GivenUp> out = given_up(reassembler_.expire(now));
  busy_.store(reassembler_.pending_messages() > 0, std::memory_order_relaxed);
  return out;
}

std::vector<GivenUp> PartJoiner::drain() {
  std::lock_guard lock(mutex_);
  drained_ = true;
  busy_.store(false, std::memory_order_relaxed);
  return given_up(reassembler_.drain());
}

std::size_t PartJoiner::pending_messages() const {
  std::lock_guard lock(mutex_);
  return reassembler_.pending_messages();
}

std::size_t PartJoiner::buffered_bytes() const {
  std::lock_guard lock(mutex_);
  return reassembler_.buffered_bytes();
}

}  // namespace smppd::gateway
