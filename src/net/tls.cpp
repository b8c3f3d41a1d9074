#include "net/tls.hpp"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <boost/asio/ip/address.hpp>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string_view>
#include <system_error>

namespace smppd::net {

namespace ssl = boost::asio::ssl;
using config::TlsConfig;

namespace {

// The earliest error in OpenSSL's queue (the root cause: for a missing file, the system's "No
// such file or directory"), leaving the queue empty.
unsigned long take_error() {
  const unsigned long first = ERR_get_error();
  ERR_clear_error();
  return first;
}

std::string describe(unsigned long error) {
  if (error == 0) return "unknown error";
  // OpenSSL 3 has no reason text for errno values.
  if (ERR_SYSTEM_ERROR(error))
    return std::system_category().message(static_cast<int>(ERR_GET_REASON(error)));
  if (const char* reason = ERR_reason_error_string(error)) return reason;
  char text[256];
  ERR_error_string_n(error, text, sizeof text);
  return text;
}

std::string openssl_reason() {
  return describe(take_error());
}

// The pass phrase callback: a key that needs one is an error, never a prompt on the daemon's
// terminal. `asked`, when given, is a bool set to say that a pass phrase was wanted.
int refuse_pass_phrase(char*, int, int, void* asked) {
  if (asked != nullptr) *static_cast<bool*>(asked) = true;
  return 0;
}

std::optional<int> parse_version(std::string_view v) {
  if (v == "1.0") return TLS1_VERSION;
  if (v == "1.1") return TLS1_1_VERSION;
  if (v == "1.2") return TLS1_2_VERSION;
  if (v == "1.3") return TLS1_3_VERSION;
  return std::nullopt;
}

// The cipher suites this OpenSSL knows, by IANA and OpenSSL name.
struct CipherNames {
  std::map<std::string, std::string, std::less<>> openssl_by_iana;  // TLS 1.2 and below
  std::set<std::string, std::less<>> openssl;                       // TLS 1.2 and below
  std::set<std::string, std::less<>> tls13;  // IANA and OpenSSL names are the same
};

CipherNames enumerate_ciphers() {
  CipherNames names;
  const std::unique_ptr<SSL_CTX, decltype(&SSL_CTX_free)> ctx(SSL_CTX_new(TLS_method()),
                                                              SSL_CTX_free);
  if (!ctx) return names;
  const std::unique_ptr<SSL, decltype(&SSL_free)> ssl(SSL_new(ctx.get()), SSL_free);
  if (!ssl) return names;
  auto add = [&names](const SSL_CIPHER* c) {
    const char* iana = SSL_CIPHER_standard_name(c);
    const char* name = SSL_CIPHER_get_name(c);
    if (name == nullptr) return;
    if ((SSL_CIPHER_get_protocol_id(c) >> 8) == 0x13) {  // the TLS 1.3 range
      names.tls13.insert(name);
      return;
    }
    names.openssl.insert(name);
    if (iana != nullptr) names.openssl_by_iana.emplace(iana, name);
  };
  // Every suite up to TLS 1.2, also those outside the default list (COMPLEMENTOFALL: eNULL).
  SSL_set_security_level(ssl.get(), 0);
  if (SSL_set_cipher_list(ssl.get(), "ALL:COMPLEMENTOFALL") == 1) {
    STACK_OF(SSL_CIPHER)* list = SSL_get_ciphers(ssl.get());
    for (int i = 0; i < sk_SSL_CIPHER_num(list); ++i) add(sk_SSL_CIPHER_value(list, i));
  }
  // TLS 1.3 suites are configured apart and the list above holds only the enabled ones (CCM is
  // off by default): look up each code point of the TLS 1.3 range, 0x13XX.
  for (int low = 0; low <= 0xff; ++low) {
    const unsigned char id[2] = {0x13, static_cast<unsigned char>(low)};
    if (const SSL_CIPHER* c = SSL_CIPHER_find(ssl.get(), id)) add(c);
  }
  ERR_clear_error();
  return names;
}

const CipherNames& cipher_names() {
  static const CipherNames names = enumerate_ciphers();
  return names;
}

void append(std::string& list, std::string_view name) {
  if (!list.empty()) list += ':';
  list += name;
}

std::string set_cipher_suites(SSL_CTX* ctx, const std::vector<std::string>& suites) {
  if (suites.empty()) return {};
  const CipherNames& names = cipher_names();
  std::string tls12;
  std::string tls13;
  for (const std::string& suite : suites) {
    if (names.tls13.contains(suite)) {
      append(tls13, suite);
    } else if (auto it = names.openssl_by_iana.find(suite); it != names.openssl_by_iana.end()) {
      append(tls12, it->second);
    } else if (names.openssl.contains(suite)) {
      append(tls12, suite);
    } else {
      return "tls: unknown cipher suite '" + suite + "'";
    }
  }
  if (!tls12.empty() && SSL_CTX_set_cipher_list(ctx, tls12.c_str()) != 1)
    return "tls: cipher suites " + tls12 + " rejected: " + openssl_reason();
  if (!tls13.empty() && SSL_CTX_set_ciphersuites(ctx, tls13.c_str()) != 1)
    return "tls: cipher suites " + tls13 + " rejected: " + openssl_reason();
  return {};
}

// What servers and clients share: protocol versions, cipher suites, modes and options.
std::string configure_common(SSL_CTX* ctx, const TlsConfig& tls) {
  // Asio sets this on each stream too; on the context it holds for every SSL made from it.
  SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
  SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION);
  SSL_CTX_set_default_passwd_cb(ctx, refuse_pass_phrase);

