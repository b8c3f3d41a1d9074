// The C++ side of the interoperability test with the npm package `smpp`
// (tests/interop/codec_interop.test.js).
//
//   smpp_codec_tool samples   one line per canonical PDU: "<name>\t<hex>\t<json>", where hex is
//                             our encoding and json the fields we meant to send (the in-memory
//                             Pdu, printed without going through the encoder or decoder)
//   smpp_codec_tool decode    reads hex PDUs from stdin, one per line, and prints one JSON object
//                             per line: {"command", "command_id", "status", "sequence", "fields"}
//                             or {"error": {"status", "action", "command_id", "sequence",
//                             "reason"}} with the command_status our decoder reports
//
// Field names are those of the specification (which the npm package uses too); C-Octet Strings
// are JSON strings, short_message is hex, TLVs are an object "0x<tag>" -> hex value (an array of
// hex values when a tag repeats), dest_address and unsuccess_sme are arrays of objects.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "smpp/codec.hpp"

namespace {

using namespace smpp;

constexpr char kHexDigits[] = "0123456789abcdef";

void append_hex(std::string& out, std::span<const uint8_t> bytes) {
  for (uint8_t b : bytes) {
    out += kHexDigits[b >> 4];
    out += kHexDigits[b & 0x0F];
  }
}

std::string to_hex(std::span<const uint8_t> bytes) {
  std::string s;
  append_hex(s, bytes);
  return s;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool from_hex(std::string_view text, std::vector<uint8_t>& out) {
  out.clear();
  if (text.size() % 2 != 0) return false;
  for (std::size_t i = 0; i < text.size(); i += 2) {
    const int hi = hex_value(text[i]);
    const int lo = hex_value(text[i + 1]);
    if (hi < 0 || lo < 0) return false;
    out.push_back(static_cast<uint8_t>(hi * 16 + lo));
  }
  return true;
}

// A JSON string; octets outside printable ASCII become \u00XX (read as Latin-1).
void append_json_string(std::string& out, std::string_view s) {
  out += '"';
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (u < 0x20 || u >= 0x7F) {
      out += "\\u00";
      out += kHexDigits[u >> 4];
      out += kHexDigits[u & 0x0F];
    } else {
      out += c;
    }
  }
  out += '"';
}

void append_tag(std::string& out, uint16_t tag) {
  out += "\"0x";
  for (int shift = 12; shift >= 0; shift -= 4) out += kHexDigits[(tag >> shift) & 0x0F];
  out += '"';
}

// Field names, in the order each body's fields() walks them.
template <class B>
std::span<const std::string_view> field_names() {
  if constexpr (std::is_base_of_v<BindFields, B>) {
    static constexpr std::string_view n[] = {"system_id",         "password", "system_type",
                                             "interface_version", "addr_ton", "addr_npi",
                                             "address_range"};
    return n;
  } else if constexpr (std::is_base_of_v<BindRespFields, B>) {
    static constexpr std::string_view n[] = {"system_id", "tlvs"};
    return n;
  } else if constexpr (std::is_same_v<B, Outbind>) {
    static constexpr std::string_view n[] = {"system_id", "password"};
    return n;
  } else if constexpr (std::is_base_of_v<SmFields, B>) {
    static constexpr std::string_view n[] = {"service_type",
                                             "source_addr_ton",
                                             "source_addr_npi",
                                             "source_addr",
                                             "dest_addr_ton",
                                             "dest_addr_npi",
                                             "destination_addr",
                                             "esm_class",
                                             "protocol_id",
                                             "priority_flag",
                                             "schedule_delivery_time",
                                             "validity_period",
                                             "registered_delivery",
                                             "replace_if_present_flag",
                                             "data_coding",
                                             "sm_default_msg_id",
                                             "short_message",
                                             "tlvs"};
    return n;
  } else if constexpr (std::is_base_of_v<MessageIdRespFields, B>) {
    static constexpr std::string_view n[] = {"message_id", "tlvs"};
    return n;
  } else if constexpr (std::is_same_v<B, DataSm>) {
    static constexpr std::string_view n[] = {"service_type",
                                             "source_addr_ton",
                                             "source_addr_npi",
                                             "source_addr",
                                             "dest_addr_ton",
                                             "dest_addr_npi",
                                             "destination_addr",
                                             "esm_class",
                                             "registered_delivery",
                                             "data_coding",
                                             "tlvs"};
    return n;
  } else if constexpr (std::is_same_v<B, SubmitMulti>) {
    static constexpr std::string_view n[] = {"service_type",
                                             "source_addr_ton",
                                             "source_addr_npi",
                                             "source_addr",
                                             "dest_address",
                                             "esm_class",
                                             "protocol_id",
                                             "priority_flag",
                                             "schedule_delivery_time",
                                             "validity_period",
                                             "registered_delivery",
                                             "replace_if_present_flag",
                                             "data_coding",
                                             "sm_default_msg_id",
                                             "short_message",
                                             "tlvs"};
    return n;
  } else if constexpr (std::is_same_v<B, SubmitMultiResp>) {
    static constexpr std::string_view n[] = {"message_id", "unsuccess_sme", "tlvs"};
    return n;
  } else if constexpr (std::is_same_v<B, QuerySm>) {
    static constexpr std::string_view n[] = {"message_id", "source_addr_ton", "source_addr_npi",
                                             "source_addr"};
    return n;
  } else if constexpr (std::is_same_v<B, QuerySmResp>) {
    static constexpr std::string_view n[] = {"message_id", "final_date", "message_state",
                                             "error_code"};
    return n;
  } else if constexpr (std::is_same_v<B, CancelSm>) {
    static constexpr std::string_view n[] = {
        "service_type", "message_id",    "source_addr_ton", "source_addr_npi",
        "source_addr",  "dest_addr_ton", "dest_addr_npi",   "destination_addr"};
    return n;
  } else if constexpr (std::is_same_v<B, ReplaceSm>) {
    static constexpr std::string_view n[] = {"message_id",
                                             "source_addr_ton",
                                             "source_addr_npi",
                                             "source_addr",
                                             "schedule_delivery_time",
                                             "validity_period",
                                             "registered_delivery",
                                             "sm_default_msg_id",
                                             "short_message",
                                             "tlvs"};
    return n;
  } else if constexpr (std::is_same_v<B, AlertNotification>) {
    static constexpr std::string_view n[] = {
        "source_addr_ton", "source_addr_npi", "source_addr", "esme_addr_ton",
        "esme_addr_npi",   "esme_addr",       "tlvs"};
    return n;
  } else if constexpr (std::is_same_v<B, BroadcastSm>) {
    static constexpr std::string_view n[] = {"service_type",
                                             "source_addr_ton",
                                             "source_addr_npi",
                                             "source_addr",
                                             "message_id",
                                             "priority_flag",
                                             "schedule_delivery_time",
                                             "validity_period",
                                             "replace_if_present_flag",
                                             "data_coding",
                                             "sm_default_msg_id",
                                             "tlvs"};
    return n;
  } else if constexpr (std::is_same_v<B, QueryBroadcastSm>) {
    static constexpr std::string_view n[] = {"message_id", "source_addr_ton", "source_addr_npi",
                                             "source_addr", "tlvs"};
    return n;
  } else if constexpr (std::is_same_v<B, CancelBroadcastSm>) {
    static constexpr std::string_view n[] = {"service_type",    "message_id",  "source_addr_ton",
                                             "source_addr_npi", "source_addr", "tlvs"};
    return n;
  } else if constexpr (std::is_same_v<B, ParamRetrieve>) {
    static constexpr std::string_view n[] = {"param_name"};
    return n;
  } else if constexpr (std::is_same_v<B, ParamRetrieveResp>) {
    static constexpr std::string_view n[] = {"param_value"};
    return n;
  } else if constexpr (std::is_same_v<B, QueryLastMsgs>) {
    static constexpr std::string_view n[] = {"source_addr_ton", "source_addr_npi", "source_addr",
                                             "num_messages"};
    return n;
  } else if constexpr (std::is_same_v<B, QueryLastMsgsResp>) {
    static constexpr std::string_view n[] = {"message_id"};
    return n;
  } else if constexpr (std::is_same_v<B, QueryMsgDetails>) {
    static constexpr std::string_view n[] = {"original_message_id", "source_addr_ton",
                                             "source_addr_npi", "source_addr", "sm_length"};
    return n;
  } else if constexpr (std::is_same_v<B, QueryMsgDetailsResp>) {
    static constexpr std::string_view n[] = {
        "service_type",    "source_addr_ton",     "source_addr_npi", "source_addr",
        "dest_address",    "protocol_id",         "priority_flag",   "schedule_delivery_time",
        "validity_period", "registered_delivery", "data_coding",     "short_message",
        "message_id",      "final_date",          "message_status",  "error_code"};
    return n;
  } else {
    return {};  // header-only PDUs; JsonFields aborts if a body with fields lands here
  }
}

// Walks a body's fields() like the encoder does and writes them as JSON members.
class JsonFields {
 public:
  JsonFields(std::string& out, std::span<const std::string_view> names)
      : out_(out), names_(names) {}

