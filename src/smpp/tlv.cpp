#include "smpp/tlv.hpp"

#include <algorithm>
#include <stdexcept>

#include "smpp/status.hpp"

namespace smpp {

namespace {
constexpr std::size_t npos = static_cast<std::size_t>(-1);

uint16_t read16(const uint8_t* p) {
  return static_cast<uint16_t>((p[0] << 8) | p[1]);
}

// Sorted by tag for binary search. Lengths are the value's, in octets; a C-Octet String's
// bounds include its NUL. Where 3.4 and 5.0 differ the bounds cover both.
constexpr TlvInfo kTlvs[] = {
    {0x0005, "dest_addr_subunit", TlvType::u8, 1, 1},
    {0x0006, "dest_network_type", TlvType::u8, 1, 1},
    {0x0007, "dest_bearer_type", TlvType::u8, 1, 1},
    {0x0008, "dest_telematics_id", TlvType::u16, 2, 2},
    {0x000D, "source_addr_subunit", TlvType::u8, 1, 1},
    {0x000E, "source_network_type", TlvType::u8, 1, 1},
    {0x000F, "source_bearer_type", TlvType::u8, 1, 1},
    {0x0010, "source_telematics_id", TlvType::u8, 1, 1},
    {0x0017, "qos_time_to_live", TlvType::u32, 4, 4},
    {0x0019, "payload_type", TlvType::u8, 1, 1},
    {0x001D, "additional_status_info_text", TlvType::cstring, 1, 256},
    {0x001E, "receipted_message_id", TlvType::cstring, 1, 65},
    {0x0030, "ms_msg_wait_facilities", TlvType::u8, 1, 1},
    {0x0201, "privacy_indicator", TlvType::u8, 1, 1},
    {0x0202, "source_subaddress", TlvType::octets, 2, 23},
    {0x0203, "dest_subaddress", TlvType::octets, 2, 23},
    {0x0204, "user_message_reference", TlvType::u16, 2, 2},
    {0x0205, "user_response_code", TlvType::u8, 1, 1},
    {0x020A, "source_port", TlvType::u16, 2, 2},
    {0x020B, "dest_port", TlvType::u16, 2, 2},
    {0x020C, "sar_msg_ref_num", TlvType::u16, 2, 2},
    {0x020D, "language_indicator", TlvType::u8, 1, 1},
    {0x020E, "sar_total_segments", TlvType::u8, 1, 1},
    {0x020F, "sar_segment_seqnum", TlvType::u8, 1, 1},
    {0x0210, "sc_interface_version", TlvType::u8, 1, 1},
    {0x0302, "callback_num_pres_ind", TlvType::u8, 1, 1},
    {0x0303, "callback_num_atag", TlvType::octets, 0, 65},
    {0x0304, "number_of_messages", TlvType::u8, 1, 1},
    {0x0381, "callback_num", TlvType::octets, 4, 19},
    {0x0420, "dpf_result", TlvType::u8, 1, 1},
    {0x0421, "set_dpf", TlvType::u8, 1, 1},
    {0x0422, "ms_availability_status", TlvType::u8, 1, 1},
    {0x0423, "network_error_code", TlvType::octets, 3, 3},
    {0x0424, "message_payload", TlvType::octets, 0, 65535},
    {0x0425, "delivery_failure_reason", TlvType::u8, 1, 1},
    {0x0426, "more_messages_to_send", TlvType::u8, 1, 1},
    {0x0427, "message_state", TlvType::u8, 1, 1},
    {0x0428, "congestion_state", TlvType::u8, 1, 1},
    {0x0501, "ussd_service_op", TlvType::u8, 1, 1},
    {0x0600, "broadcast_channel_indicator", TlvType::u8, 1, 1},
    {0x0601, "broadcast_content_type", TlvType::octets, 3, 3},
    {0x0602, "broadcast_content_type_info", TlvType::octets, 0, 255},
    {0x0603, "broadcast_message_class", TlvType::u8, 1, 1},
    {0x0604, "broadcast_rep_num", TlvType::u16, 2, 2},
    {0x0605, "broadcast_frequency_interval", TlvType::octets, 3, 3},
    {0x0606, "broadcast_area_identifier", TlvType::octets, 0, 100},
    {0x0607, "broadcast_error_status", TlvType::u32, 4, 4},
    {0x0608, "broadcast_area_success", TlvType::u8, 1, 1},
    {0x0609, "broadcast_end_time", TlvType::cstring, 1, 17},
    {0x060A, "broadcast_service_group", TlvType::octets, 0, 255},
    {0x060B, "billing_identification", TlvType::octets, 0, 1024},
    {0x060D, "source_network_id", TlvType::cstring, 1, 65},
    {0x060E, "dest_network_id", TlvType::cstring, 1, 65},
    {0x060F, "source_node_id", TlvType::octets, 6, 6},
    {0x0610, "dest_node_id", TlvType::octets, 6, 6},
    {0x0611, "dest_addr_np_resolution", TlvType::u8, 1, 1},
    {0x0612, "dest_addr_np_information", TlvType::octets, 10, 10},
    {0x0613, "dest_addr_np_country", TlvType::octets, 1, 5},
    {0x1201, "display_time", TlvType::u8, 1, 1},
    {0x1203, "sms_signal", TlvType::u16, 2, 2},
    {0x1204, "ms_validity", TlvType::octets, 1, 4},
    {0x130C, "alert_on_message_delivery", TlvType::octets, 0, 1},
    {0x1380, "its_reply_type", TlvType::u8, 1, 1},
    {0x1383, "its_session_info", TlvType::u16, 2, 2},
};
}  // namespace

const TlvInfo* tlv_info(uint16_t tag) {
  auto it = std::lower_bound(std::begin(kTlvs), std::end(kTlvs), tag,
                             [](const TlvInfo& i, uint16_t t) { return i.tag < t; });
  return (it != std::end(kTlvs) && it->tag == tag) ? it : nullptr;
}

uint32_t validate_tlvs(const TlvList& tlvs) {
  for (TlvView t : tlvs) {
    const TlvInfo* info = tlv_info(t.tag);
    if (!info) continue;
    if (t.value.size() < info->min_length || t.value.size() > info->max_length) {
      return status::ESME_RINVTLVLEN;
    }
    if (info->type == TlvType::cstring) {
      // The NUL must end the value and nothing before it may be NUL.
      if (t.value.back() != 0) return status::ESME_RINVTLVVAL;
      if (std::find(t.value.begin(), t.value.end() - 1, uint8_t{0}) != t.value.end() - 1) {
        return status::ESME_RINVTLVVAL;
      }
    }
  }
  return status::ESME_ROK;
}

// ---- TlvList ----

TlvView TlvList::iterator::operator*() const {
  const uint16_t len = read16(p_ + 2);
  return {read16(p_), std::span<const uint8_t>(p_ + 4, len)};
}

TlvList::iterator& TlvList::iterator::operator++() {
  p_ += 4 + read16(p_ + 2);
  if (p_ > end_) p_ = end_;
  return *this;
}

void TlvList::reserve(std::size_t n) {
  if (n <= capacity()) return;
  std::size_t cap = std::max(n, capacity() * 2);
  auto fresh = std::make_unique<uint8_t[]>(cap);
  if (size_) std::memcpy(fresh.get(), data(), size_);
  heap_ = std::move(fresh);
  heap_cap_ = cap;
}

void TlvList::take(TlvList&& o) noexcept {
  if (o.heap_) {
    heap_ = std::move(o.heap_);
    heap_cap_ = o.heap_cap_;
  } else {
    heap_.reset();
    heap_cap_ = 0;
    if (o.size_) std::memcpy(inline_, o.inline_, o.size_);
  }
  size_ = o.size_;
  o.size_ = 0;
  o.heap_cap_ = 0;
}

void TlvList::assign_bytes(std::span<const uint8_t> b) {
  size_ = 0;
  reserve(b.size());
  if (!b.empty()) std::memcpy(data(), b.data(), b.size());
  size_ = b.size();
}

std::size_t TlvList::count() const {
  std::size_t n = 0;
  for (auto it = begin(); it != end(); ++it) ++n;
  return n;
}

std::size_t TlvList::offset_of(uint16_t tag) const {
  const uint8_t* base = data();
  std::size_t off = 0;
  while (off + 4 <= size_) {
    if (read16(base + off) == tag) return off;
    off += 4 + read16(base + off + 2);
  }
  return npos;
}

std::optional<std::span<const uint8_t>> TlvList::find(uint16_t tag) const {
  const std::size_t off = offset_of(tag);
  if (off == npos) return std::nullopt;
  const uint8_t* p = data() + off;
  return std::span<const uint8_t>(p + 4, read16(p + 2));
}

void TlvList::append_raw(uint16_t tag, std::span<const uint8_t> value) {
  if (value.size() > 0xFFFF) throw std::length_error("TLV value longer than 65535 octets");
  reserve(size_ + 4 + value.size());
  uint8_t* p = data() + size_;
  p[0] = static_cast<uint8_t>(tag >> 8);
  p[1] = static_cast<uint8_t>(tag);
  p[2] = static_cast<uint8_t>(value.size() >> 8);
  p[3] = static_cast<uint8_t>(value.size());
  if (!value.empty()) std::memcpy(p + 4, value.data(), value.size());
  size_ += 4 + value.size();
}

void TlvList::set_raw(uint16_t tag, std::span<const uint8_t> value) {
  if (value.size() > 0xFFFF) throw std::length_error("TLV value longer than 65535 octets");
  const std::size_t off = offset_of(tag);
  if (off == npos) {
    append_raw(tag, value);
    return;
  }
  uint8_t* p = data() + off;
  const std::size_t old_len = read16(p + 2);
  if (old_len != value.size()) {
    const std::size_t new_size = size_ - old_len + value.size();
    reserve(new_size);
    p = data() + off;
    std::memmove(p + 4 + value.size(), p + 4 + old_len, size_ - off - 4 - old_len);
    p[2] = static_cast<uint8_t>(value.size() >> 8);
    p[3] = static_cast<uint8_t>(value.size());
    size_ = new_size;
  }
  if (!value.empty()) std::memcpy(p + 4, value.data(), value.size());
}

std::size_t TlvList::erase(uint16_t tag) {
  std::size_t removed = 0;
  std::size_t off;
  while ((off = offset_of(tag)) != npos) {
    uint8_t* p = data() + off;
    const std::size_t len = 4 + read16(p + 2);
    std::memmove(p, p + len, size_ - off - len);
    size_ -= len;
    ++removed;
  }
  return removed;
}

void TlvList::set(TlvKey<uint8_t> key, uint8_t v) {
  set_raw(key.tag, std::span(&v, 1));
}

void TlvList::set(TlvKey<uint16_t> key, uint16_t v) {
  const uint8_t b[2] = {static_cast<uint8_t>(v >> 8), static_cast<uint8_t>(v)};
  set_raw(key.tag, b);
}

void TlvList::set(TlvKey<uint32_t> key, uint32_t v) {
  const uint8_t b[4] = {static_cast<uint8_t>(v >> 24), static_cast<uint8_t>(v >> 16),
                        static_cast<uint8_t>(v >> 8), static_cast<uint8_t>(v)};
  set_raw(key.tag, b);
}

void TlvList::set(TlvKey<TlvCString> key, std::string_view v) {
  // Value with its NUL; small values are built on the stack.
  uint8_t small[128];
  std::unique_ptr<uint8_t[]> big;
  uint8_t* buf = small;
  if (v.size() + 1 > sizeof small) {
    big = std::make_unique<uint8_t[]>(v.size() + 1);
    buf = big.get();
  }
  std::memcpy(buf, v.data(), v.size());
  buf[v.size()] = 0;
  set_raw(key.tag, std::span<const uint8_t>(buf, v.size() + 1));
}

void TlvList::set(TlvKey<TlvOctets> key, std::span<const uint8_t> v) {
  set_raw(key.tag, v);
}

}  // namespace smpp
