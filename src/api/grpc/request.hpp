// A smppd.v1 SendRequest read into the faces' request model (api/message): the same checks and
// field names as the JSON body's, plus what only protobuf can get wrong (an unknown enum value,
// a Duration or Timestamp out of range). Pure: no I/O, no clock (`now` is passed in).
#pragma once

#include <chrono>
#include <string>
#include <variant>

#include "api/message/message_request.hpp"
#include "smppd/v1/smppd.pb.h"

namespace smppd::grpcapi {

// `path` prefixes the fields named in errors ("messages[2]").
api::MessageResult read_send(const smppd::v1::SendRequest& request, std::chrono::sys_seconds now,
                             const api::MessageLimits& limits = {}, std::string path = {});

}  // namespace smppd::grpcapi