  void u8(uint8_t v) {
    key();
    out_ += std::to_string(v);
  }
  void u32(uint32_t v) {
    key();
    out_ += std::to_string(v);
  }
  template <std::size_t N>
  void cstr(const CStr<N>& s, uint32_t) {
    key();
    append_json_string(out_, s.view());
  }
  void short_message(const ShortMessage& m) {
    key();
    out_ += '"';
    append_hex(out_, m.bytes());
    out_ += '"';
  }
  void tlvs(const TlvList& list) {
    key();
    // Gather repeated tags so each appears once as a key.
    std::vector<uint16_t> tags;
    for (TlvView t : list) {
      if (std::find(tags.begin(), tags.end(), t.tag) == tags.end()) tags.push_back(t.tag);
    }
    out_ += '{';
    for (std::size_t i = 0; i < tags.size(); ++i) {
      if (i) out_ += ',';
      append_tag(out_, tags[i]);
      out_ += ':';
      std::vector<std::string> values;
      for (TlvView t : list) {
        if (t.tag == tags[i]) values.push_back('"' + to_hex(t.value) + '"');
      }
      if (values.size() == 1) {
        out_ += values[0];
      } else {
        out_ += '[';
        for (std::size_t j = 0; j < values.size(); ++j) out_ += (j ? "," : "") + values[j];
        out_ += ']';
      }
    }
    out_ += '}';
  }
  void destinations(const std::vector<DestAddress>& list) {
    key();
    out_ += '[';
    for (std::size_t i = 0; i < list.size(); ++i) {
      const DestAddress& d = list[i];
      if (i) out_ += ',';
      out_ += "{\"dest_flag\":" + std::to_string(d.dest_flag);
      if (d.dest_flag == DestAddress::kDistributionList) {
        out_ += ",\"dl_name\":";
      } else {
        out_ += ",\"dest_addr_ton\":" + std::to_string(d.dest_addr_ton) +
                ",\"dest_addr_npi\":" + std::to_string(d.dest_addr_npi) + ",\"destination_addr\":";
      }
      append_json_string(out_, d.address.view());
      out_ += '}';
    }
    out_ += ']';
  }
  void unsuccess_smes(const std::vector<UnsuccessSme>& list) {
    key();
    out_ += '[';
    for (std::size_t i = 0; i < list.size(); ++i) {
      const UnsuccessSme& u = list[i];
      if (i) out_ += ',';
      out_ += "{\"dest_addr_ton\":" + std::to_string(u.dest_addr_ton) +
              ",\"dest_addr_npi\":" + std::to_string(u.dest_addr_npi) + ",\"destination_addr\":";
      append_json_string(out_, u.destination_addr.view());
      out_ += ",\"error_status_code\":" + std::to_string(u.error_status_code) + '}';
    }
    out_ += ']';
  }
  void message_ids(const std::vector<ShortMessageId>& ids) {
    key();
    out_ += '[';
    for (std::size_t i = 0; i < ids.size(); ++i) {
      if (i) out_ += ',';
      append_json_string(out_, ids[i].view());
    }
    out_ += ']';
  }

