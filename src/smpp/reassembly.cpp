#include "smpp/reassembly.hpp"

namespace smpp {

std::string_view to_string(ReassemblyOutcome o) {
  switch (o) {
    case ReassemblyOutcome::stored:
      return "stored";
    case ReassemblyOutcome::complete:
      return "complete";
    case ReassemblyOutcome::duplicate:
      return "duplicate";
    case ReassemblyOutcome::rejected:
      return "rejected";
    case ReassemblyOutcome::overflow:
      return "overflow";
  }
  return "unknown";
}

std::string_view to_string(ReassemblyReason r) {
  switch (r) {
    case ReassemblyReason::none:
      return "none";
    case ReassemblyReason::total_zero:
      return "total parts is 0";
    case ReassemblyReason::seq_zero:
      return "part number is 0";
    case ReassemblyReason::seq_beyond_total:
      return "part number above total";
    case ReassemblyReason::too_many_parts:
      return "more parts than allowed";
    case ReassemblyReason::message_too_long:
      return "whole message longer than allowed";
    case ReassemblyReason::byte_limit:
      return "buffered bytes limit reached";
    case ReassemblyReason::message_limit:
      return "pending messages limit reached";
    case ReassemblyReason::malformed_udh:
      return "malformed UDH";
    case ReassemblyReason::partial_sar:
      return "incomplete SAR TLVs";
    case ReassemblyReason::udh_and_sar:
      return "both UDH concatenation and SAR TLVs";
  }
  return "unknown";
}

AcceptResult Reassembler::reject(ReassemblyReason reason) {
  const bool overflow =
      reason == ReassemblyReason::byte_limit || reason == ReassemblyReason::message_limit;
  if (overflow) {
    ++stats_.overflowed;
  } else {
    ++stats_.rejected;
  }
  return {overflow ? ReassemblyOutcome::overflow : ReassemblyOutcome::rejected, reason,
          std::nullopt, std::nullopt};
}

AcceptResult Reassembler::add(const ReassemblyKey& key, uint8_t seq,
                              std::span<const uint8_t> payload, TimePoint now) {
  if (key.total == 0) return reject(ReassemblyReason::total_zero);
  if (seq == 0) return reject(ReassemblyReason::seq_zero);
  if (seq > key.total) return reject(ReassemblyReason::seq_beyond_total);
  if (key.total > limits_.max_parts) return reject(ReassemblyReason::too_many_parts);

  if (key.total == 1) {
    ++stats_.completed;
    return {ReassemblyOutcome::complete, ReassemblyReason::none,
            CompleteMessage{key, std::vector<uint8_t>(payload.begin(), payload.end()), 0},
            std::nullopt};
  }

  auto it = pending_.find(key);
  if (it != pending_.end() && it->second.parts[seq - 1].has_value()) {
    ++it->second.duplicates;
    ++stats_.duplicates;
    return {ReassemblyOutcome::duplicate, ReassemblyReason::none, std::nullopt, std::nullopt};
  }
  const std::size_t held = it != pending_.end() ? it->second.bytes : 0;
  if (payload.size() > limits_.max_message_bytes || held > limits_.max_message_bytes - payload.size()) {
    return reject(ReassemblyReason::message_too_long);
  }
  if (payload.size() > limits_.max_buffered_bytes - buffered_bytes_) {
    return reject(ReassemblyReason::byte_limit);
  }
  if (it == pending_.end()) {
    if (pending_.size() >= limits_.max_pending_messages)
      return reject(ReassemblyReason::message_limit);
    Pending p;
    p.first_seen = now;
    p.parts.resize(key.total);
    it = pending_.emplace(key, std::move(p)).first;
  }

  Pending& p = it->second;
  p.parts[seq - 1].emplace(payload.begin(), payload.end());
  ++p.received;
  p.bytes += payload.size();
  buffered_bytes_ += payload.size();
  ++stats_.stored;
  if (p.received < p.parts.size())
    return {ReassemblyOutcome::stored, ReassemblyReason::none, std::nullopt, it->first};

  CompleteMessage done{it->first, {}, p.duplicates};
  done.payload.reserve(p.bytes);
  for (const auto& part : p.parts)
    done.payload.insert(done.payload.end(), part->begin(), part->end());
  buffered_bytes_ -= p.bytes;
  pending_.erase(it);
  ++stats_.completed;
  return {ReassemblyOutcome::complete, ReassemblyReason::none, std::move(done), std::nullopt};
}

AcceptResult Reassembler::add_sm(std::string_view scope, const SmFields& sm, TimePoint now) {
  std::span<const uint8_t> data = sm.short_message.bytes();
  if (data.empty()) {
    if (const auto payload = sm.tlvs.get(tlv::message_payload)) data = *payload;
  }
  bool partial_sar = false;
  const std::optional<ConcatInfo> sar = sar_concat(sm.tlvs, &partial_sar);
  if (partial_sar) return reject(ReassemblyReason::partial_sar);

  std::optional<ConcatInfo> concat = sar;
  if (sm.esm_class & esm_class::kUdhi) {
    const Udh udh = parse_udh(data);
    if (!udh.ok()) return reject(ReassemblyReason::malformed_udh);
    if (udh.concat) {
      if (sar) return reject(ReassemblyReason::udh_and_sar);
      concat = udh.concat;
    }
    data = udh.payload;
  }

  ReassemblyKey key{std::string(scope), sm.source_addr.str(), sm.destination_addr.str(), 0, 1};
  if (!concat) return add(key, 1, data, now);
  key.reference = concat->reference;
  key.total = concat->total;
  return add(key, concat->seq, data, now);
}

IncompleteMessage Reassembler::to_incomplete(const ReassemblyKey& key, Pending& p) {
  IncompleteMessage m{key, p.first_seen, {}, p.duplicates};
  for (std::size_t i = 0; i < p.parts.size(); ++i) {
    if (p.parts[i]) m.parts.emplace_back(static_cast<uint8_t>(i + 1), std::move(*p.parts[i]));
  }
  return m;
}

std::vector<IncompleteMessage> Reassembler::expire(TimePoint now) {
  std::vector<IncompleteMessage> out;
  for (auto it = pending_.begin(); it != pending_.end();) {
    if (now - it->second.first_seen >= limits_.timeout) {
      buffered_bytes_ -= it->second.bytes;
      out.push_back(to_incomplete(it->first, it->second));
      it = pending_.erase(it);
      ++stats_.expired;
    } else {
      ++it;
    }
  }
  return out;
}

std::vector<IncompleteMessage> Reassembler::drain() {
  std::vector<IncompleteMessage> out;
  out.reserve(pending_.size());
  for (auto& [key, p] : pending_) out.push_back(to_incomplete(key, p));
  pending_.clear();
  buffered_bytes_ = 0;
  return out;
}

std::optional<Reassembler::TimePoint> Reassembler::next_deadline() const {
  std::optional<TimePoint> oldest;
  for (const auto& [key, p] : pending_) {
    if (!oldest || p.first_seen < *oldest) oldest = p.first_seen;
  }
  if (!oldest) return std::nullopt;
  return *oldest + limits_.timeout;
}

}  // namespace smpp