  const auto min = parse_version(tls.min_version);
  const auto max = parse_version(tls.max_version);
  if (!min) return "tls: invalid min_version '" + tls.min_version + "' (expected 1.0 ... 1.3)";
  if (!max) return "tls: invalid max_version '" + tls.max_version + "' (expected 1.0 ... 1.3)";
  if (*min > *max)
    return "tls: min_version " + tls.min_version + " is above max_version " + tls.max_version;
  if (SSL_CTX_set_min_proto_version(ctx, *min) != 1 ||
      SSL_CTX_set_max_proto_version(ctx, *max) != 1)
    return "tls: cannot set protocol versions: " + openssl_reason();
  if (*min < TLS1_2_VERSION) SSL_CTX_set_security_level(ctx, 0);

  return set_cipher_suites(ctx, tls.cipher_suites);
}

std::string load_cert_and_key(SSL_CTX* ctx, const TlsConfig& tls) {
  if (SSL_CTX_use_certificate_chain_file(ctx, tls.cert.c_str()) != 1)
    return "tls: cannot read certificate " + tls.cert + ": " + openssl_reason();

  // Read apart from installing it, so that a key that cannot be read and a key that does not
  // match are told apart.
  const std::unique_ptr<BIO, decltype(&BIO_free)> file(BIO_new_file(tls.key.c_str(), "r"),
                                                       BIO_free);
  if (!file) return "tls: cannot read private key " + tls.key + ": " + openssl_reason();
  bool encrypted = false;
  const std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(
      PEM_read_bio_PrivateKey(file.get(), nullptr, refuse_pass_phrase, &encrypted), EVP_PKEY_free);
  if (!key) {
    const unsigned long error = take_error();
    if (encrypted)
      return "tls: cannot read private key " + tls.key +
             ": it is encrypted, and pass phrases are not supported";
    if (ERR_GET_LIB(error) == ERR_LIB_OSSL_DECODER && ERR_GET_REASON(error) == ERR_R_UNSUPPORTED)
      return "tls: cannot read private key " + tls.key + ": no PEM private key in it";
    return "tls: cannot read private key " + tls.key + ": " + describe(error);
  }
  if (SSL_CTX_use_PrivateKey(ctx, key.get()) != 1 || SSL_CTX_check_private_key(ctx) != 1)
    return "tls: private key " + tls.key + " does not match certificate " + tls.cert + ": " +
           openssl_reason();
  return {};
}

std::string load_ca(SSL_CTX* ctx, const std::string& ca) {
  if (SSL_CTX_load_verify_locations(ctx, ca.c_str(), nullptr) != 1)
    return "tls: cannot read CA certificates " + ca + ": " + openssl_reason();
  return {};
}

TlsContextResult failure(std::string error) {
  return {nullptr, std::move(error)};
}

std::shared_ptr<ssl::context> new_context(ssl::context::method method, std::string& error) {
  try {
    return std::make_shared<ssl::context>(method);
  } catch (const std::exception& e) {
    error = std::string("tls: cannot create a context: ") + e.what();
    return nullptr;
  }
}

}  // namespace

