// The gRPC face's SendRequest and SendBatchRequest (api/grpc/request): any bytes parsed as the
// protobuf messages, then read into the faces' request model, without crashing or reading out
// of bounds; what is accepted builds into submit_sm PDUs that survive the wire, and every
// outcome maps to a gRPC status.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "api/grpc/request.hpp"
#include "api/grpc/status_map.hpp"
#include "api/message/message_build.hpp"
#include "smpp/codec.hpp"

namespace {

using namespace smppd;

void check(const api::MessageResult& r) {
  const auto* m = std::get_if<api::MessageRequest>(&r);
  if (m == nullptr) {
    if (std::get<api::FieldError>(r).detail.empty()) std::abort();
    return;
  }
  if (m->to.empty() || m->to.size() > api::MessageLimits{}.max_recipients) std::abort();
  const auto built = api::build_submits(*m, m->to.front());
  const auto* b = std::get_if<api::BuiltMessage>(&built);
  if (b == nullptr) return;
  for (const smpp::Pdu& pdu : b->pdus) {
    const std::vector<uint8_t> wire = smpp::encode(pdu);
    smpp::Pdu back;
    smpp::DecodeError error;
    if (!smpp::decode(wire, back, error)) std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  using namespace std::chrono;
  const sys_seconds now = sys_days(year(2026) / June / 1);
  smppd::v1::SendRequest one;
  if (one.ParseFromArray(data, static_cast<int>(size))) check(grpcapi::read_send(one, now));
  smppd::v1::SendBatchRequest batch;
  if (batch.ParseFromArray(data, static_cast<int>(size)) && batch.messages_size() <= 50) {
    for (int i = 0; i < batch.messages_size(); ++i) {
      check(grpcapi::read_send(batch.messages(i), now, {}, "messages[" + std::to_string(i) + "]"));
    }
  }
  // Every command_status has a code and a status with details.
  const uint32_t status = size >= 4 ? static_cast<uint32_t>(data[0]) << 24 | data[1] << 16 |
                                          data[2] << 8 | data[3]
                                    : 0;
  if (grpcapi::status_of(status, "x").error_code() != grpcapi::code_of(status)) std::abort();
  return 0;
}
