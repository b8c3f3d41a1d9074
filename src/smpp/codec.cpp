#include "smpp/codec.hpp"

#include <algorithm>
#include <cstring>
#include <type_traits>

#include "smpp/time.hpp"

namespace smpp {

namespace {

uint32_t load32(const uint8_t* p) {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | p[3];
}

void store32(uint8_t* p, uint32_t v) {
  p[0] = static_cast<uint8_t>(v >> 24);
  p[1] = static_cast<uint8_t>(v >> 16);
  p[2] = static_cast<uint8_t>(v >> 8);
  p[3] = static_cast<uint8_t>(v);
}

// Reads fields from a PDU body. The first error sticks; later reads do nothing. With
// `lenient_end` (responses), running out of body is not an error: the remaining fields keep
// their defaults and a final C-Octet String may lack its NUL — SMSCs send error responses
// without a body and with truncated message ids.
class Reader {
 public:
  Reader(const uint8_t* p, const uint8_t* end, bool lenient_end)
      : p_(p), end_(end), lenient_end_(lenient_end) {}

  uint32_t error = status::ESME_ROK;
  std::string_view reason;

  bool ok() const { return error == status::ESME_ROK; }
  bool at_end() const { return p_ == end_; }

  void u8(uint8_t& v) {
    if (!ok()) return;
    if (p_ == end_) {
      if (!lenient_end_) fail(status::ESME_RINVCMDLEN, "PDU body ends inside a mandatory field");
      return;
    }
    v = *p_++;
  }

  void u32(uint32_t& v) {
    if (!ok()) return;
    if (end_ - p_ < 4) {
      if (!lenient_end_ || p_ != end_)
        fail(status::ESME_RINVCMDLEN, "PDU body ends inside a field");
      return;
    }
    v = load32(p_);
    p_ += 4;
  }

  template <std::size_t N>
  void cstr(CStr<N>& s, uint32_t bad_status) {
    if (!ok()) return;
    const std::size_t avail = static_cast<std::size_t>(end_ - p_);
    const std::size_t scan = std::min(avail, N);
    const auto* nul = static_cast<const uint8_t*>(std::memchr(p_, 0, scan));
    if (nul) {
      s.assign(
          std::string_view(reinterpret_cast<const char*>(p_), static_cast<std::size_t>(nul - p_)));
      p_ = nul + 1;
      return;
    }
    if (avail >= N) {
      fail(bad_status, "C-Octet String longer than the field allows");
      return;
    }
    if (lenient_end_) {
      // Missing NUL at the very end of a response body: take what is there.
      s.assign(std::string_view(reinterpret_cast<const char*>(p_), avail));
      p_ = end_;
      return;
    }
    fail(status::ESME_RINVCMDLEN, "PDU body ends inside a C-Octet String");
  }

  void short_message(ShortMessage& m) {
    if (!ok()) return;
    uint8_t len = 0;
    if (p_ == end_) {
      if (!lenient_end_) fail(status::ESME_RINVCMDLEN, "PDU body ends before sm_length");
      return;
    }
    len = *p_++;
    if (len > ShortMessage::kMaxLength) {
      fail(status::ESME_RINVMSGLEN, "sm_length above 254");
      return;
    }
    if (len > end_ - p_) {
      fail(status::ESME_RINVMSGLEN, "sm_length runs past the end of the PDU");
      return;
    }
    m.assign(std::span<const uint8_t>(p_, len));
    p_ += len;
  }

  void tlvs(TlvList& t) {
    if (!ok()) return;
    const uint8_t* q = p_;
    while (q != end_) {
      if (end_ - q < 4) {
        fail(status::ESME_RINVTLVSTREAM, "truncated TLV header");
        return;
      }
      const std::size_t len = (std::size_t{q[2]} << 8) | q[3];
      if (len > static_cast<std::size_t>(end_ - q - 4)) {
        fail(status::ESME_RINVTLVSTREAM, "TLV length runs past the end of the PDU");
        return;
      }
      q += 4 + len;
    }
    t.assign_bytes(std::span<const uint8_t>(p_, end_));
    p_ = end_;
  }

  void destinations(std::vector<DestAddress>& d) {
    if (!ok()) return;
    uint8_t count = 0;
    u8(count);
    d.clear();
    d.reserve(count);
    for (unsigned i = 0; i < count && ok(); ++i) {
      DestAddress a;
      u8(a.dest_flag);
      if (!ok()) return;
      if (a.dest_flag == DestAddress::kSmeAddress) {
        u8(a.dest_addr_ton);
        u8(a.dest_addr_npi);
        cstr(a.address, status::ESME_RINVDSTADR);
      } else if (a.dest_flag == DestAddress::kDistributionList) {
        cstr(a.address, status::ESME_RINVDLNAME);
      } else {
        fail(status::ESME_RINVDESTFLAG, "dest_flag is neither 1 (SME) nor 2 (distribution list)");
        return;
      }
      d.push_back(a);
    }
  }