  bool complete() const { return next_ == names_.size(); }

 private:
  void key() {
    if (next_ >= names_.size()) {
      std::fputs("smpp_codec_tool: field_names() is shorter than a body's fields()\n", stderr);
      std::abort();
    }
    if (next_) out_ += ',';
    append_json_string(out_, names_[next_++]);
    out_ += ':';
  }

  std::string& out_;
  std::span<const std::string_view> names_;
  std::size_t next_ = 0;
};

std::string pdu_json(const Pdu& pdu) {
  std::string out = "{\"command\":";
  append_json_string(out, command_name(pdu.command_id()));
  out += ",\"command_id\":" + std::to_string(static_cast<uint32_t>(pdu.command_id()));
  out += ",\"status\":" + std::to_string(pdu.command_status);
  out += ",\"sequence\":" + std::to_string(pdu.sequence_number);
  out += ",\"fields\":{";
  std::visit(
      [&out](const auto& body) {
        using B = std::decay_t<decltype(body)>;
        JsonFields j(out, field_names<B>());
        B::fields(j, body);
        if (!j.complete()) {
          std::fputs("smpp_codec_tool: field_names() is longer than a body's fields()\n", stderr);
          std::abort();
        }
      },
      pdu.body);
  out += "}}";
  return out;
}

std::string_view action_name(ErrorAction a) {
  switch (a) {
    case ErrorAction::respond:
      return "respond";
    case ErrorAction::generic_nack:
      return "generic_nack";
    case ErrorAction::nack_and_close:
      return "nack_and_close";
    case ErrorAction::bad_response:
      return "bad_response";
  }
  return "unknown";
}

std::string error_json(const DecodeError& e) {
  std::string out = "{\"error\":{\"status\":" + std::to_string(e.status);
  out += ",\"action\":";
  append_json_string(out, action_name(e.action));
  out += ",\"command_id\":" + std::to_string(e.command_id);
  out += ",\"sequence\":" + std::to_string(e.sequence_number);
  out += ",\"reason\":";
  append_json_string(out, e.reason);
  out += "}}";
  return out;
}

// ---- the canonical PDUs ----

struct Sample {
  std::string name;
  Pdu pdu;
};

std::span<const uint8_t> text_bytes(std::string_view s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

BindFields bind_fields(std::string_view system_id, uint8_t interface_version) {
  BindFields b;
  b.system_id = system_id;
  b.password = "secret";
  b.system_type = "VMS";
  b.interface_version = interface_version;
  b.addr_ton = 1;
  b.addr_npi = 1;
  b.address_range = "^4477";
  return b;
}

std::vector<Sample> canonical_samples() {
  std::vector<Sample> s;
  auto add = [&s](Pdu p) {
    s.push_back({std::string(command_name(p.command_id())), std::move(p)});
  };

  add(make_pdu(1, BindTransmitter{bind_fields("smppd-tx", 0x34)}));
  {
    BindTransmitterResp r;
    r.system_id = "SMSC";
    r.tlvs.set(tlv::sc_interface_version, uint8_t{0x34});
    add(make_pdu(1, r));
  }
  add(make_pdu(2, BindReceiver{bind_fields("smppd-rx", 0x50)}));
  {
    BindReceiverResp r;
    r.system_id = "SMSC";
    r.tlvs.set(tlv::sc_interface_version, uint8_t{0x50});
    add(make_pdu(2, r));
  }
  add(make_pdu(3, BindTransceiver{bind_fields("smppd-trx", 0x34)}));
  {
    BindTransceiverResp r;  // as a 3.3 SMSC answers: no sc_interface_version
    r.system_id = "SMSC";
    add(make_pdu(3, r));
  }
  {
    Outbind o;
    o.system_id = "SMSC";
    o.password = "pw";
    add(make_pdu(4, o));
  }
  add(make_pdu(5, Unbind{}));
  add(make_pdu(5, UnbindResp{}));
  {
    SubmitSm m;
    m.service_type = "CMT";
    m.source_addr_ton = 5;
    m.source_addr = "Sender";
    m.dest_addr_ton = 1;
    m.dest_addr_npi = 1;
    m.destination_addr = "447700900123";
    m.priority_flag = 1;
    m.validity_period = "000001000000000R";
    m.registered_delivery = 1;
    m.short_message = "Hello from smppd";
    m.tlvs.set(tlv::user_message_reference, uint16_t{42});
    m.tlvs.set(tlv::source_port, uint16_t{2948});
    m.tlvs.set(tlv::dest_port, uint16_t{2948});
    add(make_pdu(6, m));
  }
  {
    SubmitSmResp r;
    r.message_id = "5f3c2a1b-0001";
    add(make_pdu(6, r));
  }
  {
    DeliverSm d;  // a delivery receipt
    d.source_addr_ton = 1;
    d.source_addr_npi = 1;
    d.source_addr = "447700900123";
    d.dest_addr_ton = 5;
    d.destination_addr = "Sender";
    d.esm_class = esm_class::kDeliveryReceipt;
    d.short_message =
        "id:5f3c2a1b-0001 sub:001 dlvrd:001 submit date:2611271200 done date:2611271201 "
        "stat:DELIVRD err:000 text:Hello from smppd";
    d.tlvs.set(tlv::receipted_message_id, "5f3c2a1b-0001");
    d.tlvs.set(tlv::message_state, uint8_t{2});
    const uint8_t network_error[] = {0x03, 0x00, 0x00};
    d.tlvs.set(tlv::network_error_code, network_error);
    add(make_pdu(7, d));
  }
  add(make_pdu(7, DeliverSmResp{}));
  {
    DataSm d;
    d.source_addr_ton = 1;
    d.source_addr_npi = 1;
    d.source_addr = "447700900123";
    d.dest_addr_ton = 1;
    d.dest_addr_npi = 1;
    d.destination_addr = "447700900456";
    d.registered_delivery = 1;
    d.data_coding = 8;
    const uint8_t ucs2[] = {0x00, 0x48, 0x00, 0x69, 0x00, 0x20, 0x20, 0xAC};  // "Hi €"
    d.tlvs.set(tlv::message_payload, ucs2);
    d.tlvs.set(tlv::qos_time_to_live, uint32_t{3600});
    add(make_pdu(8, d));
  }
  {
    DataSmResp r;
    r.message_id = "ds-8";
    add(make_pdu(8, r));
  }
  {
    QuerySm q;
    q.message_id = "5f3c2a1b-0001";
    q.source_addr_ton = 5;
    q.source_addr = "Sender";
    add(make_pdu(9, q));
  }
  {
    QuerySmResp r;
    r.message_id = "5f3c2a1b-0001";
    r.final_date = "261127120100000+";
    r.message_state = 2;
    add(make_pdu(9, r));
  }
  {
    CancelSm c;
    c.message_id = "5f3c2a1b-0001";
    c.source_addr_ton = 5;
    c.source_addr = "Sender";
    c.dest_addr_ton = 1;
    c.dest_addr_npi = 1;
    c.destination_addr = "447700900123";
    add(make_pdu(10, c));
  }
  add(make_pdu(10, CancelSmResp{}));
  {
    ReplaceSm r;
    r.message_id = "5f3c2a1b-0001";
    r.source_addr_ton = 5;
    r.source_addr = "Sender";
    r.schedule_delivery_time = "261128090000004+";
    r.registered_delivery = 1;
    r.short_message = "Replaced text";
    add(make_pdu(11, r));
  }
  add(make_pdu(11, ReplaceSmResp{}));
  add(make_pdu(12, EnquireLink{}));
  add(make_pdu(12, EnquireLinkResp{}));
  add(make_pdu(13, GenericNack{}, status::ESME_RINVCMDID));
  {
    AlertNotification a;
    a.source_addr_ton = 1;
    a.source_addr_npi = 1;
    a.source_addr = "447700900123";
    a.esme_addr = "smppd";
    a.tlvs.set(tlv::ms_availability_status, uint8_t{0});
    add(make_pdu(14, a));
  }
  {
    SubmitMulti m;
    m.source_addr_ton = 5;
    m.source_addr = "Sender";
    m.destinations.push_back({DestAddress::kSmeAddress, 1, 1, "447700900123"});
    m.destinations.push_back({DestAddress::kSmeAddress, 1, 1, "447700900456"});
    m.destinations.push_back({DestAddress::kDistributionList, 0, 0, "friends"});
    m.registered_delivery = 1;
    m.short_message = "Hello all";
    add(make_pdu(15, m));
  }
  {
    SubmitMultiResp r;
    r.message_id = "sm-15";
    r.unsuccess_smes.push_back({1, 1, "447700900456", status::ESME_RINVDSTADR});
    add(make_pdu(15, r));
  }
  {
    BroadcastSm b;
    b.source_addr_ton = 5;
    b.source_addr = "Sender";
    std::vector<uint8_t> area{0x00};  // format 0: an area name
    for (uint8_t c : text_bytes("London")) area.push_back(c);
    b.tlvs.set(tlv::broadcast_area_identifier, area);
    const uint8_t content_type[] = {0x01, 0x00, 0x00};  // GSM, index
    b.tlvs.set(tlv::broadcast_content_type, content_type);
    b.tlvs.set(tlv::broadcast_rep_num, uint16_t{1});
    const uint8_t frequency[] = {0x09, 0x00, 0x0A};  // every 10 minutes
    b.tlvs.set(tlv::broadcast_frequency_interval, frequency);
    b.tlvs.set(tlv::message_payload, text_bytes("Road closed"));
    add(make_pdu(16, b));
  }
  {
    BroadcastSmResp r;
    r.message_id = "bc-16";
    add(make_pdu(16, r));
  }
  {
    QueryBroadcastSm q;
    q.message_id = "bc-16";
    q.source_addr_ton = 5;
    q.source_addr = "Sender";
    add(make_pdu(17, q));
  }
  {
    QueryBroadcastSmResp r;
    r.message_id = "bc-16";
    r.tlvs.set(tlv::message_state, uint8_t{1});
    std::vector<uint8_t> area{0x00};
    for (uint8_t c : text_bytes("London")) area.push_back(c);
    r.tlvs.set(tlv::broadcast_area_identifier, area);
    r.tlvs.set(tlv::broadcast_area_success, uint8_t{100});
    add(make_pdu(17, r));
  }
  {
    CancelBroadcastSm c;
    c.message_id = "bc-16";
    c.source_addr_ton = 5;
    c.source_addr = "Sender";
    add(make_pdu(18, c));
  }
  add(make_pdu(18, CancelBroadcastSmResp{}));
  return s;
}

int print_samples() {
  for (const Sample& s : canonical_samples()) {
    std::cout << s.name << '\t' << to_hex(encode(s.pdu)) << '\t' << pdu_json(s.pdu) << '\n';
  }
  return 0;
}

int decode_lines() {
  std::string line;
  std::vector<uint8_t> bytes;
  Pdu pdu;
  DecodeError error;
  while (std::getline(std::cin, line)) {
    const auto first = line.find_first_not_of(" \t\r");
    if (first == std::string::npos) continue;
    const auto last = line.find_last_not_of(" \t\r");
    if (!from_hex(std::string_view(line).substr(first, last - first + 1), bytes)) {
      std::cout << "{\"error\":{\"reason\":\"not hex\"}}\n";
      continue;
    }
    if (decode(bytes, pdu, error)) {
      std::cout << pdu_json(pdu) << '\n';
    } else {
      std::cout << error_json(error) << '\n';
    }
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string_view mode = argc == 2 ? argv[1] : "";
  if (mode == "samples") return print_samples();
  if (mode == "decode") return decode_lines();
  std::fputs("usage: smpp_codec_tool samples | decode  (decode reads hex PDUs from stdin)\n",
             stderr);
  return 2;
}
