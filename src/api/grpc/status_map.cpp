#include "api/grpc/status_map.hpp"

#include "google/rpc/status.pb.h"
#include "smpp/status.hpp"

namespace smppd::grpcapi {

namespace st = smpp::status;

grpc::StatusCode code_of(uint32_t s) {
  switch (s) {
    case st::ESME_ROK:
      return grpc::StatusCode::OK;
    case st::ESME_RTHROTTLED:
    case st::ESME_RMSGQFUL:
      return grpc::StatusCode::RESOURCE_EXHAUSTED;
    case st::ESME_RSYSERR:
    case st::ESME_RX_T_APPN:
      return grpc::StatusCode::UNAVAILABLE;
    case st::ESME_RINVDSTADR:
      return grpc::StatusCode::FAILED_PRECONDITION;
    case st::ESME_RINVMSGLEN:
    case st::ESME_RINVSRCADR:
    case st::ESME_RINVSRCTON:
    case st::ESME_RINVSRCNPI:
    case st::ESME_RINVDSTTON:
    case st::ESME_RINVDSTNPI:
    case st::ESME_RINVESMCLASS:
    case st::ESME_RINVREGDLVFLG:
    case st::ESME_RINVPRTFLG:
    case st::ESME_RINVSERTYP:
    case st::ESME_RINVSCHED:
    case st::ESME_RINVEXPIRY:
    case st::ESME_RINVDCS:
    case st::ESME_RINVTLVSTREAM:
    case st::ESME_RTLVNOTALLWD:
    case st::ESME_RINVTLVLEN:
    case st::ESME_RMISSINGTLV:
    case st::ESME_RINVTLVVAL:
    case st::ESME_RINVNUMDESTS:
      return grpc::StatusCode::INVALID_ARGUMENT;
    case st::ESME_RINVSYSID:
    case st::ESME_RINVPASWD:
    case st::ESME_RBINDFAIL:
      return grpc::StatusCode::UNAUTHENTICATED;
    case st::ESME_RPROHIBITED:
    case st::ESME_RSERTYPUNAUTH:
    case st::ESME_RSERTYPDENIED:
      return grpc::StatusCode::PERMISSION_DENIED;
    default:
      return grpc::StatusCode::FAILED_PRECONDITION;
  }
}

grpc::Status status_of(uint32_t command_status, const std::string& message) {
  const grpc::StatusCode code = code_of(command_status);
  smppd::v1::SmppError e;
  e.set_command_status(command_status);
  e.set_command_status_name(std::string(smpp::status_name(command_status)));
  google::rpc::Status rich;
  rich.set_code(static_cast<int>(code));
  rich.set_message(message);
  rich.add_details()->PackFrom(e);
  return grpc::Status(code, message, rich.SerializeAsString());
}

}  // namespace smppd::grpcapi
