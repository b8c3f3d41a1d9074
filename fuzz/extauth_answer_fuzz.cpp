// What external authentication backends answer (extauth/): any bytes read as a RADIUS answer, as
// the HTTP service's JSON, and as a value of each client setting, without crashing or reading
// out of bounds. Whatever is refused says why in printable, bounded text (it is logged); what
// is accepted makes settings within their bounds.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <set>
#include <string>
#include <string_view>

#include "extauth/client_settings.hpp"
#include "extauth/http_answer.hpp"
#include "extauth/radius_packet.hpp"

namespace {

using namespace smppd;

void check_text(std::string_view s, std::size_t max) {
  if (s.size() > max) std::abort();
  for (char c : s) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7F) std::abort();
  }
}

const std::set<std::string, std::less<>> kUpstreams = {"carrier-a"};

void check_settings(extauth::SettingsBuilder& b) {
  if (b.failed()) {
    check_text(b.error(), 512);
    return;
  }
  auto c = b.build();
  if (c->system_id != "acme") std::abort();
  if (c->rate_limit.messages_per_second < 0 || c->rate_limit.messages_per_second > 1e12) std::abort();
  if (!c->upstream.empty() && !kUpstreams.contains(c->upstream)) std::abort();
  if (c->bind_types.size() > 10000) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const config::ExternalDefaults defaults;

  // As a RADIUS answer to request 7 (the Request Authenticator is the first 16 bytes given, so
  // that seeds can carry a valid Response Authenticator).
  {
    extauth::radius::Authenticator ra{};
    for (std::size_t i = 0; i < ra.size() && i < size; ++i) ra[i] = data[i];
    const auto packet = size > 16 ? std::span<const uint8_t>(data + 16, size - 16)
                                   : std::span<const uint8_t>();
    auto r = extauth::radius::decode_reply(packet, 7, ra, "fuzz-secret", 32473);
    if (auto* e = std::get_if<std::string>(&r)) {
      check_text(*e, 256);
    } else {
      const auto& reply = std::get<extauth::radius::Reply>(r);
      extauth::SettingsBuilder b("acme", defaults, &kUpstreams);
      for (const auto& [field, value] : reply.settings) {
        if (value.size() > 253) std::abort();
        b.add(field, value);
      }
      check_settings(b);
    }
    (void)extauth::radius::reply_id(packet);
  }

  // As the HTTP service's JSON.
  {
    extauth::SettingsBuilder b("acme", defaults, &kUpstreams);
    std::string error;
    if (extauth::read_http_answer(text, b, error)) {
      check_settings(b);
    } else if (error.size() > 1024) {
      std::abort();
    }
  }

  // As one value of the setting the first byte picks.
  if (size > 0) {
    const auto field = static_cast<extauth::Field>(data[0] % 9);
    extauth::SettingsBuilder b("acme", defaults, &kUpstreams);
    b.source_name(extauth::to_string(field));
    b.add(field, text.substr(1));
    check_settings(b);
  }
  return 0;
}
