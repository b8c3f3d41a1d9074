#include "extauth/radius_packet.hpp"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <cstring>

namespace smppd::extauth::radius {

namespace {

constexpr uint8_t kUserName = 1;
constexpr uint8_t kUserPassword = 2;
constexpr uint8_t kServiceType = 6;
constexpr uint8_t kVendorSpecific = 26;
constexpr uint8_t kCalledStationId = 30;
constexpr uint8_t kCallingStationId = 31;
constexpr uint8_t kNasIdentifier = 32;
constexpr uint8_t kMessageAuthenticator = 80;
constexpr uint32_t kAuthenticateOnly = 8;
constexpr std::size_t kHeader = 20;
constexpr std::size_t kMaxPacket = 4096;

using Md5 = std::array<uint8_t, 16>;

Md5 md5(std::initializer_list<std::span<const uint8_t>> parts) {
  Md5 out{};
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  unsigned len = 0;
  EVP_DigestInit_ex(ctx, EVP_md5(), nullptr);
  for (auto p : parts) EVP_DigestUpdate(ctx, p.data(), p.size());
  EVP_DigestFinal_ex(ctx, out.data(), &len);
  EVP_MD_CTX_free(ctx);
  return out;
}

Md5 hmac_md5(std::string_view key, std::span<const uint8_t> data) {
  Md5 out{};
  unsigned len = 0;
  HMAC(EVP_md5(), key.data(), static_cast<int>(key.size()), data.data(), data.size(), out.data(),
       &len);
  return out;
}

std::span<const uint8_t> bytes(std::string_view s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

void attribute(std::vector<uint8_t>& out, uint8_t type, std::span<const uint8_t> value) {
  const std::size_t n = std::min<std::size_t>(value.size(), 253);
  out.push_back(type);
  out.push_back(static_cast<uint8_t>(n + 2));
  out.insert(out.end(), value.begin(), value.begin() + static_cast<std::ptrdiff_t>(n));
}

std::optional<Field> vendor_field(uint8_t type) {
  switch (type) {
    case 1: return Field::allowed_ips;
    case 2: return Field::bind_types;
    case 3: return Field::rate_limit;
    case 4: return Field::window_size;
    case 5: return Field::max_connections;
    case 6: return Field::upstream;
    case 7: return Field::tier;
    case 8: return Field::tags;
    case 9: return Field::burst;
    default: return std::nullopt;
  }
}

}  // namespace

std::optional<std::vector<uint8_t>> encode_access_request(uint8_t id, const Authenticator& ra,
                                                          std::string_view secret,
                                                          const AccessRequest& r) {
  if (r.password.size() > 128) return std::nullopt;
  std::vector<uint8_t> out;
  out.reserve(256);
  out.push_back(kAccessRequest);
  out.push_back(id);
  out.push_back(0);
  out.push_back(0);
  out.insert(out.end(), ra.begin(), ra.end());
  // Message-Authenticator first (zeros until the packet is complete): a server checks it before
  // anything else (the Blast-RADIUS advice).
  const std::size_t ma_at = out.size() + 2;
  const std::array<uint8_t, 16> zeros{};
  attribute(out, kMessageAuthenticator, zeros);
  attribute(out, kUserName, bytes(r.user_name));
  // User-Password: padded to 16s, each block XORed with MD5(secret + the previous cipher block).
  {
    std::vector<uint8_t> p(r.password.begin(), r.password.end());
    p.resize(std::max<std::size_t>(16, (p.size() + 15) / 16 * 16), 0);
    std::span<const uint8_t> previous(ra);
    for (std::size_t i = 0; i < p.size(); i += 16) {
      const Md5 b = md5({bytes(secret), previous});
      for (std::size_t j = 0; j < 16; ++j) p[i + j] ^= b[j];
      previous = std::span<const uint8_t>(p.data() + i, 16);
    }
    attribute(out, kUserPassword, p);
  }
  const uint8_t service[4] = {0, 0, 0, static_cast<uint8_t>(kAuthenticateOnly)};
  attribute(out, kServiceType, service);
  if (!r.nas_identifier.empty()) attribute(out, kNasIdentifier, bytes(r.nas_identifier));
  if (!r.calling_station_id.empty()) attribute(out, kCallingStationId, bytes(r.calling_station_id));
  if (!r.called_station_id.empty()) attribute(out, kCalledStationId, bytes(r.called_station_id));
  out[2] = static_cast<uint8_t>(out.size() >> 8);
  out[3] = static_cast<uint8_t>(out.size() & 0xFF);
  const Md5 mac = hmac_md5(secret, out);
  std::copy(mac.begin(), mac.end(), out.begin() + static_cast<std::ptrdiff_t>(ma_at));
  return out;
}

std::optional<uint8_t> reply_id(std::span<const uint8_t> packet) {
  if (packet.size() < 2) return std::nullopt;
  return packet[1];
}

std::variant<Reply, std::string> decode_reply(std::span<const uint8_t> packet, uint8_t id,
                                              const Authenticator& ra, std::string_view secret,
                                              uint32_t vendor_id,
                                              bool require_message_authenticator) {
  if (packet.size() < kHeader) return std::string("shorter than a RADIUS header");
  const std::size_t length = (std::size_t{packet[2]} << 8) | packet[3];
  if (length < kHeader || length > kMaxPacket || length > packet.size()) {
    return std::string("its length field (" + std::to_string(length) + ") does not fit the " +
                       std::to_string(packet.size()) + " bytes received");
  }
  packet = packet.first(length);  // octets past Length are padding (RFC 2865 3)
  if (packet[1] != id) return std::string("not the identifier of the request");
  Reply reply;
  reply.code = packet[0];
  if (reply.code != kAccessAccept && reply.code != kAccessReject &&
      reply.code != kAccessChallenge) {
    return std::string("code " + std::to_string(reply.code) + " is not an answer to an Access-Request");
  }
  // Response Authenticator: MD5(Code ID Length RequestAuth Attributes Secret).
  {
    const Md5 expected = md5({packet.first(4), ra, packet.subspan(kHeader), bytes(secret)});
    if (!std::equal(expected.begin(), expected.end(), packet.begin() + 4)) {
      return std::string("its Response Authenticator does not match (wrong shared secret?)");
    }
  }
  // Attributes: well-formed, and a Message-Authenticator checked when there is one.
  std::size_t at = kHeader;
  std::optional<std::size_t> ma_value;
  while (at < packet.size()) {
    if (packet.size() - at < 2) return std::string("an attribute is cut short");
    const uint8_t type = packet[at];
    const std::size_t len = packet[at + 1];
    if (len < 2 || at + len > packet.size()) return std::string("an attribute's length is wrong");
    const auto value = packet.subspan(at + 2, len - 2);
    if (type == kMessageAuthenticator) {
      if (value.size() != 16) return std::string("a Message-Authenticator is not 16 bytes");
      if (ma_value) return std::string("two Message-Authenticators");
      ma_value = at + 2;
    } else if (type == kVendorSpecific && vendor_id != 0 && value.size() >= 4) {
      const uint32_t vendor = (uint32_t{value[0]} << 24) | (uint32_t{value[1]} << 16) |
                              (uint32_t{value[2]} << 8) | value[3];
      if (vendor == vendor_id) {
        auto sub = value.subspan(4);
        while (!sub.empty()) {
          if (sub.size() < 2 || sub[1] < 2 || sub[1] > sub.size()) {
            return std::string("a Vendor-Specific attribute of vendor " +
                               std::to_string(vendor_id) + " is malformed");
          }
          if (auto field = vendor_field(sub[0])) {
            const auto text = sub.subspan(2, sub[1] - 2);
            reply.settings.emplace_back(*field, std::string(text.begin(), text.end()));
          }
          sub = sub.subspan(sub[1]);
        }
      }
    }
    at += len;
  }
  if (ma_value) {
    // HMAC-MD5 over the answer with the Request Authenticator in its place and the
    // Message-Authenticator zeroed (RFC 3579 3.2).
    std::vector<uint8_t> copy(packet.begin(), packet.end());
    std::copy(ra.begin(), ra.end(), copy.begin() + 4);
    std::fill_n(copy.begin() + static_cast<std::ptrdiff_t>(*ma_value), 16, 0);
    const Md5 mac = hmac_md5(secret, copy);
    if (!std::equal(mac.begin(), mac.end(), packet.begin() + static_cast<std::ptrdiff_t>(*ma_value))) {
      return std::string("its Message-Authenticator does not match");
    }
    reply.message_authenticator = true;
  } else if (require_message_authenticator) {
    return std::string("it has no Message-Authenticator (require_message_authenticator is on)");
  }
  if (reply.code != kAccessAccept) reply.settings.clear();  // a refusal's attributes mean nothing
  return reply;
}

}  // namespace smppd::extauth::radius
