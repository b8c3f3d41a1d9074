// Tagged optional parameters (TLVs). A TlvList keeps the TLVs of a PDU as their wire bytes, in
// the order they arrived, so unknown and vendor TLVs pass through a proxy byte-exact. Typed
// access goes through the TlvKey constants in smpp::tlv.
#pragma once

#include <cstdint>
#include <cstring>
#include <memory>
#include <optional>
#include <span>
#include <string_view>

namespace smpp {

// The kinds of TLV value.
struct TlvCString {};  // C-Octet String: on the wire with its NUL; read as text without it
struct TlvOctets {};   // Octet String: raw bytes

// A TLV tag together with the type of its value.
template <class Kind>
struct TlvKey {
  uint16_t tag;
};

namespace detail {
template <class Kind>
struct TlvValue {
  using type = Kind;
};
template <>
struct TlvValue<TlvCString> {
  using type = std::string_view;
};
template <>
struct TlvValue<TlvOctets> {
  using type = std::span<const uint8_t>;
};
}  // namespace detail
template <class Kind>
using TlvValueT = typename detail::TlvValue<Kind>::type;

// One TLV as stored: its tag and a view of its value bytes.
struct TlvView {
  uint16_t tag;
  std::span<const uint8_t> value;
};

class TlvList {
 public:
  TlvList() = default;
  TlvList(const TlvList& o) { assign_bytes(o.bytes()); }
  TlvList& operator=(const TlvList& o) {
    if (this != &o) assign_bytes(o.bytes());
    return *this;
  }
  TlvList(TlvList&& o) noexcept { take(std::move(o)); }
  TlvList& operator=(TlvList&& o) noexcept {
    if (this != &o) take(std::move(o));
    return *this;
  }

  bool empty() const { return size_ == 0; }
  void clear() { size_ = 0; }
  // The encoded TLVs, exactly as they go on the wire.
  std::span<const uint8_t> bytes() const { return {data(), size_}; }
  // Replaces the whole list with already-encoded TLV bytes (the decoder validates them first).
  void assign_bytes(std::span<const uint8_t> b);

  // Number of TLVs.
  std::size_t count() const;

  // The first TLV with this tag, if any.
  std::optional<std::span<const uint8_t>> find(uint16_t tag) const;
  bool contains(uint16_t tag) const { return find(tag).has_value(); }

  // Typed read. Empty when absent or when the stored value does not have the key's shape
  // (wrong length for an integer, a C-Octet String without its NUL).
  template <class Kind>
  std::optional<TlvValueT<Kind>> get(TlvKey<Kind> key) const;

  // Typed write: replaces the first TLV with this tag (keeping its position) or appends.
  void set(TlvKey<uint8_t> key, uint8_t v);
  void set(TlvKey<uint16_t> key, uint16_t v);
  void set(TlvKey<uint32_t> key, uint32_t v);
  void set(TlvKey<TlvCString> key, std::string_view v);
  void set(TlvKey<TlvOctets> key, std::span<const uint8_t> v);
  // Replaces the first TLV with this tag, or appends; raw value bytes.
  void set_raw(uint16_t tag, std::span<const uint8_t> value);
  // Appends a TLV even if one with the same tag exists (as some peers send them).
  void append_raw(uint16_t tag, std::span<const uint8_t> value);
  // Removes every TLV with this tag. Returns how many were removed.
  std::size_t erase(uint16_t tag);

  class iterator {
   public:
    iterator(const uint8_t* p, const uint8_t* end) : p_(p), end_(end) {}
    TlvView operator*() const;
    iterator& operator++();
    bool operator==(const iterator& o) const { return p_ == o.p_; }

   private:
    const uint8_t* p_;
    const uint8_t* end_;
  };
  iterator begin() const { return {data(), data() + size_}; }
  iterator end() const { return {data() + size_, data() + size_}; }

  friend bool operator==(const TlvList& a, const TlvList& b) {
    return a.size_ == b.size_ && (a.size_ == 0 || std::memcmp(a.data(), b.data(), a.size_) == 0);
  }

