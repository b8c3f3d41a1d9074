// `smppd upstream test`: one pass over each host of an upstream, as the pool would connect to
// it, with every step timed: resolve, TCP connect, TLS handshake (when the upstream has tls),
// bind, one enquire_link, unbind. It stops at the first step that fails and says exactly why
// (connection refused, no answer within which timeout, the TLS alert or why the certificate did
// not verify, the bind_resp's command_status, the SMSC closing the connection, a generic_nack),
// so that an operator can tell a configuration mistake from a carrier that is down.
//
// Every step uses what the pool's connections use (upstream/bind.hpp for the bind,
// net/tls.hpp for SNI, the host name check and client certificates, smpp::version_after_bind
// for the version) and the upstream's own timeouts: resolve and connect share timeouts.connect,
// the TLS handshake and the bind share timeouts.bind (both counted from the connect, as a
// session counts them), enquire_link waits enquire_link.timeout, unbind timeouts.response.
//
// Requests the SMSC sends while the probe is bound are not taken: enquire_link and unbind are
// answered, deliver_sm and the like get ESME_RX_T_APPN (a temporary error: the SMSC keeps the
// receipt or MO for smppd's own connections), alert_notification needs no answer.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ssl/context.hpp>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "config/config.hpp"
#include "smpp/version.hpp"

namespace smppd::upstream {

struct ProbeStep {
  std::string name;    // resolve, connect, tls, bind, enquire_link, unbind
  bool ok = false;     //
  double ms = 0;       // how long the step took, whether it passed or not
  std::string detail;  // what it found ("127.0.0.1:2775"), or why it failed
};

// One host's pass: its steps in order, up to and including the first that failed.
struct HostProbe {
  std::string host;  // host:port as configured
  std::vector<ProbeStep> steps;

  // What was learned on the way; empty (nullopt) for a step not reached.
  std::string endpoint;                 // the address connected to, "127.0.0.1:2775"
  std::string tls_version;              // "TLSv1.3"
  std::string tls_cipher;               // IANA name
  std::optional<uint32_t> bind_status;  // the bind_resp's (or generic_nack's) command_status
  std::string smsc_system_id;  // from the bind_resp; bytes outside printable ASCII as \xNN
  std::optional<uint8_t> sc_interface_version;
  std::optional<smpp::Version> version;  // what smppd would speak on this connection
  uint32_t requests_deferred = 0;        // SMSC requests answered ESME_RX_T_APPN

  // Every step passed (and there was at least one).
  bool ok() const;
};

struct ProbeOptions {
  // When set, replaces every timeout above (an operator's quick check).
  std::optional<std::chrono::milliseconds> timeout;
};

// Probes host `host` of `upstream` (whose type is smpp) on the calling coroutine's executor.
// `tls` is the upstream's client context (net::make_client_tls_context) when it has tls, else
// null. `upstream`, `tls` and `options` must outlive the returned awaitable.
boost::asio::awaitable<HostProbe> probe_host(const config::UpstreamConfig& upstream,
                                             std::size_t host, boost::asio::ssl::context* tls,
                                             const ProbeOptions& options);

// Probes every host of `upstream` at the same time, on an io_context of its own, and returns
// when all are done: one HostProbe per host, in the order of the configuration.
std::vector<HostProbe> probe_upstream(const config::UpstreamConfig& upstream,
                                      boost::asio::ssl::context* tls,
                                      const ProbeOptions& options = {});

}  // namespace smppd::upstream
