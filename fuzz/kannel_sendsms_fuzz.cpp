// Kannel's sendsms query strings (api/message/kannel_sendsms): any bytes are read without
// crashing; a refusal has a body without a newline; what is accepted turns into a request
// that builds into submit_sm PDUs for its first recipient.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "api/message/kannel_sendsms.hpp"
#include "api/message/message_build.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  using namespace smppd::api;
  const std::string_view query(reinterpret_cast<const char*>(data), size);
  const auto parsed = parse_kannel_sendsms(query);
  if (const auto* refusal = std::get_if<KannelRefusal>(&parsed)) {
    if (refusal->body.empty() || refusal->body.find('\n') != std::string::npos) std::abort();
    return 0;
  }
  const KannelSendsms& k = std::get<KannelSendsms>(parsed);
  if (k.to.empty() || !k.from) std::abort();
  const auto request =
      kannel_to_request(k, std::chrono::sys_seconds{std::chrono::seconds(1'800'000'000)});
  if (const auto* m = std::get_if<MessageRequest>(&request)) {
    if (m->to.empty()) std::abort();
    (void)build_submits(*m, m->to.front());
  }
  return 0;
}