 private:
  static constexpr std::size_t kInline = 48;

  const uint8_t* data() const { return heap_ ? heap_.get() : inline_; }
  uint8_t* data() { return heap_ ? heap_.get() : inline_; }
  std::size_t capacity() const { return heap_ ? heap_cap_ : kInline; }
  void reserve(std::size_t n);
  // Offset of the first TLV with this tag, or npos.
  std::size_t offset_of(uint16_t tag) const;
  void take(TlvList&& o) noexcept;

  uint8_t inline_[kInline];
  std::unique_ptr<uint8_t[]> heap_;
  std::size_t heap_cap_ = 0;
  std::size_t size_ = 0;
};

// What the specification says about a standard TLV.
enum class TlvType : uint8_t { u8, u16, u32, cstring, octets };
struct TlvInfo {
  uint16_t tag;
  std::string_view name;
  TlvType type;
  uint16_t min_length;  // value length bounds, in octets (a cstring's include its NUL)
  uint16_t max_length;
};

// The standard TLV with this tag (3.4 and 5.0), or nullptr for unknown and vendor tags.
const TlvInfo* tlv_info(uint16_t tag);

// Checks every standard TLV's length and shape. ESME_ROK, ESME_RINVTLVLEN for a length outside
// the spec's bounds, or ESME_RINVTLVVAL for a C-Octet String without its NUL. Unknown tags pass.
uint32_t validate_tlvs(const TlvList& tlvs);

// The standard TLVs of SMPP 3.4 and 5.0.
namespace tlv {
inline constexpr TlvKey<uint8_t> dest_addr_subunit{0x0005};
inline constexpr TlvKey<uint8_t> dest_network_type{0x0006};
inline constexpr TlvKey<uint8_t> dest_bearer_type{0x0007};
inline constexpr TlvKey<uint16_t> dest_telematics_id{0x0008};
inline constexpr TlvKey<uint8_t> source_addr_subunit{0x000D};
inline constexpr TlvKey<uint8_t> source_network_type{0x000E};
inline constexpr TlvKey<uint8_t> source_bearer_type{0x000F};
inline constexpr TlvKey<uint8_t> source_telematics_id{0x0010};
inline constexpr TlvKey<uint32_t> qos_time_to_live{0x0017};
inline constexpr TlvKey<uint8_t> payload_type{0x0019};
inline constexpr TlvKey<TlvCString> additional_status_info_text{0x001D};
inline constexpr TlvKey<TlvCString> receipted_message_id{0x001E};
inline constexpr TlvKey<uint8_t> ms_msg_wait_facilities{0x0030};
inline constexpr TlvKey<uint8_t> privacy_indicator{0x0201};
inline constexpr TlvKey<TlvOctets> source_subaddress{0x0202};
inline constexpr TlvKey<TlvOctets> dest_subaddress{0x0203};
inline constexpr TlvKey<uint16_t> user_message_reference{0x0204};
inline constexpr TlvKey<uint8_t> user_response_code{0x0205};
inline constexpr TlvKey<uint16_t> source_port{0x020A};
inline constexpr TlvKey<uint16_t> dest_port{0x020B};
inline constexpr TlvKey<uint16_t> sar_msg_ref_num{0x020C};
inline constexpr TlvKey<uint8_t> language_indicator{0x020D};
inline constexpr TlvKey<uint8_t> sar_total_segments{0x020E};
inline constexpr TlvKey<uint8_t> sar_segment_seqnum{0x020F};
inline constexpr TlvKey<uint8_t> sc_interface_version{0x0210};
inline constexpr TlvKey<uint8_t> callback_num_pres_ind{0x0302};
inline constexpr TlvKey<TlvOctets> callback_num_atag{0x0303};
inline constexpr TlvKey<uint8_t> number_of_messages{0x0304};
inline constexpr TlvKey<TlvOctets> callback_num{0x0381};
inline constexpr TlvKey<uint8_t> dpf_result{0x0420};
inline constexpr TlvKey<uint8_t> set_dpf{0x0421};
inline constexpr TlvKey<uint8_t> ms_availability_status{0x0422};
inline constexpr TlvKey<TlvOctets> network_error_code{0x0423};
inline constexpr TlvKey<TlvOctets> message_payload{0x0424};
inline constexpr TlvKey<uint8_t> delivery_failure_reason{0x0425};
inline constexpr TlvKey<uint8_t> more_messages_to_send{0x0426};
inline constexpr TlvKey<uint8_t> message_state{0x0427};
inline constexpr TlvKey<uint8_t> congestion_state{0x0428};
inline constexpr TlvKey<uint8_t> ussd_service_op{0x0501};
inline constexpr TlvKey<uint8_t> broadcast_channel_indicator{0x0600};
inline constexpr TlvKey<TlvOctets> broadcast_content_type{0x0601};
inline constexpr TlvKey<TlvOctets> broadcast_content_type_info{0x0602};
inline constexpr TlvKey<uint8_t> broadcast_message_class{0x0603};
inline constexpr TlvKey<uint16_t> broadcast_rep_num{0x0604};
inline constexpr TlvKey<TlvOctets> broadcast_frequency_interval{0x0605};
inline constexpr TlvKey<TlvOctets> broadcast_area_identifier{0x0606};
inline constexpr TlvKey<uint32_t> broadcast_error_status{0x0607};
inline constexpr TlvKey<uint8_t> broadcast_area_success{0x0608};
inline constexpr TlvKey<TlvCString> broadcast_end_time{0x0609};
inline constexpr TlvKey<TlvOctets> broadcast_service_group{0x060A};
inline constexpr TlvKey<TlvOctets> billing_identification{0x060B};
inline constexpr TlvKey<TlvCString> source_network_id{0x060D};
inline constexpr TlvKey<TlvCString> dest_network_id{0x060E};
inline constexpr TlvKey<TlvOctets> source_node_id{0x060F};
inline constexpr TlvKey<TlvOctets> dest_node_id{0x0610};
inline constexpr TlvKey<uint8_t> dest_addr_np_resolution{0x0611};
inline constexpr TlvKey<TlvOctets> dest_addr_np_information{0x0612};
inline constexpr TlvKey<TlvOctets> dest_addr_np_country{0x0613};
inline constexpr TlvKey<uint8_t> display_time{0x1201};
inline constexpr TlvKey<uint16_t> sms_signal{0x1203};
inline constexpr TlvKey<TlvOctets> ms_validity{0x1204};
inline constexpr TlvKey<TlvOctets> alert_on_message_delivery{0x130C};
inline constexpr TlvKey<uint8_t> its_reply_type{0x1380};
inline constexpr TlvKey<uint16_t> its_session_info{0x1383};
}  // namespace tlv

// ---- template implementation ----

template <class Kind>
std::optional<TlvValueT<Kind>> TlvList::get(TlvKey<Kind> key) const {
  auto v = find(key.tag);
  if (!v) return std::nullopt;
  const std::span<const uint8_t> b = *v;
  if constexpr (std::is_same_v<Kind, uint8_t>) {
    if (b.size() != 1) return std::nullopt;
    return b[0];
  } else if constexpr (std::is_same_v<Kind, uint16_t>) {
    if (b.size() != 2) return std::nullopt;
    return static_cast<uint16_t>((b[0] << 8) | b[1]);
  } else if constexpr (std::is_same_v<Kind, uint32_t>) {
    if (b.size() != 4) return std::nullopt;
    return (uint32_t{b[0]} << 24) | (uint32_t{b[1]} << 16) | (uint32_t{b[2]} << 8) | b[3];
  } else if constexpr (std::is_same_v<Kind, TlvCString>) {
    // Lenient: accept a value without its NUL (some SMSCs send them so).
    std::size_t n = b.size();
    if (n > 0 && b[n - 1] == 0) --n;
    std::string_view s(reinterpret_cast<const char*>(b.data()), n);
    if (s.find('\0') != std::string_view::npos) return std::nullopt;
    return s;
  } else {
    return b;
  }
}

}  // namespace smpp
