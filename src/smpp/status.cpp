#include "smpp/status.hpp"

#include <array>
#include <iterator>

namespace smpp {

namespace {
struct StatusInfo {
  uint32_t value;
  std::string_view name;
  std::string_view description;
};

using namespace status;
constexpr StatusInfo kStatuses[] = {
    {ESME_ROK, "ESME_ROK", "No Error"},
    {ESME_RINVMSGLEN, "ESME_RINVMSGLEN", "Message Length is invalid"},
    {ESME_RINVCMDLEN, "ESME_RINVCMDLEN", "Command Length is invalid"},
    {ESME_RINVCMDID, "ESME_RINVCMDID", "Invalid Command ID"},
    {ESME_RINVBNDSTS, "ESME_RINVBNDSTS", "Incorrect BIND Status for given command"},
    {ESME_RALYBND, "ESME_RALYBND", "ESME Already in Bound State"},
    {ESME_RINVPRTFLG, "ESME_RINVPRTFLG", "Invalid Priority Flag"},
    {ESME_RINVREGDLVFLG, "ESME_RINVREGDLVFLG", "Invalid Registered Delivery Flag"},
    {ESME_RSYSERR, "ESME_RSYSERR", "System Error"},
    {ESME_RINVSRCADR, "ESME_RINVSRCADR", "Invalid Source Address"},
    {ESME_RINVDSTADR, "ESME_RINVDSTADR", "Invalid Dest Addr"},
    {ESME_RINVMSGID, "ESME_RINVMSGID", "Message ID is invalid"},
    {ESME_RBINDFAIL, "ESME_RBINDFAIL", "Bind Failed"},
    {ESME_RINVPASWD, "ESME_RINVPASWD", "Invalid Password"},
    {ESME_RINVSYSID, "ESME_RINVSYSID", "Invalid System ID"},
    {ESME_RCANCELFAIL, "ESME_RCANCELFAIL", "Cancel SM Failed"},
    {ESME_RREPLACEFAIL, "ESME_RREPLACEFAIL", "Replace SM Failed"},
    {ESME_RMSGQFUL, "ESME_RMSGQFUL", "Message Queue Full"},
    {ESME_RINVSERTYP, "ESME_RINVSERTYP", "Invalid Service Type"},
    {ESME_RINVNUMDESTS, "ESME_RINVNUMDESTS", "Invalid number of destinations"},
    {ESME_RINVDLNAME, "ESME_RINVDLNAME", "Invalid Distribution List name"},
    {ESME_RINVDESTFLAG, "ESME_RINVDESTFLAG", "Destination flag is invalid"},
    {ESME_RINVSUBREP, "ESME_RINVSUBREP", "Invalid submit with replace request"},
    {ESME_RINVESMCLASS, "ESME_RINVESMCLASS", "Invalid esm_class field data"},
    {ESME_RCNTSUBDL, "ESME_RCNTSUBDL", "Cannot Submit to Distribution List"},
    {ESME_RSUBMITFAIL, "ESME_RSUBMITFAIL", "submit_sm, data_sm or submit_multi failed"},
    {ESME_RINVSRCTON, "ESME_RINVSRCTON", "Invalid Source address TON"},
    {ESME_RINVSRCNPI, "ESME_RINVSRCNPI", "Invalid Source address NPI"},
    {ESME_RINVDSTTON, "ESME_RINVDSTTON", "Invalid Destination address TON"},
    {ESME_RINVDSTNPI, "ESME_RINVDSTNPI", "Invalid Destination address NPI"},
    {ESME_RINVSYSTYP, "ESME_RINVSYSTYP", "Invalid system_type field"},
    {ESME_RINVREPFLAG, "ESME_RINVREPFLAG", "Invalid replace_if_present flag"},
    {ESME_RINVNUMMSGS, "ESME_RINVNUMMSGS", "Invalid number of messages"},
    {ESME_RTHROTTLED, "ESME_RTHROTTLED", "Throttling error"},
    {ESME_RINVSCHED, "ESME_RINVSCHED", "Invalid Scheduled Delivery Time"},
    {ESME_RINVEXPIRY, "ESME_RINVEXPIRY", "Invalid message validity period"},
    {ESME_RINVDFTMSGID, "ESME_RINVDFTMSGID", "Predefined Message ID is Invalid or Not Found"},
    {ESME_RX_T_APPN, "ESME_RX_T_APPN", "ESME Receiver Temporary App Error Code"},
    {ESME_RX_P_APPN, "ESME_RX_P_APPN", "ESME Receiver Permanent App Error Code"},
    {ESME_RX_R_APPN, "ESME_RX_R_APPN", "ESME Receiver Reject Message Error Code"},
    {ESME_RQUERYFAIL, "ESME_RQUERYFAIL", "query_sm request failed"},
    {ESME_RINVTLVSTREAM, "ESME_RINVTLVSTREAM", "Error in the optional part of the PDU Body"},
    {ESME_RTLVNOTALLWD, "ESME_RTLVNOTALLWD", "TLV not allowed"},
    {ESME_RINVTLVLEN, "ESME_RINVTLVLEN", "Invalid Parameter Length"},
    {ESME_RMISSINGTLV, "ESME_RMISSINGTLV", "Expected TLV missing"},
    {ESME_RINVTLVVAL, "ESME_RINVTLVVAL", "Invalid TLV Value"},
    {ESME_RDELIVERYFAILURE, "ESME_RDELIVERYFAILURE", "Transaction Delivery Failure"},
    {ESME_RUNKNOWNERR, "ESME_RUNKNOWNERR", "Unknown Error"},
    {ESME_RSERTYPUNAUTH, "ESME_RSERTYPUNAUTH", "ESME Not authorised to use specified service_type"},
    {ESME_RPROHIBITED, "ESME_RPROHIBITED", "ESME Prohibited from using specified operation"},
    {ESME_RSERTYPUNAVAIL, "ESME_RSERTYPUNAVAIL", "Specified service_type is unavailable"},
    {ESME_RSERTYPDENIED, "ESME_RSERTYPDENIED", "Specified service_type is denied"},
    {ESME_RINVDCS, "ESME_RINVDCS", "Invalid Data Coding Scheme"},
    {ESME_RINVSRCADDRSUBUNIT, "ESME_RINVSRCADDRSUBUNIT", "Source Address Sub unit is Invalid"},
    {ESME_RINVDSTADDRSUBUNIT, "ESME_RINVDSTADDRSUBUNIT", "Destination Address Sub unit is Invalid"},
    {ESME_RINVBCASTFREQINT, "ESME_RINVBCASTFREQINT", "Broadcast Frequency Interval is invalid"},
    {ESME_RINVBCASTALIAS_NAME, "ESME_RINVBCASTALIAS_NAME", "Broadcast Alias Name is invalid"},
    {ESME_RINVBCASTAREAFMT, "ESME_RINVBCASTAREAFMT", "Broadcast Area Format is invalid"},
    {ESME_RINVNUMBCAST_AREAS, "ESME_RINVNUMBCAST_AREAS", "Number of Broadcast Areas is invalid"},
    {ESME_RINVBCASTCNTTYPE, "ESME_RINVBCASTCNTTYPE", "Broadcast Content Type is invalid"},
    {ESME_RINVBCASTMSGCLASS, "ESME_RINVBCASTMSGCLASS", "Broadcast Message Class is invalid"},
    {ESME_RBCASTFAIL, "ESME_RBCASTFAIL", "broadcast_sm operation failed"},
    {ESME_RBCASTQUERYFAIL, "ESME_RBCASTQUERYFAIL", "query_broadcast_sm operation failed"},
    {ESME_RBCASTCANCELFAIL, "ESME_RBCASTCANCELFAIL", "cancel_broadcast_sm operation failed"},
    {ESME_RINVBCAST_REP, "ESME_RINVBCAST_REP", "Number of Repeated Broadcasts is invalid"},
    {ESME_RINVBCASTSRVGRP, "ESME_RINVBCASTSRVGRP", "Broadcast Service Group is invalid"},
    {ESME_RINVBCASTCHANIND, "ESME_RINVBCASTCHANIND", "Broadcast Channel Indicator is invalid"},
};

const StatusInfo* find(uint32_t v) {
  for (const auto& s : kStatuses) {
    if (s.value == v) return &s;
  }
  return nullptr;
}
}  // namespace

static_assert(std::size(kStatuses) + 2 == kStatusOrdinals);

namespace {
// By value (every named one is below 0x400): the ordinal + 1, 0 for none.
constexpr auto kOrdinals = [] {
  std::array<uint8_t, 0x400> t{};
  for (std::size_t i = 0; i < std::size(kStatuses); ++i) {
    if (kStatuses[i].value >= t.size()) throw "a status value beyond the table";
    t[kStatuses[i].value] = static_cast<uint8_t>(i + 1);
  }
  return t;
}();
}  // namespace

std::size_t status_ordinal(uint32_t command_status) {
  if (command_status < kOrdinals.size() && kOrdinals[command_status] != 0) {
    return kOrdinals[command_status] - 1u;
  }
  if (command_status >= 0x400 && command_status <= 0x4FF) return kStatusOrdinals - 2;
  return kStatusOrdinals - 1;
}

std::string_view status_ordinal_name(std::size_t ordinal) {
  if (ordinal < std::size(kStatuses)) return kStatuses[ordinal].name;
  return ordinal == kStatusOrdinals - 2 ? "ESME_VENDOR" : "ESME_UNKNOWN";
}

std::string_view status_name(uint32_t command_status) {
  if (const StatusInfo* s = find(command_status)) return s->name;
  if (command_status >= 0x400 && command_status <= 0x4FF) return "ESME_VENDOR";
  return "ESME_UNKNOWN";
}

std::string_view status_description(uint32_t command_status) {
  if (const StatusInfo* s = find(command_status)) return s->description;
  if (command_status >= 0x400 && command_status <= 0x4FF) return "SMSC vendor specific error";
  return "Reserved or unknown error";
}

}  // namespace smpp