  void unsuccess_smes(std::vector<UnsuccessSme>& u) {
    if (!ok()) return;
    uint8_t count = 0;
    u8(count);
    u.clear();
    u.reserve(count);
    for (unsigned i = 0; i < count && ok(); ++i) {
      UnsuccessSme s;
      u8(s.dest_addr_ton);
      u8(s.dest_addr_npi);
      cstr(s.destination_addr, status::ESME_RINVDSTADR);
      u32(s.error_status_code);
      u.push_back(s);
    }
  }

  void message_ids(std::vector<ShortMessageId>& ids) {
    if (!ok()) return;
    uint8_t count = 0;
    u8(count);
    ids.clear();
    ids.reserve(count);
    for (unsigned i = 0; i < count && ok(); ++i) {
      ShortMessageId id;
      cstr(id, status::ESME_RINVMSGID);
      ids.push_back(id);
    }
  }

 private:
  void fail(uint32_t st, std::string_view why) {
    error = st;
    reason = why;
  }

  const uint8_t* p_;
  const uint8_t* end_;
  bool lenient_end_;
};

// Counts the octets a body takes.
class Sizer {
 public:
  std::size_t n = 0;
  void u8(uint8_t) { n += 1; }
  void u32(uint32_t) { n += 4; }
  template <std::size_t N>
  void cstr(const CStr<N>& s, uint32_t) {
    n += s.size() + 1;
  }
  void short_message(const ShortMessage& m) { n += 1 + m.size(); }
  void tlvs(const TlvList& t) { n += t.bytes().size(); }
  void destinations(const std::vector<DestAddress>& d) {
    n += 1;
    for (std::size_t i = 0; i < std::min<std::size_t>(d.size(), 255); ++i) {
      n += d[i].dest_flag == DestAddress::kDistributionList ? 2 + d[i].address.size()
                                                            : 4 + d[i].address.size();
    }
  }
  void unsuccess_smes(const std::vector<UnsuccessSme>& u) {
    n += 1;
    for (std::size_t i = 0; i < std::min<std::size_t>(u.size(), 255); ++i) {
      n += 2 + u[i].destination_addr.size() + 1 + 4;
    }
  }
  void message_ids(const std::vector<ShortMessageId>& ids) {
    n += 1;
    for (std::size_t i = 0; i < std::min<std::size_t>(ids.size(), 255); ++i) {
      n += ids[i].size() + 1;
    }
  }
};

// Writes a body into space the Sizer measured.
class Writer {
 public:
  explicit Writer(uint8_t* p) : p_(p) {}
  uint8_t* pos() const { return p_; }

  void u8(uint8_t v) { *p_++ = v; }
  void u32(uint32_t v) {
    store32(p_, v);
    p_ += 4;
  }
  template <std::size_t N>
  void cstr(const CStr<N>& s, uint32_t) {
    bytes(s.view().data(), s.size());
    *p_++ = 0;
  }
  void short_message(const ShortMessage& m) {
    *p_++ = static_cast<uint8_t>(m.size());
    bytes(m.data(), m.size());
  }
  void tlvs(const TlvList& t) { bytes(t.bytes().data(), t.bytes().size()); }
  void destinations(const std::vector<DestAddress>& d) {
    const std::size_t n = std::min<std::size_t>(d.size(), 255);
    u8(static_cast<uint8_t>(n));
    for (std::size_t i = 0; i < n; ++i) {
      u8(d[i].dest_flag);
      if (d[i].dest_flag != DestAddress::kDistributionList) {
        u8(d[i].dest_addr_ton);
        u8(d[i].dest_addr_npi);
      }
      cstr(d[i].address, 0);
    }
  }
  void unsuccess_smes(const std::vector<UnsuccessSme>& u) {
    const std::size_t n = std::min<std::size_t>(u.size(), 255);
    u8(static_cast<uint8_t>(n));
    for (std::size_t i = 0; i < n; ++i) {
      u8(u[i].dest_addr_ton);
      u8(u[i].dest_addr_npi);
      cstr(u[i].destination_addr, 0);
      u32(u[i].error_status_code);
    }
  }
  void message_ids(const std::vector<ShortMessageId>& ids) {
    const std::size_t n = std::min<std::size_t>(ids.size(), 255);
    u8(static_cast<uint8_t>(n));
    for (std::size_t i = 0; i < n; ++i) cstr(ids[i], 0);
  }

