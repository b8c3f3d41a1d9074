// TLS contexts built from the configuration (config::TlsConfig), once at start-up or reload, then
// shared by every session of a listener or an upstream. Errors are values: a context or a message
// that names the file and OpenSSL's reason.
//
// Both kinds of context:
// - min_version/max_version "1.0".."1.3" bound the protocol. TLS 1.0 and 1.1 need OpenSSL's
//   security level 0 (OpenSSL 3 refuses their SHA-1/MD5 handshake signatures at level 1 and
//   above), so a context whose min_version is below 1.2 gets level 0: it is what the operator
//   asked for.
// - cipher_suites take IANA names (TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384, TLS_AES_128_GCM_SHA256)
//   or OpenSSL names (ECDHE-RSA-AES256-GCM-SHA384). TLS 1.3 suites and TLS 1.2-and-below suites
//   are configured separately: naming only suites of one family leaves the other at OpenSSL's
//   defaults (as Go's crypto/tls does for 1.3). An unknown name is an error naming it.
// - Renegotiation and compression are off; idle connections release OpenSSL's record buffers.
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <memory>
#include <string>

#include "config/config.hpp"

namespace smppd::net {

using TlsStream = boost::asio::ssl::stream<boost::asio::ip::tcp::socket>;

struct TlsContextResult {
  std::shared_ptr<boost::asio::ssl::context> context;  // null when error is set
  std::string error;  // "tls: cannot read certificate /x/y.crt: No such file or directory"
  bool ok() const { return context != nullptr; }
};

// A listener's context. cert (a PEM chain, leaf first) and key are required and must match; ca is
// the trust store for client certificates. client_auth: none sends no certificate request;
// request asks for a certificate and verifies one that is sent, but admits a client without;
// require rejects a client without a certificate signed by ca. Encrypted keys are refused (the
// daemon never prompts for a pass phrase). The server keeps no session cache (resumption uses
// stateless tickets), so idle sessions cost it no memory beyond their connection.
TlsContextResult make_server_tls_context(const config::TlsConfig& tls);

// An upstream connection's context. ca is the trust store for the server's certificate (empty:
// the system's default verify paths); cert/key, when set, are the client certificate (mTLS);
// skip_verify accepts any server certificate. The host name check is per connection:
// prepare_client_stream.
TlsContextResult make_client_tls_context(const config::TlsConfig& tls);

// Before the handshake of a client stream: sends SNI and checks the server certificate against
// tls.server_name, or `host` when it is empty. An IP address is checked against the
// certificate's IP SANs and is not sent as SNI (RFC 6066 forbids it). With skip_verify the name is
// still sent but not checked.
void prepare_client_stream(TlsStream& stream, const config::TlsConfig& tls,
                           const std::string& host);
// The same on a bare SSL, for streams of another type (Beast's, in the HTTP client): sends
// `name` as SNI unless it is an IP address, and when `check` is set, verifies the certificate
// against it.
void set_client_peer_name(SSL* ssl, const std::string& name, bool check);

// Why a handshake (or a read or write after it) on `stream` failed, as an operator needs it:
// OpenSSL's reason ("tlsv1 alert unknown ca", "wrong version number"), and when the peer's
// certificate did not verify, why not ("certificate verify failed: self-signed certificate",
// "certificate verify failed: hostname mismatch"): OpenSSL's reason alone does not say.
std::string describe_tls_error(TlsStream& stream, const boost::system::error_code& ec);
std::string describe_tls_error(SSL* ssl, const boost::system::error_code& ec);

}  // namespace smppd::net
