// SMPP command_status values (3.4 Table 5-2, 5.0 §4.7.6) and their names.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace smpp {

namespace status {
inline constexpr uint32_t ESME_ROK = 0x00000000;
inline constexpr uint32_t ESME_RINVMSGLEN = 0x00000001;
inline constexpr uint32_t ESME_RINVCMDLEN = 0x00000002;
inline constexpr uint32_t ESME_RINVCMDID = 0x00000003;
inline constexpr uint32_t ESME_RINVBNDSTS = 0x00000004;
inline constexpr uint32_t ESME_RALYBND = 0x00000005;
inline constexpr uint32_t ESME_RINVPRTFLG = 0x00000006;
inline constexpr uint32_t ESME_RINVREGDLVFLG = 0x00000007;
inline constexpr uint32_t ESME_RSYSERR = 0x00000008;
inline constexpr uint32_t ESME_RINVSRCADR = 0x0000000A;
inline constexpr uint32_t ESME_RINVDSTADR = 0x0000000B;
inline constexpr uint32_t ESME_RINVMSGID = 0x0000000C;
inline constexpr uint32_t ESME_RBINDFAIL = 0x0000000D;
inline constexpr uint32_t ESME_RINVPASWD = 0x0000000E;
inline constexpr uint32_t ESME_RINVSYSID = 0x0000000F;
inline constexpr uint32_t ESME_RCANCELFAIL = 0x00000011;
inline constexpr uint32_t ESME_RREPLACEFAIL = 0x00000013;
inline constexpr uint32_t ESME_RMSGQFUL = 0x00000014;
inline constexpr uint32_t ESME_RINVSERTYP = 0x00000015;
inline constexpr uint32_t ESME_RINVNUMDESTS = 0x00000033;
inline constexpr uint32_t ESME_RINVDLNAME = 0x00000034;
inline constexpr uint32_t ESME_RINVDESTFLAG = 0x00000040;
inline constexpr uint32_t ESME_RINVSUBREP = 0x00000042;
inline constexpr uint32_t ESME_RINVESMCLASS = 0x00000043;
inline constexpr uint32_t ESME_RCNTSUBDL = 0x00000044;
inline constexpr uint32_t ESME_RSUBMITFAIL = 0x00000045;
inline constexpr uint32_t ESME_RINVSRCTON = 0x00000048;
inline constexpr uint32_t ESME_RINVSRCNPI = 0x00000049;
inline constexpr uint32_t ESME_RINVDSTTON = 0x00000050;
inline constexpr uint32_t ESME_RINVDSTNPI = 0x00000051;
inline constexpr uint32_t ESME_RINVSYSTYP = 0x00000053;
inline constexpr uint32_t ESME_RINVREPFLAG = 0x00000054;
inline constexpr uint32_t ESME_RINVNUMMSGS = 0x00000055;
inline constexpr uint32_t ESME_RTHROTTLED = 0x00000058;
inline constexpr uint32_t ESME_RINVSCHED = 0x00000061;
inline constexpr uint32_t ESME_RINVEXPIRY = 0x00000062;
inline constexpr uint32_t ESME_RINVDFTMSGID = 0x00000063;
inline constexpr uint32_t ESME_RX_T_APPN = 0x00000064;
inline constexpr uint32_t ESME_RX_P_APPN = 0x00000065;
inline constexpr uint32_t ESME_RX_R_APPN = 0x00000066;
inline constexpr uint32_t ESME_RQUERYFAIL = 0x00000067;
// 3.4 names these ESME_RINVOPTPARSTREAM, ESME_ROPTPARNOTALLWD, ESME_RINVPARLEN,
// ESME_RMISSINGOPTPARAM and ESME_RINVOPTPARAMVAL; 5.0 renames them for TLVs.
inline constexpr uint32_t ESME_RINVTLVSTREAM = 0x000000C0;
inline constexpr uint32_t ESME_RTLVNOTALLWD = 0x000000C1;
inline constexpr uint32_t ESME_RINVTLVLEN = 0x000000C2;
inline constexpr uint32_t ESME_RINVPARLEN = 0x000000C2;  // 3.4's name: any parameter length
inline constexpr uint32_t ESME_RMISSINGTLV = 0x000000C3;
inline constexpr uint32_t ESME_RINVTLVVAL = 0x000000C4;
inline constexpr uint32_t ESME_RDELIVERYFAILURE = 0x000000FE;
inline constexpr uint32_t ESME_RUNKNOWNERR = 0x000000FF;
// SMPP 5.0 additions.
inline constexpr uint32_t ESME_RSERTYPUNAUTH = 0x00000100;
inline constexpr uint32_t ESME_RPROHIBITED = 0x00000101;
inline constexpr uint32_t ESME_RSERTYPUNAVAIL = 0x00000102;
inline constexpr uint32_t ESME_RSERTYPDENIED = 0x00000103;
inline constexpr uint32_t ESME_RINVDCS = 0x00000104;
inline constexpr uint32_t ESME_RINVSRCADDRSUBUNIT = 0x00000105;
inline constexpr uint32_t ESME_RINVDSTADDRSUBUNIT = 0x00000106;
inline constexpr uint32_t ESME_RINVBCASTFREQINT = 0x00000107;
inline constexpr uint32_t ESME_RINVBCASTALIAS_NAME = 0x00000108;
inline constexpr uint32_t ESME_RINVBCASTAREAFMT = 0x00000109;
inline constexpr uint32_t ESME_RINVNUMBCAST_AREAS = 0x0000010A;
inline constexpr uint32_t ESME_RINVBCASTCNTTYPE = 0x0000010B;
inline constexpr uint32_t ESME_RINVBCASTMSGCLASS = 0x0000010C;
inline constexpr uint32_t ESME_RBCASTFAIL = 0x0000010D;
inline constexpr uint32_t ESME_RBCASTQUERYFAIL = 0x0000010E;
inline constexpr uint32_t ESME_RBCASTCANCELFAIL = 0x0000010F;
inline constexpr uint32_t ESME_RINVBCAST_REP = 0x00000110;
inline constexpr uint32_t ESME_RINVBCASTSRVGRP = 0x00000111;
inline constexpr uint32_t ESME_RINVBCASTCHANIND = 0x00000112;
}  // namespace status

// "ESME_RINVDSTADR"; "ESME_VENDOR" for 0x400-0x4FF; "ESME_UNKNOWN" for others.
std::string_view status_name(uint32_t command_status);

// Every status value the spec names has a small number, 0 .. kStatusOrdinals - 3; then one for
// the vendor range (0x400-0x4FF) and one for every other value. A table lookup.
inline constexpr std::size_t kStatusOrdinals = 69;
std::size_t status_ordinal(uint32_t command_status);
std::string_view status_ordinal_name(std::size_t ordinal);

// A short human description ("Invalid Dest Addr").
std::string_view status_description(uint32_t command_status);

}  // namespace smpp
