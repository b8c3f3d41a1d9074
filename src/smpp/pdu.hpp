// Every PDU of SMPP 3.3, 3.4 and 5.0 as a typed value, with its wire layout beside its fields.
//
// Each body type has `kId` (its command_id) and `fields(io, self)`, the one description of its
// layout that both the decoder and the encoder walk, so the two are exact inverses. The `io`
// calls name the command_status a bad value of that field earns (3.4 Table 5-2).
#pragma once

#include <cstdint>
#include <variant>
#include <vector>

#include "smpp/command.hpp"
#include "smpp/status.hpp"
#include "smpp/tlv.hpp"
#include "smpp/types.hpp"

namespace smpp {

using Address = CStr<21>;      // source_addr / destination_addr of submit_sm, deliver_sm, ...
using LongAddress = CStr<65>;  // data_sm and alert_notification addresses
using MessageId = CStr<65>;
using TimeField = CStr<17>;
using ServiceType = CStr<6>;

namespace esm_class {
inline constexpr uint8_t kMessageModeMask = 0x03;
inline constexpr uint8_t kMessageTypeMask = 0x3C;
inline constexpr uint8_t kDeliveryReceipt = 0x04;
inline constexpr uint8_t kDeliveryAck = 0x08;
inline constexpr uint8_t kUserAck = 0x10;
inline constexpr uint8_t kConversationAbort = 0x18;
inline constexpr uint8_t kIntermediateNotification = 0x20;
inline constexpr uint8_t kUdhi = 0x40;
inline constexpr uint8_t kReplyPath = 0x80;
}  // namespace esm_class

// ---- session management ----

struct GenericNack {
  static constexpr CommandId kId = CommandId::generic_nack;
  template <class Io, class Self>
  static void fields(Io&, Self&) {}
  friend bool operator==(const GenericNack&, const GenericNack&) = default;
};

struct BindFields {
  CStr<16> system_id;
  CStr<9> password;
  CStr<13> system_type;
  uint8_t interface_version = 0x34;
  uint8_t addr_ton = 0;
  uint8_t addr_npi = 0;
  CStr<41> address_range;

  template <class Io, class Self>
  static void fields(Io& io, Self& s) {
    io.cstr(s.system_id, status::ESME_RINVSYSID);
    io.cstr(s.password, status::ESME_RINVPASWD);
    io.cstr(s.system_type, status::ESME_RINVSYSTYP);
    io.u8(s.interface_version);
    io.u8(s.addr_ton);
    io.u8(s.addr_npi);
    io.cstr(s.address_range, status::ESME_RBINDFAIL);
  }
  friend bool operator==(const BindFields&, const BindFields&) = default;
};
struct BindTransmitter : BindFields {
  static constexpr CommandId kId = CommandId::bind_transmitter;
};
struct BindReceiver : BindFields {
  static constexpr CommandId kId = CommandId::bind_receiver;
};
struct BindTransceiver : BindFields {
  static constexpr CommandId kId = CommandId::bind_transceiver;
};

struct BindRespFields {
  CStr<16> system_id;
  TlvList tlvs;  // sc_interface_version