 private:
  void bytes(const void* src, std::size_t n) {
    if (n) std::memcpy(p_, src, n);
    p_ += n;
  }
  uint8_t* p_;
};

// ---- semantic checks of a decoded request ----

struct Check {
  uint32_t status = status::ESME_ROK;
  std::string_view reason;
};

template <class B>
Check check_times(const B& b) {
  if (!valid_time_field(b.schedule_delivery_time.view())) {
    return {status::ESME_RINVSCHED, "schedule_delivery_time is not a valid SMPP time"};
  }
  if (!valid_time_field(b.validity_period.view())) {
    return {status::ESME_RINVEXPIRY, "validity_period is not a valid SMPP time"};
  }
  return {};
}

template <class B>
Check check_payload(const B& b) {
  if (!b.short_message.empty() && b.tlvs.contains(tlv::message_payload.tag)) {
    return {status::ESME_RINVMSGLEN, "both short_message and message_payload are set"};
  }
  return {};
}

template <class B>
Check validate_body(const B& b) {
  if constexpr (requires { b.tlvs; }) {
    if (const uint32_t st = validate_tlvs(b.tlvs); st != status::ESME_ROK) {
      return {st, "a standard TLV has an invalid length or value"};
    }
  }
  if constexpr (std::is_same_v<B, SubmitSm> || std::is_same_v<B, SubmitMulti> ||
                std::is_same_v<B, ReplaceSm> || std::is_same_v<B, BroadcastSm>) {
    if (Check c = check_times(b); c.status) return c;
  }
  if constexpr (std::is_same_v<B, SubmitSm> || std::is_same_v<B, DeliverSm> ||
                std::is_same_v<B, SubmitMulti> || std::is_same_v<B, ReplaceSm>) {
    if (Check c = check_payload(b); c.status) return c;
  }
  if constexpr (std::is_same_v<B, SubmitMulti>) {
    if (b.destinations.empty() || b.destinations.size() > SubmitMulti::kMaxDestinations) {
      return {status::ESME_RINVNUMDESTS, "number_of_dests must be 1..254"};
    }
  }
  if constexpr (std::is_same_v<B, BroadcastSm>) {
    for (uint16_t tag : {tlv::broadcast_area_identifier.tag, tlv::broadcast_content_type.tag,
                         tlv::broadcast_rep_num.tag, tlv::broadcast_frequency_interval.tag}) {
      if (!b.tlvs.contains(tag)) return {status::ESME_RMISSINGTLV, "a mandatory TLV is missing"};
    }
  }
  return {};
}

template <class B>
bool decode_as(const uint8_t* body, const uint8_t* end, Pdu& out, DecodeError& err,
               const DecodeOptions& options) {
  constexpr bool response = is_response(B::kId) || B::kId == CommandId::generic_nack;
  B& b = out.body.emplace<B>();
  Reader r(body, end, response);
  B::fields(r, b);
  if (r.ok() && !r.at_end() && !response) {
    r.error = status::ESME_RINVCMDLEN;
    r.reason = "octets left after the last field";
  }
  if (r.ok() && options.validate && !response) {
    const Check c = validate_body(b);
    r.error = c.status;
    r.reason = c.reason;
  }
  if (r.ok()) return true;
  if (response && out.command_status != status::ESME_ROK) {
    // An error response whose body is broken still answers its request: keep the header.
    out.body.emplace<B>();
    return true;
  }
  err.status = r.error;
  err.reason = r.reason;
  err.action =
      (response || !has_response(B::kId)) ? ErrorAction::bad_response : ErrorAction::respond;
  return false;
}

template <class B>
Pdu empty_response(uint32_t seq, uint32_t st) {
  return make_pdu(seq, B{}, st);
}

}  // namespace

Frame frame_at(std::span<const uint8_t> buffer, uint32_t max_pdu_size) {
  if (buffer.size() < 4) return {FrameState::need_more, 0, {}};
  const uint32_t len = load32(buffer.data());
  if (len < kHeaderSize || len > max_pdu_size) {
    DecodeError e;
    e.status = status::ESME_RINVCMDLEN;
    e.action = ErrorAction::nack_and_close;
    e.reason = len < kHeaderSize ? "command_length below 16" : "command_length above the maximum";
    if (buffer.size() >= 8) e.command_id = load32(buffer.data() + 4);
    if (buffer.size() >= 16) e.sequence_number = load32(buffer.data() + 12);
    return {FrameState::invalid, len, e};
  }
  if (buffer.size() < len) return {FrameState::need_more, len, {}};
  return {FrameState::complete, len, {}};
}

bool decode(std::span<const uint8_t> bytes, Pdu& out, DecodeError& err,
            const DecodeOptions& options) {
  err = DecodeError{};
  if (bytes.size() < kHeaderSize || load32(bytes.data()) != bytes.size()) {
    err.status = status::ESME_RINVCMDLEN;
    err.action = ErrorAction::nack_and_close;
    err.reason = "command_length does not match the PDU";
    if (bytes.size() >= 8) err.command_id = load32(bytes.data() + 4);
    if (bytes.size() >= 16) err.sequence_number = load32(bytes.data() + 12);
    return false;
  }
  const uint8_t* p = bytes.data();
  const uint8_t* end = p + bytes.size();
  const uint32_t id = load32(p + 4);
  err.command_id = id;
  err.sequence_number = load32(p + 12);
  out.command_status = load32(p + 8);
  out.sequence_number = err.sequence_number;
  const uint8_t* body = p + kHeaderSize;

  switch (static_cast<CommandId>(id)) {
#define SMPP_DECODE_CASE(T) \
  case T::kId:              \
    return decode_as<T>(body, end, out, err, options);
    SMPP_DECODE_CASE(GenericNack)
    SMPP_DECODE_CASE(BindTransmitter)
    SMPP_DECODE_CASE(BindTransmitterResp)
    SMPP_DECODE_CASE(BindReceiver)
    SMPP_DECODE_CASE(BindReceiverResp)
    SMPP_DECODE_CASE(BindTransceiver)
    SMPP_DECODE_CASE(BindTransceiverResp)
    SMPP_DECODE_CASE(Outbind)
    SMPP_DECODE_CASE(Unbind)
    SMPP_DECODE_CASE(UnbindResp)
    SMPP_DECODE_CASE(EnquireLink)
    SMPP_DECODE_CASE(EnquireLinkResp)
    SMPP_DECODE_CASE(SubmitSm)
    SMPP_DECODE_CASE(SubmitSmResp)
    SMPP_DECODE_CASE(DeliverSm)
    SMPP_DECODE_CASE(DeliverSmResp)
    SMPP_DECODE_CASE(DataSm)
    SMPP_DECODE_CASE(DataSmResp)
    SMPP_DECODE_CASE(SubmitMulti)
    SMPP_DECODE_CASE(SubmitMultiResp)
    SMPP_DECODE_CASE(QuerySm)
    SMPP_DECODE_CASE(QuerySmResp)
    SMPP_DECODE_CASE(CancelSm)
    SMPP_DECODE_CASE(CancelSmResp)
    SMPP_DECODE_CASE(ReplaceSm)
    SMPP_DECODE_CASE(ReplaceSmResp)
    SMPP_DECODE_CASE(AlertNotification)
    SMPP_DECODE_CASE(BroadcastSm)
    SMPP_DECODE_CASE(BroadcastSmResp)
    SMPP_DECODE_CASE(QueryBroadcastSm)
    SMPP_DECODE_CASE(QueryBroadcastSmResp)
    SMPP_DECODE_CASE(CancelBroadcastSm)
    SMPP_DECODE_CASE(CancelBroadcastSmResp)
    SMPP_DECODE_CASE(ParamRetrieve)
    SMPP_DECODE_CASE(ParamRetrieveResp)
    SMPP_DECODE_CASE(QueryLastMsgs)
    SMPP_DECODE_CASE(QueryLastMsgsResp)
    SMPP_DECODE_CASE(QueryMsgDetails)
    SMPP_DECODE_CASE(QueryMsgDetailsResp)
#undef SMPP_DECODE_CASE
  }
  err.status = status::ESME_RINVCMDID;
  err.reason = "unknown command_id";
  // Every unrecognised command_id gets generic_nack (3.4 §2.9, 5.0 §2.8.3).
  err.action = ErrorAction::generic_nack;
  return false;
}

std::size_t encoded_size(const Pdu& pdu) {
  return std::visit(
      [](const auto& b) {
        Sizer s;
        std::decay_t<decltype(b)>::fields(s, b);
        return kHeaderSize + s.n;
      },
      pdu.body);
}

std::size_t encode(const Pdu& pdu, std::span<uint8_t> out) {
  const std::size_t size = encoded_size(pdu);
  if (out.size() < size) return 0;
  uint8_t* p = out.data();
  store32(p, static_cast<uint32_t>(size));
  store32(p + 4, static_cast<uint32_t>(pdu.command_id()));
  store32(p + 8, pdu.command_status);
  store32(p + 12, pdu.sequence_number);
  std::visit(
      [p](const auto& b) {
        Writer w(p + kHeaderSize);
        std::decay_t<decltype(b)>::fields(w, b);
      },
      pdu.body);
  return size;
}

std::size_t encode(const Pdu& pdu, std::vector<uint8_t>& out) {
  const std::size_t at = out.size();
  const std::size_t size = encoded_size(pdu);
  out.resize(at + size);
  return encode(pdu, std::span<uint8_t>(out.data() + at, size));
}

std::vector<uint8_t> encode(const Pdu& pdu) {
  std::vector<uint8_t> out;
  encode(pdu, out);
  return out;
}

Pdu make_response(CommandId request, uint32_t seq, uint32_t st) {
  switch (request) {
    case CommandId::bind_transmitter:
      return empty_response<BindTransmitterResp>(seq, st);
    case CommandId::bind_receiver:
      return empty_response<BindReceiverResp>(seq, st);
    case CommandId::bind_transceiver:
      return empty_response<BindTransceiverResp>(seq, st);
    case CommandId::unbind:
      return empty_response<UnbindResp>(seq, st);
    case CommandId::enquire_link:
      return empty_response<EnquireLinkResp>(seq, st);
    case CommandId::submit_sm:
      return empty_response<SubmitSmResp>(seq, st);
    case CommandId::deliver_sm:
      return empty_response<DeliverSmResp>(seq, st);
    case CommandId::data_sm:
      return empty_response<DataSmResp>(seq, st);
    case CommandId::submit_multi:
      return empty_response<SubmitMultiResp>(seq, st);
    case CommandId::query_sm:
      return empty_response<QuerySmResp>(seq, st);
    case CommandId::cancel_sm:
      return empty_response<CancelSmResp>(seq, st);
    case CommandId::replace_sm:
      return empty_response<ReplaceSmResp>(seq, st);
    case CommandId::broadcast_sm:
      return empty_response<BroadcastSmResp>(seq, st);
    case CommandId::query_broadcast_sm:
      return empty_response<QueryBroadcastSmResp>(seq, st);
    case CommandId::cancel_broadcast_sm:
      return empty_response<CancelBroadcastSmResp>(seq, st);
    case CommandId::param_retrieve:
      return empty_response<ParamRetrieveResp>(seq, st);
    case CommandId::query_last_msgs:
      return empty_response<QueryLastMsgsResp>(seq, st);
    case CommandId::query_msg_details:
      return empty_response<QueryMsgDetailsResp>(seq, st);
    default:
      return empty_response<GenericNack>(seq, st);
  }
}

Pdu error_response(const DecodeError& e) {
  if (e.action == ErrorAction::respond) {
    return make_response(static_cast<CommandId>(e.command_id), e.sequence_number, e.status);
  }
  return make_pdu(e.sequence_number, GenericNack{}, e.status);
}

// ---- StreamDecoder ----

void StreamDecoder::feed(std::span<const uint8_t> bytes) {
  if (dead_ || bytes.empty()) return;
  if (pos_ > 0 && pos_ == buf_.size()) {
    buf_.clear();
    pos_ = 0;
  } else if (pos_ > 4096 && pos_ * 2 > buf_.size()) {
    buf_.erase(buf_.begin(), buf_.begin() + static_cast<std::ptrdiff_t>(pos_));
    pos_ = 0;
  }
  buf_.insert(buf_.end(), bytes.begin(), bytes.end());
}

StreamDecoder::Event StreamDecoder::next(Pdu& out, DecodeError& error) {
  if (dead_) {
    error = fatal_;
    return Event::error;
  }
  const std::span<const uint8_t> avail(buf_.data() + pos_, buf_.size() - pos_);
  const Frame f = frame_at(avail, options_.max_pdu_size);
  switch (f.state) {
    case FrameState::need_more:
      return Event::need_more;
    case FrameState::invalid:
      dead_ = true;
      fatal_ = f.error;
      buf_.clear();
      buf_.shrink_to_fit();
      pos_ = 0;
      error = fatal_;
      return Event::error;
    case FrameState::complete:
      break;
  }
  const bool ok = decode(avail.first(f.length), out, error, options_);
  pos_ += f.length;
  return ok ? Event::pdu : Event::error;
}

}  // namespace smpp
