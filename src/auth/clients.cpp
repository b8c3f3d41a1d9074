#include "auth/clients.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <algorithm>
#include <stdexcept>

#include "smpp/status.hpp"

namespace smppd::auth {

namespace {

using Digest = std::array<uint8_t, 32>;

bool sha256(std::string_view text, Digest& digest) {
  unsigned int size = 0;
  return EVP_Digest(text.data(), text.size(), digest.data(), &size, EVP_sha256(), nullptr) == 1 &&
         size == digest.size();
}

// At start-up, where an exception is the way to fail.
Digest sha256_or_throw(std::string_view text) {
  Digest digest{};
  if (!sha256(text, digest)) throw std::runtime_error("SHA-256 is not available (OpenSSL)");
  return digest;
}

bool address_allowed(const config::ClientConfig& client, std::span<const uint8_t> peer) {
  if (client.allowed_ips.empty()) return true;
  return std::any_of(client.allowed_ips.begin(), client.allowed_ips.end(),
                     [peer](const config::Cidr& block) { return block.contains(peer); });
}

bool bind_type_allowed(const config::ClientConfig& client, config::BindType type) {
  return std::find(client.bind_types.begin(), client.bind_types.end(), type) !=
         client.bind_types.end();
}

AuthResult refuse(uint32_t status, std::string_view why) {
  return {status, why, nullptr};
}

}  // namespace

ClientDirectory::ClientDirectory(std::vector<config::ClientConfig> clients)
    : dummy_digest_(sha256_or_throw("smppd: no client has this system_id")) {
  entries_.reserve(clients.size());
  for (auto& client : clients) {
    if (index_.contains(client.system_id)) {
      throw std::invalid_argument("duplicate client system_id '" + client.system_id + "'");
    }
    index_.emplace(client.system_id, entries_.size());
    for (const std::string& key : client.api_keys) {
      if (!key_index_.emplace(sha256_or_throw(key), entries_.size()).second) {
        throw std::invalid_argument("an api_key of client '" + client.system_id +
                                    "' is also another client's");
      }
    }
    Digest digest = sha256_or_throw(client.password);
    entries_.push_back({std::move(client), digest});
  }
}

const ClientDirectory::Entry* ClientDirectory::entry(std::string_view system_id) const {
  auto it = index_.find(system_id);
  return it == index_.end() ? nullptr : &entries_[it->second];
}

const config::ClientConfig* ClientDirectory::find(std::string_view system_id) const {
  const Entry* e = entry(system_id);
  return e ? &e->config : nullptr;
}

bool ClientDirectory::pins_address(const config::ClientConfig& client,
                                   std::span<const uint8_t> peer) {
  return !client.allowed_ips.empty() && address_allowed(client, peer);
}

AuthResult ClientDirectory::authenticate(std::string_view system_id, std::string_view password,
                                         std::span<const uint8_t> peer,
                                         config::BindType bind_type) const {
  namespace st = smpp::status;
  const Entry* e = entry(system_id);
  // Always one digest and one comparison, whatever the outcome.
  Digest given{};
  const bool digested = sha256(password, given);  // a failure fails the bind, never throws
  const Digest& expected = e ? e->password_digest : dummy_digest_;
  const bool password_matches =
      CRYPTO_memcmp(given.data(), expected.data(), given.size()) == 0 && digested;

  if (!e) return refuse(st::ESME_RINVSYSID, reason::kUnknownSystemId);
  if (!address_allowed(e->config, peer)) {
    return refuse(st::ESME_RBINDFAIL, reason::kClientIpNotAllowed);
  }
  if (!password_matches) return refuse(st::ESME_RINVPASWD, reason::kWrongPassword);
  if (!bind_type_allowed(e->config, bind_type)) {
    return refuse(st::ESME_RBINDFAIL, reason::kBindTypeNotAllowed);
  }
  return {st::ESME_ROK, {}, &e->config};
}

AuthResult ClientDirectory::authenticate_key(std::string_view api_key,
                                             std::span<const uint8_t> peer,
                                             config::BindType bind_type) const {
  namespace st = smpp::status;
  Digest given{};
  if (api_key.empty() || !sha256(api_key, given)) {
    return refuse(st::ESME_RINVPASWD, reason::kWrongPassword);
  }
  auto it = key_index_.find(given);
  if (it == key_index_.end()) return refuse(st::ESME_RINVPASWD, reason::kWrongPassword);
  const Entry& e = entries_[it->second];
  if (!address_allowed(e.config, peer)) {
    return refuse(st::ESME_RBINDFAIL, reason::kClientIpNotAllowed);
  }
  if (!bind_type_allowed(e.config, bind_type)) {
    return refuse(st::ESME_RBINDFAIL, reason::kBindTypeNotAllowed);
  }
  return {st::ESME_ROK, {}, &e.config};
}

AuthResult ClientDirectory::admit(const config::ClientConfig& client,
                                  std::span<const uint8_t> peer, config::BindType bind_type) {
  namespace st = smpp::status;
  if (!address_allowed(client, peer)) return refuse(st::ESME_RBINDFAIL, reason::kClientIpNotAllowed);
  if (!bind_type_allowed(client, bind_type)) {
    return refuse(st::ESME_RBINDFAIL, reason::kBindTypeNotAllowed);
  }
  return {st::ESME_ROK, {}, &client};
}

uint32_t bind_failure_reply(uint32_t status, config::BindFailureStatus mode) {
  namespace st = smpp::status;
  if (mode == config::BindFailureStatus::uniform &&
      (status == st::ESME_RINVSYSID || status == st::ESME_RINVPASWD)) {
    return st::ESME_RBINDFAIL;
  }
  return status;
}

}  // namespace smppd::auth