TlsContextResult make_server_tls_context(const TlsConfig& tls) {
  if (tls.cert.empty() || tls.key.empty()) return failure("tls: a server needs cert and key");
  if (tls.client_auth != config::ClientAuth::none && tls.ca.empty())
    return failure("tls: client_auth needs ca, the trust store for client certificates");

  ERR_clear_error();
  std::string error;
  auto context = new_context(ssl::context::tls_server, error);
  if (!context) return failure(std::move(error));
  SSL_CTX* ctx = context->native_handle();

  if (error = configure_common(ctx, tls); !error.empty()) return failure(std::move(error));
  // The operator's order of cipher_suites decides, not the client's.
  SSL_CTX_set_options(ctx, SSL_OP_CIPHER_SERVER_PREFERENCE);
  // No server-side session cache: 10,000 sessions must not pin 10,000 cached sessions (with
  // their peer certificates). Resumption still works through stateless tickets. The session id
  // context keeps a resumption attempt from failing the handshake when client certificates are
  // verified.
  SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
  static constexpr unsigned char kSessionIdContext[] = "smppd";
  SSL_CTX_set_session_id_context(ctx, kSessionIdContext, sizeof kSessionIdContext - 1);

  if (error = load_cert_and_key(ctx, tls); !error.empty()) return failure(std::move(error));

  if (!tls.ca.empty()) {
    if (error = load_ca(ctx, tls.ca); !error.empty()) return failure(std::move(error));
    // The CA names sent in the certificate request, so that a client with several certificates
    // picks one we accept.
    STACK_OF(X509_NAME)* names = SSL_load_client_CA_file(tls.ca.c_str());
    if (names == nullptr)
      return failure("tls: no CA certificate in " + tls.ca + ": " + openssl_reason());
    SSL_CTX_set_client_CA_list(ctx, names);
  }

  switch (tls.client_auth) {
    case config::ClientAuth::none:
      SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, nullptr);
      break;
    case config::ClientAuth::request:
      SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
      break;
    case config::ClientAuth::require:
      SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
      break;
  }
  return {std::move(context), {}};
}

TlsContextResult make_client_tls_context(const TlsConfig& tls) {
  if (tls.cert.empty() != tls.key.empty())
    return failure("tls: a client certificate needs both cert and key");

  ERR_clear_error();
  std::string error;
  auto context = new_context(ssl::context::tls_client, error);
  if (!context) return failure(std::move(error));
  SSL_CTX* ctx = context->native_handle();

  if (error = configure_common(ctx, tls); !error.empty()) return failure(std::move(error));
  if (!tls.cert.empty()) {
    if (error = load_cert_and_key(ctx, tls); !error.empty()) return failure(std::move(error));
  }
  if (!tls.ca.empty()) {
    if (error = load_ca(ctx, tls.ca); !error.empty()) return failure(std::move(error));
  } else if (!tls.skip_verify && SSL_CTX_set_default_verify_paths(ctx) != 1) {
    return failure("tls: cannot load the system's CA certificates: " + openssl_reason());
  }
  SSL_CTX_set_verify(ctx, tls.skip_verify ? SSL_VERIFY_NONE : SSL_VERIFY_PEER, nullptr);
  return {std::move(context), {}};
}

void prepare_client_stream(TlsStream& stream, const TlsConfig& tls, const std::string& host) {
  set_client_peer_name(stream.native_handle(), tls.server_name.empty() ? host : tls.server_name,
                       !tls.skip_verify);
}

void set_client_peer_name(SSL* ssl, const std::string& name, bool check) {
  if (name.empty()) return;
  boost::system::error_code not_an_address;
  boost::asio::ip::make_address(name, not_an_address);
  const bool is_address = !not_an_address;

  // SSL_set_tlsext_host_name, without its C cast.
  if (!is_address)
    SSL_ctrl(ssl, SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name,
             const_cast<char*>(name.c_str()));
  if (!check) return;
  if (is_address) {
    X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), name.c_str());
  } else {
    SSL_set_hostflags(ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
    SSL_set1_host(ssl, name.c_str());
  }
}

std::string describe_tls_error(TlsStream& stream, const boost::system::error_code& ec) {
  return describe_tls_error(stream.native_handle(), ec);
}

std::string describe_tls_error(SSL* ssl, const boost::system::error_code& ec) {
  if (ec.category() != boost::asio::error::get_ssl_category()) return ec.message();
  // OpenSSL's reason alone: Asio's message adds the library ("... (SSL routines)").
  const auto error = static_cast<unsigned long>(ec.value());
  const char* reason = ERR_reason_error_string(error);
  std::string text = reason != nullptr ? reason : ec.message();
  if (ERR_GET_REASON(error) != SSL_R_CERTIFICATE_VERIFY_FAILED) return text;
  const long verify = SSL_get_verify_result(ssl);
  if (verify != X509_V_OK) {
    text += ": ";
    text += X509_verify_cert_error_string(verify);
  }
  return text;
}

}  // namespace smppd::net