  template <class Io, class Self>
  static void fields(Io& io, Self& s) {
    io.cstr(s.system_id, status::ESME_RINVSYSID);
    io.tlvs(s.tlvs);
  }
  friend bool operator==(const BindRespFields&, const BindRespFields&) = default;
};
struct BindTransmitterResp : BindRespFields {
  static constexpr CommandId kId = CommandId::bind_transmitter_resp;
};
struct BindReceiverResp : BindRespFields {
  static constexpr CommandId kId = CommandId::bind_receiver_resp;
};
struct BindTransceiverResp : BindRespFields {
  static constexpr CommandId kId = CommandId::bind_transceiver_resp;
};

struct Outbind {
  static constexpr CommandId kId = CommandId::outbind;
  CStr<16> system_id;
  CStr<9> password;
  template <class Io, class Self>
  static void fields(Io& io, Self& s) {
    io.cstr(s.system_id, status::ESME_RINVSYSID);
    io.cstr(s.password, status::ESME_RINVPASWD);
  }
  friend bool operator==(const Outbind&, const Outbind&) = default;
};

// PDUs that are a header only.
template <CommandId Id>
struct EmptyBody {
  static constexpr CommandId kId = Id;
  template <class Io, class Self>
  static void fields(Io&, Self&) {}
  friend bool operator==(const EmptyBody&, const EmptyBody&) = default;
};
using Unbind = EmptyBody<CommandId::unbind>;
using UnbindResp = EmptyBody<CommandId::unbind_resp>;
using EnquireLink = EmptyBody<CommandId::enquire_link>;
using EnquireLinkResp = EmptyBody<CommandId::enquire_link_resp>;
using CancelSmResp = EmptyBody<CommandId::cancel_sm_resp>;
using ReplaceSmResp = EmptyBody<CommandId::replace_sm_resp>;
using CancelBroadcastSmResp = EmptyBody<CommandId::cancel_broadcast_sm_resp>;

// ---- messages ----

// submit_sm and deliver_sm share their layout (3.4 §4.4.1, §4.6.1).
struct SmFields {
  ServiceType service_type;
  uint8_t source_addr_ton = 0;
  uint8_t source_addr_npi = 0;
  Address source_addr;
  uint8_t dest_addr_ton = 0;
  uint8_t dest_addr_npi = 0;
  Address destination_addr;
  uint8_t esm_class = 0;
  uint8_t protocol_id = 0;
  uint8_t priority_flag = 0;
  TimeField schedule_delivery_time;
  TimeField validity_period;
  uint8_t registered_delivery = 0;
  uint8_t replace_if_present_flag = 0;
  uint8_t data_coding = 0;
  uint8_t sm_default_msg_id = 0;
  ShortMessage short_message;
  TlvList tlvs;

  template <class Io, class Self>
  static void fields(Io& io, Self& s) {
    io.cstr(s.service_type, status::ESME_RINVSERTYP);
    io.u8(s.source_addr_ton);
    io.u8(s.source_addr_npi);
    io.cstr(s.source_addr, status::ESME_RINVSRCADR);
    io.u8(s.dest_addr_ton);
    io.u8(s.dest_addr_npi);
    io.cstr(s.destination_addr, status::ESME_RINVDSTADR);
    io.u8(s.esm_class);
    io.u8(s.protocol_id);
    io.u8(s.priority_flag);
    io.cstr(s.schedule_delivery_time, status::ESME_RINVSCHED);
    io.cstr(s.validity_period, status::ESME_RINVEXPIRY);
    io.u8(s.registered_delivery);
    io.u8(s.replace_if_present_flag);
    io.u8(s.data_coding);
    io.u8(s.sm_default_msg_id);
    io.short_message(s.short_message);
    io.tlvs(s.tlvs);
  }
  friend bool operator==(const SmFields&, const SmFields&) = default;
};
struct SubmitSm : SmFields {
  static constexpr CommandId kId = CommandId::submit_sm;
};
struct DeliverSm : SmFields {
  static constexpr CommandId kId = CommandId::deliver_sm;
};

// Responses made of a message_id and (5.0) TLVs.
struct MessageIdRespFields {
  MessageId message_id;
  TlvList tlvs;
  template <class Io, class Self>
  static void fields(Io& io, Self& s) {
    io.cstr(s.message_id, status::ESME_RINVMSGID);
    io.tlvs(s.tlvs);
  }
  friend bool operator==(const MessageIdRespFields&, const MessageIdRespFields&) = default;
};
struct SubmitSmResp : MessageIdRespFields {
  static constexpr CommandId kId = CommandId::submit_sm_resp;
};
struct DeliverSmResp : MessageIdRespFields {
  static constexpr CommandId kId = CommandId::deliver_sm_resp;
};
struct DataSmResp : MessageIdRespFields {
  static constexpr CommandId kId = CommandId::data_sm_resp;
};
struct BroadcastSmResp : MessageIdRespFields {
  static constexpr CommandId kId = CommandId::broadcast_sm_resp;
};
struct QueryBroadcastSmResp : MessageIdRespFields {
  static constexpr CommandId kId = CommandId::query_broadcast_sm_resp;
};

struct DataSm {
  static constexpr CommandId kId = CommandId::data_sm;
  ServiceType service_type;
  uint8_t source_addr_ton = 0;
  uint8_t source_addr_npi = 0;
  LongAddress source_addr;
  uint8_t dest_addr_ton = 0;
  uint8_t dest_addr_npi = 0;
  LongAddress destination_addr;
  uint8_t esm_class = 0;
  uint8_t registered_delivery = 0;
  uint8_t data_coding = 0;
  TlvList tlvs;

