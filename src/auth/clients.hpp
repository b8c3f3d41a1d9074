// The configured SMPP clients, and the decision whether a bind may proceed.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "config/config.hpp"
#include "core/string_map.hpp"

namespace smppd::auth {

// Stable reasons (logs, metric labels).
namespace reason {
inline constexpr std::string_view kUnknownSystemId = "unknown_system_id";
inline constexpr std::string_view kWrongPassword = "wrong_password";
inline constexpr std::string_view kClientIpNotAllowed = "client_ip_not_allowed";
inline constexpr std::string_view kBindTypeNotAllowed = "bind_type_not_allowed";
// Refused before the password is checked (AuthFailureThrottle): too many failed binds from the
// peer's address, or for the system_id from addresses it does not trust.
inline constexpr std::string_view kIpLocked = "ip_locked";
inline constexpr std::string_view kSystemIdLocked = "system_id_locked";
}  // namespace reason

struct AuthResult {
  uint32_t command_status = 0;  // for the bind_resp; ESME_ROK when the bind may proceed
  std::string_view reason;      // empty when it may; otherwise one of auth::reason
  // The client when the bind may proceed, otherwise null. Points into the ClientDirectory.
  const config::ClientConfig* client = nullptr;

  bool ok() const { return client != nullptr; }
};

// An immutable snapshot of the `clients` section: built once per configuration, then shared
// (std::shared_ptr<const ClientDirectory>) and read from every thread without a lock.
class ClientDirectory {
 public:
  // Throws std::invalid_argument on a duplicate system_id (the loader rejects those already).
  explicit ClientDirectory(std::vector<config::ClientConfig> clients);
  ClientDirectory(const ClientDirectory&) = delete;
  ClientDirectory& operator=(const ClientDirectory&) = delete;

  // Decides a bind from `system_id` (exact, case-sensitive) with `password`, from `peer`
  // (4 or 16 bytes, network order), for `bind_type`, checked in this order:
  //   unknown system_id              -> ESME_RINVSYSID, "unknown_system_id"
  //   peer not in its allowed_ips    -> ESME_RBINDFAIL, "client_ip_not_allowed"
  //   wrong password                 -> ESME_RINVPASWD, "wrong_password"
  //   bind type not in bind_types    -> ESME_RBINDFAIL, "bind_type_not_allowed"
  // The address is checked before the password so that a peer outside allowed_ips learns nothing
  // about the password; the bind type after it, so that only the password's holder learns which
  // binds are allowed.
  //
  // The password is compared in constant time, through SHA-256 digests of fixed size, so the time
  // depends neither on its content nor on its length; an unknown system_id is compared against a
  // dummy all the same, so the time does not tell which system_ids exist.
  AuthResult authenticate(std::string_view system_id, std::string_view password,
                          std::span<const uint8_t> peer, config::BindType bind_type) const;

  // Decides an HTTP request carrying `api_key` (one of a client's `api_keys`), as authenticate
  // does a bind: an unknown key -> ESME_RINVPASWD, "wrong_password"; then the client's
  // allowed_ips and bind_types. Keys are found by their SHA-256 digest: the lookup's time says
  // nothing about how close a guess came.
  AuthResult authenticate_key(std::string_view api_key, std::span<const uint8_t> peer,
                              config::BindType bind_type) const;

  // A client whose password was checked elsewhere (an external backend, extauth/): its
  // allowed_ips, then its bind_types, as authenticate() checks them. The result points to
  // `client`.
  static AuthResult admit(const config::ClientConfig& client, std::span<const uint8_t> peer,
                          config::BindType bind_type);

  const config::ClientConfig* find(std::string_view system_id) const;
  size_t size() const { return entries_.size(); }

  // Whether the client's allowed_ips is not empty and holds `peer`: the operator has said that
  // this address is the client's (AuthFailureThrottle trusts it for the client).
  static bool pins_address(const config::ClientConfig& client, std::span<const uint8_t> peer);

 private:
  using Digest = std::array<uint8_t, 32>;
  struct Entry {
    config::ClientConfig config;
    Digest password_digest;
  };
  const Entry* entry(std::string_view system_id) const;

  std::vector<Entry> entries_;
  StringMap<size_t> index_;
  std::map<Digest, size_t> key_index_;  // api_keys' digests -> entries_
  Digest dummy_digest_;
};

// The command_status to answer a refused bind with, given the listener's bind_failure_status:
// `uniform` answers ESME_RBINDFAIL where `specific` would tell an unknown system_id
// (ESME_RINVSYSID) from a wrong password (ESME_RINVPASWD); every other status is kept.
uint32_t bind_failure_reply(uint32_t status, config::BindFailureStatus mode);

}  // namespace smppd::auth
