// The JSON bodies of POST /v1/messages and /v1/messages/batch (api/message): any bytes are
// parsed without crashing or reading out of bounds, and what is accepted builds, with every
// concatenation method, into submit_sm PDUs that survive the wire (encoded and decoded back
// equal) and that are as many as count_parts says.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "api/message/message_build.hpp"
#include "api/message/message_request.hpp"
#include "smpp/codec.hpp"

namespace {

using namespace smppd::api;

void check(const MessageRequest& m) {
  if (m.to.empty() || m.to.size() > MessageLimits{}.max_recipients) std::abort();
  // The parser bounds parts as udh8 counts them.
  const auto counted = count_parts(m);
  if (!std::holds_alternative<std::size_t>(counted)) std::abort();
  for (auto method : {smpp::ConcatMethod::udh8, smpp::ConcatMethod::udh16, smpp::ConcatMethod::sar,
                      smpp::ConcatMethod::payload}) {
    const BuildOptions options{.method = method, .reference = 0xABCD};
    const auto built = build_submits(m, m.to.front(), options);
    const auto* b = std::get_if<BuiltMessage>(&built);
    if (!b) {
      if (!std::holds_alternative<FieldError>(count_parts(m, options))) std::abort();
      continue;
    }
    if (b->parts != std::get<std::size_t>(count_parts(m, options))) std::abort();
    const bool one_pdu = method == smpp::ConcatMethod::payload || !m.udh.empty();
    if (b->pdus.size() != (one_pdu ? 1 : b->parts)) std::abort();
    for (const smpp::Pdu& pdu : b->pdus) {
      const std::vector<uint8_t> wire = smpp::encode(pdu);
      smpp::Pdu back;
      smpp::DecodeError error;
      if (!smpp::decode(wire, back, error)) std::abort();
      const auto* sent = back.as<smpp::SubmitSm>();
      if (!sent || !(*sent == *pdu.as<smpp::SubmitSm>())) std::abort();
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  using namespace std::chrono;
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  const sys_seconds now = sys_days(year(2026) / June / 1);
  const auto one = parse_message_request(body, now);
  if (const auto* m = std::get_if<MessageRequest>(&one)) check(*m);
  const auto batch = parse_batch_request(body, now);
  if (const auto* b = std::get_if<BatchRequest>(&batch)) {
    for (const MessageResult& item : b->items) {
      if (const auto* m = std::get_if<MessageRequest>(&item)) check(*m);
    }
  }
  return 0;
}
