// The gRPC status of a message's SMPP outcome: one table for every RPC (docs/grpc.md).
//
//   ESME_ROK                                       OK
//   ESME_RTHROTTLED, ESME_RMSGQFUL                 RESOURCE_EXHAUSTED  (send again later)
//   ESME_RSYSERR, ESME_RX_T_APPN                   UNAVAILABLE         (the upstream is down or
//                                                                       did not answer: again)
//   ESME_RINVDSTADR                                FAILED_PRECONDITION (no route, or a
//                                                                       destination refused)
//   ESME_RINVSRCADR, address TON/NPI, lengths,     INVALID_ARGUMENT    (the message itself)
//     data_coding, esm_class, TLVs, schedule,
//     expiry, service_type, registered_delivery
//   ESME_RINVSYSID, ESME_RINVPASWD, ESME_RBINDFAIL UNAUTHENTICATED
//   ESME_RPROHIBITED, ESME_RSERTYPUNAUTH,          PERMISSION_DENIED
//     ESME_RSERTYPDENIED
//   anything else (ESME_RSUBMITFAIL...)            FAILED_PRECONDITION
#pragma once

#include <grpcpp/support/status.h>

#include <cstdint>
#include <string>

#include "smppd/v1/smppd.pb.h"

namespace smppd::grpcapi {

grpc::StatusCode code_of(uint32_t command_status);

// A status for a message refused with `command_status`: its code, `message`, and the details
// (google.rpc.Status carrying a smppd.v1.SmppError) that rich-error clients read.
grpc::Status status_of(uint32_t command_status, const std::string& message);

}  // namespace smppd::grpcapi
