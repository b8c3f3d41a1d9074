// The three backends of the authenticator (authenticator.hpp), made from their sections.
#pragma once

#include <boost/asio/any_io_executor.hpp>

#include <memory>
#include <set>
#include <string>

#include "config/config.hpp"
#include "extauth/authenticator.hpp"

namespace smppd::extauth {

using Upstreams = std::shared_ptr<const std::set<std::string, std::less<>>>;

// libldap, blocking, on `connections` threads of its own, one connection each, kept and reused.
std::shared_ptr<Backend> make_ldap_backend(const config::LdapAuth& c,
                                           const config::ExternalDefaults& defaults,
                                           Upstreams upstreams);
// RFC 2865 over UDP on `executor` (never blocks it).
std::shared_ptr<Backend> make_radius_backend(boost::asio::any_io_executor executor,
                                             const config::RadiusAuth& c,
                                             const config::ExternalDefaults& defaults,
                                             Upstreams upstreams);
// A JSON POST on the HTTP client (api/http/async_client.hpp) on `executor`. Throws
// std::runtime_error when its ca_file cannot be read.
std::shared_ptr<Backend> make_http_backend(boost::asio::any_io_executor executor,
                                           const config::HttpAuth& c,
                                           const config::ExternalDefaults& defaults,
                                           Upstreams upstreams);

std::string_view bind_type_name(config::BindType t);

}  // namespace smppd::extauth