  template <class Io, class Self>
  static void fields(Io& io, Self& s) {
    io.cstr(s.service_type, status::ESME_RINVSERTYP);
    io.u8(s.source_addr_ton);
    io.u8(s.source_addr_npi);
    io.cstr(s.source_addr, status::ESME_RINVSRCADR);
    io.u8(s.dest_addr_ton);
    io.u8(s.dest_addr_npi);
    io.cstr(s.destination_addr, status::ESME_RINVDSTADR);
    io.u8(s.esm_class);
    io.u8(s.registered_delivery);
    io.u8(s.data_coding);
    io.tlvs(s.tlvs);
  }
  friend bool operator==(const DataSm&, const DataSm&) = default;
};

// One destination of submit_multi (and of 3.3 query_msg_details_resp): an SME address or the
// name of a distribution list.
struct DestAddress {
  enum Flag : uint8_t { kSmeAddress = 1, kDistributionList = 2 };
  uint8_t dest_flag = kSmeAddress;
  uint8_t dest_addr_ton = 0;  // SME address only
  uint8_t dest_addr_npi = 0;  // SME address only
  Address address;            // destination_addr, or dl_name (also at most 21 octets)
  friend bool operator==(const DestAddress&, const DestAddress&) = default;
};

struct UnsuccessSme {
  uint8_t dest_addr_ton = 0;
  uint8_t dest_addr_npi = 0;
  Address destination_addr;
  uint32_t error_status_code = 0;
  friend bool operator==(const UnsuccessSme&, const UnsuccessSme&) = default;
};

struct SubmitMulti {
  static constexpr CommandId kId = CommandId::submit_multi;
  static constexpr std::size_t kMaxDestinations = 254;
  ServiceType service_type;
  uint8_t source_addr_ton = 0;
  uint8_t source_addr_npi = 0;
  Address source_addr;
  std::vector<DestAddress> destinations;  // 1..254
  uint8_t esm_class = 0;
  uint8_t protocol_id = 0;
  uint8_t priority_flag = 0;
  TimeField schedule_delivery_time;
  TimeField validity_period;
  uint8_t registered_delivery = 0;
  uint8_t replace_if_present_flag = 0;
  uint8_t data_coding = 0;
  uint8_t sm_default_msg_id = 0;
  ShortMessage short_message;
  TlvList tlvs;

