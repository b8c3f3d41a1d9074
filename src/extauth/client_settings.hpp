// What an external backend says about a client, beyond yes or no, made into the client's
// settings (config::ClientConfig) over auth.defaults. LDAP attributes, RADIUS Vendor-Specific
// attributes and the HTTP service's JSON fields all come here as (field, text) pairs, so the
// three backends share one set of rules and one set of errors.
//
// Values that do not parse make the whole answer unusable (the bind is refused, the log says
// which field): an allowed_ips entry that was skipped would widen who may bind.
//
// Pure: no sockets, no logging.
#pragma once

#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>

#include "config/config.hpp"

namespace smppd::extauth {

enum class Field {
  allowed_ips,      // an address or a block ("10.0.0.0/8"); several values or comma-separated
  bind_types,       // transmitter, receiver, transceiver; several values or comma-separated
  rate_limit,       // messages per second (a number >= 0)
  burst,            // messages at once
  window_size,      // requests in flight across its sessions
  max_connections,  // sessions at once
  upstream,         // a configured upstream's name: forced for its messages
  tier,
  tags,  // "key=value"
};
std::string_view to_string(Field f);
std::optional<Field> field_named(std::string_view name);

// Builds one client's settings. A field given at least once replaces the default's value as a
// whole (allowed_ips and bind_types collect every value given; tags add to the defaults' tags).
class SettingsBuilder {
 public:
  // `upstreams`: the configured upstreams' names (a forced upstream must be one of them).
  SettingsBuilder(std::string_view system_id, const config::ExternalDefaults& defaults,
                  const std::set<std::string, std::less<>>* upstreams);

  // False when the value is not valid for the field; error() then says why.
  bool add(Field field, std::string_view value);
  bool failed() const { return !error_.empty(); }
  // "smppRateLimit: 'fast' is not a number": names the field as the backend called it.
  const std::string& error() const { return error_; }
  // Call with the backend's own name for the field before add(), for error().
  void source_name(std::string_view name) { source_ = name; }

  // The settings (call once, when !failed()).
  std::shared_ptr<const config::ClientConfig> build();

 private:
  bool fail(std::string_view value, std::string_view why);

  config::ClientConfig client_;
  const std::set<std::string, std::less<>>* upstreams_;
  bool ips_given_ = false;
  bool types_given_ = false;
  std::string source_;
  std::string error_;
};

}  // namespace smppd::extauth