  template <class Io, class Self>
  static void fields(Io& io, Self& s) {
    io.cstr(s.service_type, status::ESME_RINVSERTYP);
    io.u8(s.source_addr_ton);
    io.u8(s.source_addr_npi);
    io.cstr(s.source_addr, status::ESME_RINVSRCADR);
    io.destinations(s.destinations);
    io.u8(s.esm_class);
    io.u8(s.protocol_id);
    io.u8(s.priority_flag);
    io.cstr(s.schedule_delivery_time, status::ESME_RINVSCHED);
    io.cstr(s.validity_period, status::ESME_RINVEXPIRY);
    io.u8(s.registered_delivery);
    io.u8(s.replace_if_present_flag);
    io.u8(s.data_coding);
    io.u8(s.sm_default_msg_id);
    io.short_message(s.short_message);
    io.tlvs(s.tlvs);
  }
  friend bool operator==(const SubmitMulti&, const SubmitMulti&) = default;
};

struct SubmitMultiResp {
  static constexpr CommandId kId = CommandId::submit_multi_resp;
  MessageId message_id;
  std::vector<UnsuccessSme> unsuccess_smes;
  TlvList tlvs;
  template <class Io, class Self>
  static void fields(Io& io, Self& s) {
    io.cstr(s.message_id, status::ESME_RINVMSGID);
    io.unsuccess_smes(s.unsuccess_smes);
    io.tlvs(s.tlvs);
  }
  friend bool operator==(const SubmitMultiResp&, const SubmitMultiResp&) = default;
};

struct QuerySm {
  static constexpr CommandId kId = CommandId::query_sm;
  MessageId message_id;
  uint8_t source_addr_ton = 0;
  uint8_t source_addr_npi = 0;
  Address source_addr;
  template <class Io, class Self>
  static void fields(Io& io, Self& s) {
    io.cstr(s.message_id, status::ESME_RINVMSGID);
    io.u8(s.source_addr_ton);
    io.u8(s.source_addr_npi);
    io.cstr(s.source_addr, status::ESME_RINVSRCADR);
  }
  friend bool operator==(const QuerySm&, const QuerySm&) = default;
};

struct QuerySmResp {
  static constexpr CommandId kId = CommandId::query_sm_resp;
  MessageId message_id;
  TimeField final_date;
  uint8_t message_state = 0;
  uint8_t error_code = 0;
  template <class Io, class Self>
  static void fields(Io& io, Self& s) {
    io.cstr(s.message_id, status::ESME_RINVMSGID);
    io.cstr(s.final_date, status::ESME_RINVPARLEN);
    io.u8(s.message_state);
    io.u8(s.error_code);
  }
  friend bool operator==(const QuerySmResp&, const QuerySmResp&) = default;
};

struct CancelSm {
  static constexpr CommandId kId = CommandId::cancel_sm;
  ServiceType service_type;
  MessageId message_id;
  uint8_t source_addr_ton = 0;
  uint8_t source_addr_npi = 0;
  Address source_addr;
  uint8_t dest_addr_ton = 0;
  uint8_t dest_addr_npi = 0;
  Address destination_addr;
  template <class Io, class Self>
  static void fields(Io& io, Self& s) {
    io.cstr(s.service_type, status::ESME_RINVSERTYP);
    io.cstr(s.message_id, status::ESME_RINVMSGID);
    io.u8(s.source_addr_ton);
    io.u8(s.source_addr_npi);
    io.cstr(s.source_addr, status::ESME_RINVSRCADR);
    io.u8(s.dest_addr_ton);
    io.u8(s.dest_addr_npi);
    io.cstr(s.destination_addr, status::ESME_RINVDSTADR);
  }
  friend bool operator==(const CancelSm&, const CancelSm&) = default;
};

struct ReplaceSm {
  static constexpr CommandId kId = CommandId::replace_sm;
  MessageId message_id;
  uint8_t source_addr_ton = 0;
  uint8_t source_addr_npi = 0;
  Address source_addr;
  TimeField schedule_delivery_time;
  TimeField validity_period;
  uint8_t registered_delivery = 0;
  uint8_t sm_default_msg_id = 0;
  ShortMessage short_message;
  TlvList tlvs;  // 5.0: message_payload
  template <class Io, class Self>
  static void fields(Io& io, Self& s) {
    io.cstr(s.message_id, status::ESME_RINVMSGID);
    io.u8(s.source_addr_ton);
    io.u8(s.source_addr_npi);
    io.cstr(s.source_addr, status::ESME_RINVSRCADR);
    io.cstr(s.schedule_delivery_time, status::ESME_RINVSCHED);
    io.cstr(s.validity_period, status::ESME_RINVEXPIRY);
    io.u8(s.registered_delivery);
    io.u8(s.sm_default_msg_id);
    io.short_message(s.short_message);
    io.tlvs(s.tlvs);
  }
  friend bool operator==(const ReplaceSm&, const ReplaceSm&) = default;
};

struct AlertNotification {
  static constexpr CommandId kId = CommandId::alert_notification;
  uint8_t source_addr_ton = 0;
  uint8_t source_addr_npi = 0;
  LongAddress source_addr;
  uint8_t esme_addr_ton = 0;
  uint8_t esme_addr_npi = 0;
  LongAddress esme_addr;
  TlvList tlvs;  // ms_availability_status
  template <class Io, class Self>
  static void fields(Io& io, Self& s) {
    io.u8(s.source_addr_ton);
    io.u8(s.source_addr_npi);
    io.cstr(s.source_addr, status::ESME_RINVSRCADR);
    io.u8(s.esme_addr_ton);
    io.u8(s.esme_addr_npi);
    io.cstr(s.esme_addr, status::ESME_RINVDSTADR);
    io.tlvs(s.tlvs);
  }
  friend bool operator==(const AlertNotification&, const AlertNotification&) = default;
};

// ---- SMPP 5.0 broadcast ----

struct BroadcastSm {
  static constexpr CommandId kId = CommandId::broadcast_sm;
  ServiceType service_type;
  uint8_t source_addr_ton = 0;
  uint8_t source_addr_npi = 0;
  Address source_addr;
  MessageId message_id;
  uint8_t priority_flag = 0;
  TimeField schedule_delivery_time;
  TimeField validity_period;
  uint8_t replace_if_present_flag = 0;
  uint8_t data_coding = 0;
  uint8_t sm_default_msg_id = 0;
  // Mandatory TLVs: broadcast_area_identifier, broadcast_content_type, broadcast_rep_num,
  // broadcast_frequency_interval.
  TlvList tlvs;
  template <class Io, class Self>
  static void fields(Io& io, Self& s) {
    io.cstr(s.service_type, status::ESME_RINVSERTYP);
    io.u8(s.source_addr_ton);
    io.u8(s.source_addr_npi);
    io.cstr(s.source_addr, status::ESME_RINVSRCADR);
    io.cstr(s.message_id, status::ESME_RINVMSGID);
    io.u8(s.priority_flag);
    io.cstr(s.schedule_delivery_time, status::ESME_RINVSCHED);
    io.cstr(s.validity_period, status::ESME_RINVEXPIRY);
    io.u8(s.replace_if_present_flag);
    io.u8(s.data_coding);
    io.u8(s.sm_default_msg_id);
    io.tlvs(s.tlvs);
  }
  friend bool operator==(const BroadcastSm&, const BroadcastSm&) = default;
};

struct QueryBroadcastSm {
  static constexpr CommandId kId = CommandId::query_broadcast_sm;
  MessageId message_id;
  uint8_t source_addr_ton = 0;
  uint8_t source_addr_npi = 0;
  Address source_addr;
  TlvList tlvs;  // user_message_reference
  template <class Io, class Self>
  static void fields(Io& io, Self& s) {
    io.cstr(s.message_id, status::ESME_RINVMSGID);
    io.u8(s.source_addr_ton);
    io.u8(s.source_addr_npi);
    io.cstr(s.source_addr, status::ESME_RINVSRCADR);
    io.tlvs(s.tlvs);
  }
  friend bool operator==(const QueryBroadcastSm&, const QueryBroadcastSm&) = default;
};

struct CancelBroadcastSm {
  static constexpr CommandId kId = CommandId::cancel_broadcast_sm;
  ServiceType service_type;
  MessageId message_id;
  uint8_t source_addr_ton = 0;
  uint8_t source_addr_npi = 0;
  Address source_addr;
  TlvList tlvs;  // broadcast_content_type, user_message_reference
  template <class Io, class Self>
  static void fields(Io& io, Self& s) {
    io.cstr(s.service_type, status::ESME_RINVSERTYP);
    io.cstr(s.message_id, status::ESME_RINVMSGID);
    io.u8(s.source_addr_ton);
    io.u8(s.source_addr_npi);
    io.cstr(s.source_addr, status::ESME_RINVSRCADR);
    io.tlvs(s.tlvs);
  }
  friend bool operator==(const CancelBroadcastSm&, const CancelBroadcastSm&) = default;
};

// ---- SMPP 3.3 only ----

struct ParamRetrieve {
  static constexpr CommandId kId = CommandId::param_retrieve;
  CStr<32> param_name;
  template <class Io, class Self>
  static void fields(Io& io, Self& s) {
    io.cstr(s.param_name, status::ESME_RINVPARLEN);
  }
  friend bool operator==(const ParamRetrieve&, const ParamRetrieve&) = default;
};

struct ParamRetrieveResp {
  static constexpr CommandId kId = CommandId::param_retrieve_resp;
  CStr<101> param_value;
  template <class Io, class Self>
  static void fields(Io& io, Self& s) {
    io.cstr(s.param_value, status::ESME_RINVPARLEN);
  }
  friend bool operator==(const ParamRetrieveResp&, const ParamRetrieveResp&) = default;
};

using ShortMessageId = CStr<9>;  // 3.3 message ids: at most 8 octets

struct QueryLastMsgs {
  static constexpr CommandId kId = CommandId::query_last_msgs;
  uint8_t source_addr_ton = 0;
  uint8_t source_addr_npi = 0;
  Address source_addr;
  uint8_t num_messages = 0;
  template <class Io, class Self>
  static void fields(Io& io, Self& s) {
    io.u8(s.source_addr_ton);
    io.u8(s.source_addr_npi);
    io.cstr(s.source_addr, status::ESME_RINVSRCADR);
    io.u8(s.num_messages);
  }
  friend bool operator==(const QueryLastMsgs&, const QueryLastMsgs&) = default;
};

struct QueryLastMsgsResp {
  static constexpr CommandId kId = CommandId::query_last_msgs_resp;
  std::vector<ShortMessageId> message_ids;  // number_msgs, then one C-Octet String each
  template <class Io, class Self>
  static void fields(Io& io, Self& s) {
    io.message_ids(s.message_ids);
  }
  friend bool operator==(const QueryLastMsgsResp&, const QueryLastMsgsResp&) = default;
};

struct QueryMsgDetails {
  static constexpr CommandId kId = CommandId::query_msg_details;
  ShortMessageId original_message_id;
  uint8_t source_addr_ton = 0;
  uint8_t source_addr_npi = 0;
  Address source_addr;
  uint8_t sm_length = 0;  // how many octets of the text to return
  template <class Io, class Self>
  static void fields(Io& io, Self& s) {
    io.cstr(s.original_message_id, status::ESME_RINVMSGID);
    io.u8(s.source_addr_ton);
    io.u8(s.source_addr_npi);
    io.cstr(s.source_addr, status::ESME_RINVSRCADR);
    io.u8(s.sm_length);
  }
  friend bool operator==(const QueryMsgDetails&, const QueryMsgDetails&) = default;
};

struct QueryMsgDetailsResp {
  static constexpr CommandId kId = CommandId::query_msg_details_resp;
  ServiceType service_type;
  uint8_t source_addr_ton = 0;
  uint8_t source_addr_npi = 0;
  Address source_addr;
  std::vector<DestAddress> destinations;
  uint8_t protocol_id = 0;
  uint8_t priority_flag = 0;
  TimeField schedule_delivery_time;
  TimeField validity_period;
  uint8_t registered_delivery = 0;
  uint8_t data_coding = 0;
  ShortMessage short_message;
  ShortMessageId message_id;
  TimeField final_date;
  uint8_t message_status = 0;
  uint8_t error_code = 0;
  template <class Io, class Self>
  static void fields(Io& io, Self& s) {
    io.cstr(s.service_type, status::ESME_RINVSERTYP);
    io.u8(s.source_addr_ton);
    io.u8(s.source_addr_npi);
    io.cstr(s.source_addr, status::ESME_RINVSRCADR);
    io.destinations(s.destinations);
    io.u8(s.protocol_id);
    io.u8(s.priority_flag);
    io.cstr(s.schedule_delivery_time, status::ESME_RINVSCHED);
    io.cstr(s.validity_period, status::ESME_RINVEXPIRY);
    io.u8(s.registered_delivery);
    io.u8(s.data_coding);
    io.short_message(s.short_message);
    io.cstr(s.message_id, status::ESME_RINVMSGID);
    io.cstr(s.final_date, status::ESME_RINVPARLEN);
    io.u8(s.message_status);
    io.u8(s.error_code);
  }
  friend bool operator==(const QueryMsgDetailsResp&, const QueryMsgDetailsResp&) = default;
};

// ---- the PDU ----

using Body =
    std::variant<GenericNack, BindTransmitter, BindTransmitterResp, BindReceiver, BindReceiverResp,
                 BindTransceiver, BindTransceiverResp, Outbind, Unbind, UnbindResp, EnquireLink,
                 EnquireLinkResp, SubmitSm, SubmitSmResp, DeliverSm, DeliverSmResp, DataSm,
                 DataSmResp, SubmitMulti, SubmitMultiResp, QuerySm, QuerySmResp, CancelSm,
                 CancelSmResp, ReplaceSm, ReplaceSmResp, AlertNotification, BroadcastSm,
                 BroadcastSmResp, QueryBroadcastSm, QueryBroadcastSmResp, CancelBroadcastSm,
                 CancelBroadcastSmResp, ParamRetrieve, ParamRetrieveResp, QueryLastMsgs,
                 QueryLastMsgsResp, QueryMsgDetails, QueryMsgDetailsResp>;

struct Pdu {
  uint32_t command_status = status::ESME_ROK;
  uint32_t sequence_number = 0;
  Body body;

  CommandId command_id() const {
    return std::visit([](const auto& b) { return std::decay_t<decltype(b)>::kId; }, body);
  }
  template <class T>
  T* as() {
    return std::get_if<T>(&body);
  }
  template <class T>
  const T* as() const {
    return std::get_if<T>(&body);
  }
  friend bool operator==(const Pdu&, const Pdu&) = default;
};

// A PDU of this body with a sequence number (and status, for responses).
template <class B>
Pdu make_pdu(uint32_t sequence_number, B body, uint32_t command_status = status::ESME_ROK) {
  return Pdu{command_status, sequence_number, Body(std::move(body))};
}

// An empty-bodied response to `request` with this status; for a request whose response carries
// fields (submit_sm_resp...), those fields are left empty. generic_nack for unknown ids.
Pdu make_response(CommandId request, uint32_t sequence_number, uint32_t command_status);

}  // namespace smpp
