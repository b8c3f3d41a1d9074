#include "net/tls.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <array>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <chrono>
#include <optional>
#include <string>

#include "support/test_certificates.hpp"

using namespace smppd::net;
using smppd::config::ClientAuth;
using smppd::config::TlsConfig;
using ::testing::HasSubstr;
namespace asio = boost::asio;
namespace ssl = boost::asio::ssl;
using tcp = asio::ip::tcp;

namespace {

// What a user would see of one connection: did each side get through, and on what terms.
struct Outcome {
  bool contexts_built = false;
  bool finished = false;             // false: still waiting when the time ran out
  boost::system::error_code server;  // the server's handshake
  boost::system::error_code client;  // the client's handshake, then reading one byte over TLS
  std::string client_reason;         // describe_tls_error of a failed client handshake
  std::string version;               // as the client sees it: "TLSv1.3"
  std::string cipher;                // IANA name, as the client sees it
  std::string client_cert_subject;   // the certificate the server received, if any
  std::string sni;                   // the server name the server received, if any
  bool ok() const { return contexts_built && finished && !server && !client; }
  bool failed() const { return contexts_built && finished && server && client; }
};

std::ostream& operator<<(std::ostream& os, const Outcome& o) {
  return os << "{built " << o.contexts_built << ", finished " << o.finished << ", server '"
            << o.server.message() << "', client '" << o.client.message() << "', " << o.version
            << " " << o.cipher << "}";
}

std::string subject_of(SSL* ssl) {
  X509* cert = SSL_get0_peer_certificate(ssl);
  if (cert == nullptr) return {};
  std::array<char, 256> text{};
  X509_NAME_oneline(X509_get_subject_name(cert), text.data(), static_cast<int>(text.size()));
  return text.data();
}

// One connection over loopback: the server accepts, handshakes and sends one byte; the client
// connects to `host`'s name (the address is always 127.0.0.1), handshakes and reads that byte.
// A client handshake that succeeds is not enough: in TLS 1.3 the server judges the client's
// certificate after the client has finished, and says so with an alert on the first read.
Outcome connect(const TlsConfig& server_tls, const TlsConfig& client_tls,
                const std::string& host = "localhost") {
  Outcome out;
  TlsContextResult server_ctx = make_server_tls_context(server_tls);
  TlsContextResult client_ctx = make_client_tls_context(client_tls);
  if (!server_ctx.ok()) ADD_FAILURE() << "server context: " << server_ctx.error;
  if (!client_ctx.ok()) ADD_FAILURE() << "client context: " << client_ctx.error;
  if (!server_ctx.ok() || !client_ctx.ok()) return out;
  out.contexts_built = true;

  asio::io_context io;
  tcp::acceptor acceptor(io, {asio::ip::address_v4::loopback(), 0});
  TlsStream server(io, *server_ctx.context);
  TlsStream client(io, *client_ctx.context);
  prepare_client_stream(client, client_tls, host);
  const char greeting = '!';
  char received = 0;

  acceptor.async_accept(server.next_layer(), [&](boost::system::error_code ec) {
    if (ec) {
      out.server = ec;
      return;
    }
    server.async_handshake(ssl::stream_base::server, [&](boost::system::error_code hs) {
      out.server = hs;
      if (hs) {
        server.next_layer().close();  // the alert is out; the client must not wait for more
        return;
      }
      out.client_cert_subject = subject_of(server.native_handle());
      if (const char* name = SSL_get_servername(server.native_handle(), TLSEXT_NAMETYPE_host_name))
        out.sni = name;
      asio::async_write(server, asio::buffer(&greeting, 1), [](auto, auto) {});
    });
  });
  client.next_layer().async_connect(acceptor.local_endpoint(), [&](boost::system::error_code ec) {
    if (ec) {
      out.client = ec;
      return;
    }
    client.async_handshake(ssl::stream_base::client, [&](boost::system::error_code hs) {
      if (hs) {
        out.client = hs;
        out.client_reason = describe_tls_error(client, hs);
        client.next_layer().close();
        return;
      }
      out.version = SSL_get_version(client.native_handle());
      out.cipher = SSL_CIPHER_standard_name(SSL_get_current_cipher(client.native_handle()));
      asio::async_read(client, asio::buffer(&received, 1),
                       [&](boost::system::error_code rd, std::size_t) {
                         out.client = rd;
                         if (!rd && received != greeting)
                           out.client = asio::error::invalid_argument;
                       });
    });
  });
  io.run_for(std::chrono::seconds(3));
  out.finished = io.stopped();
  return out;
}

// Certificates made by the openssl command once per test process (ctest runs each test in its
// own process) in a fresh directory under /tmp, removed afterwards:
//   ca       the test CA
//   server   CN=localhost, SAN DNS:localhost and IP:127.0.0.1, issued by ca
//   client   CN=client-1, issued by ca
//   other    a self-signed CA the tests do not trust: an unknown issuer, a key that matches
//            neither server nor client, a client certificate from nobody we know
class TlsTest : public ::testing::Test {
 public:
  static void SetUpTestSuite() {
    certs_.emplace("smppd-tls-test");
    const std::string ec = smppd::testing::TestCertificates::kNewKey;
    const std::string ca_ext =
        " -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign";
    const std::string signed_by_ca = " -CA " + path("ca.crt") + " -CAkey " + path("ca.key") +
                                     " -addext basicConstraints=critical,CA:FALSE";
    certs_->make({
        "openssl req -x509" + ec + " -keyout " + path("ca.key") + " -out " + path("ca.crt") +
            " -subj /CN=smppd-test-ca" + ca_ext,
        "openssl req -x509" + ec + " -keyout " + path("server.key") + " -out " +
            path("server.crt") + " -subj /CN=localhost" + signed_by_ca +
            " -addext subjectAltName=DNS:localhost,IP:127.0.0.1" +
            " -addext extendedKeyUsage=serverAuth",
        "openssl req -x509" + ec + " -keyout " + path("client.key") + " -out " +
            path("client.crt") + " -subj /CN=client-1" + signed_by_ca +
            " -addext extendedKeyUsage=clientAuth",
        "openssl req -x509" + ec + " -keyout " + path("other.key") + " -out " + path("other.crt") +
            " -subj /CN=smppd-other-ca" + ca_ext,
        "openssl pkey -in " + path("server.key") + " -aes128 -passout pass:secret -out " +
            path("encrypted.key"),
    });
  }

  static void TearDownTestSuite() { certs_.reset(); }

  static std::string path(const std::string& file) { return certs_->path(file); }

 protected:
  void SetUp() override { ASSERT_TRUE(certs_->error().empty()) << certs_->error(); }

  static TlsConfig server_tls() {
    TlsConfig t;
    t.enabled = true;
    t.cert = path("server.crt");
    t.key = path("server.key");
    return t;
  }
  static TlsConfig mtls_server(ClientAuth auth) {
    TlsConfig t = server_tls();
    t.ca = path("ca.crt");
    t.client_auth = auth;
    return t;
  }
  // Trusts the test CA.
  static TlsConfig client_tls() {
    TlsConfig t;
    t.enabled = true;
    t.ca = path("ca.crt");
    return t;
  }
  static TlsConfig client_with_cert(const std::string& name) {
    TlsConfig t = client_tls();
    t.cert = path(name + ".crt");
    t.key = path(name + ".key");
    return t;
  }

 private:
  static inline std::optional<smppd::testing::TestCertificates> certs_;
};

// ---- handshakes ----

TEST_F(TlsTest, ClientTrustingTheCaConnects) {
  const Outcome o = connect(server_tls(), client_tls());
  EXPECT_TRUE(o.ok()) << o;
  EXPECT_EQ(o.version, "TLSv1.3");
  EXPECT_EQ(o.sni, "localhost");
  EXPECT_EQ(o.client_cert_subject, "");
}

TEST_F(TlsTest, ClientConnectingByAddressIsCheckedAgainstIpSanAndSendsNoSni) {
  const Outcome o = connect(server_tls(), client_tls(), "127.0.0.1");
  EXPECT_TRUE(o.ok()) << o;
  EXPECT_EQ(o.sni, "");
}

// ---- client_auth ----

TEST_F(TlsTest, RequireRejectsClientWithoutCertificate) {
  const Outcome o = connect(mtls_server(ClientAuth::require), client_tls());
  EXPECT_TRUE(o.failed()) << o;
}

TEST_F(TlsTest, RequireAdmitsClientWithCertificateFromCa) {
  const Outcome o = connect(mtls_server(ClientAuth::require), client_with_cert("client"));
  EXPECT_TRUE(o.ok()) << o;
  EXPECT_EQ(o.client_cert_subject, "/CN=client-1");
}

TEST_F(TlsTest, RequireRejectsClientCertificateFromUnknownIssuer) {
  const Outcome o = connect(mtls_server(ClientAuth::require), client_with_cert("other"));
  EXPECT_TRUE(o.failed()) << o;
}

TEST_F(TlsTest, RequireRejectsClientWithoutCertificateOverTls12) {
  TlsConfig client = client_tls();
  client.max_version = "1.2";
  const Outcome o = connect(mtls_server(ClientAuth::require), client);
  EXPECT_TRUE(o.failed()) << o;
}

TEST_F(TlsTest, RequestAdmitsClientWithoutCertificate) {
  const Outcome o = connect(mtls_server(ClientAuth::request), client_tls());
  EXPECT_TRUE(o.ok()) << o;
  EXPECT_EQ(o.client_cert_subject, "");
}

TEST_F(TlsTest, RequestReceivesClientCertificate) {
  const Outcome o = connect(mtls_server(ClientAuth::request), client_with_cert("client"));
  EXPECT_TRUE(o.ok()) << o;
  EXPECT_EQ(o.client_cert_subject, "/CN=client-1");
}

TEST_F(TlsTest, NoneDoesNotAskForClientCertificate) {
  const Outcome o = connect(server_tls(), client_with_cert("client"));
  EXPECT_TRUE(o.ok()) << o;
  EXPECT_EQ(o.client_cert_subject, "");
}

// ---- protocol versions ----

TEST_F(TlsTest, ServerMin13RejectsClientMax12) {
  TlsConfig server = server_tls();
  server.min_version = "1.3";
  TlsConfig client = client_tls();
  EXPECT_EQ(connect(server, client).version, "TLSv1.3");
  client.max_version = "1.2";
  const Outcome o = connect(server, client);
  EXPECT_TRUE(o.failed()) << o;
}

TEST_F(TlsTest, MaxVersion12Negotiates12) {
  TlsConfig server = server_tls();
  server.max_version = "1.2";
  const Outcome o = connect(server, client_tls());
  EXPECT_TRUE(o.ok()) << o;
  EXPECT_EQ(o.version, "TLSv1.2");
}

// OpenSSL 3 refuses TLS 1.0 at its default security level; min_version 1.0 must still mean it.
TEST_F(TlsTest, MinVersion10AdmitsTls10Client) {
  TlsConfig client = client_tls();
  client.min_version = "1.0";
  client.max_version = "1.0";
  EXPECT_TRUE(connect(server_tls(), client).failed());
  TlsConfig server = server_tls();
  server.min_version = "1.0";
  const Outcome o = connect(server, client);
  EXPECT_TRUE(o.ok()) << o;
  EXPECT_EQ(o.version, "TLSv1");
}

TEST_F(TlsTest, InvalidVersionsAreErrors) {
  TlsConfig t = server_tls();
  t.min_version = "1.4";
  EXPECT_EQ(make_server_tls_context(t).error,
            "tls: invalid min_version '1.4' (expected 1.0 ... 1.3)");
  t = client_tls();
  t.min_version = "1.3";
  t.max_version = "1.2";
  const TlsContextResult r = make_client_tls_context(t);
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.error, "tls: min_version 1.3 is above max_version 1.2");
}

// ---- cipher suites ----

TEST_F(TlsTest, Tls12SuiteByIanaNameIsTheOneNegotiated) {
  TlsConfig server = server_tls();
  server.max_version = "1.2";
  // Not OpenSSL's first choice, and its OpenSSL name (ECDHE-ECDSA-CHACHA20-POLY1305) differs.
  const std::string suite = "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256";
  EXPECT_NE(connect(server, client_tls()).cipher, suite);
  server.cipher_suites = {suite};
  const Outcome o = connect(server, client_tls());
  EXPECT_TRUE(o.ok()) << o;
  EXPECT_EQ(o.version, "TLSv1.2");
  EXPECT_EQ(o.cipher, suite);
}

TEST_F(TlsTest, Tls12SuiteByOpenSslNameIsAccepted) {
  TlsConfig server = server_tls();
  server.max_version = "1.2";
  server.cipher_suites = {"ECDHE-ECDSA-AES128-GCM-SHA256"};
  const Outcome o = connect(server, client_tls());
  EXPECT_TRUE(o.ok()) << o;
  EXPECT_EQ(o.cipher, "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256");
}

TEST_F(TlsTest, Tls13SuiteIsTheOneNegotiated) {
  TlsConfig server = server_tls();
  const std::string suite = "TLS_AES_128_GCM_SHA256";
  EXPECT_NE(connect(server, client_tls()).cipher, suite);
  // The TLS 1.2 suite restricts 1.2 only: 1.3 is still negotiated, with the 1.3 suite named.
  server.cipher_suites = {"TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384", suite};
  const Outcome o = connect(server, client_tls());
  EXPECT_TRUE(o.ok()) << o;
  EXPECT_EQ(o.version, "TLSv1.3");
  EXPECT_EQ(o.cipher, suite);
}

// CCM suites are off by default, so they are not in OpenSSL's enabled list: the name is still
// known, and both sides naming it agree on it.
TEST_F(TlsTest, Tls13SuiteOffByDefaultCanBeEnabled) {
  TlsConfig server = server_tls();
  TlsConfig client = client_tls();
  server.cipher_suites = client.cipher_suites = {"TLS_AES_128_CCM_SHA256"};
  const Outcome o = connect(server, client);
  EXPECT_TRUE(o.ok()) << o;
  EXPECT_EQ(o.cipher, "TLS_AES_128_CCM_SHA256");
}

TEST_F(TlsTest, UnknownCipherSuiteIsAnErrorNamingIt) {
  TlsConfig t = server_tls();
  t.cipher_suites = {"TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384", "TLS_ECDHE_RSA_WITH_AES_512_GCM"};
  TlsContextResult r = make_server_tls_context(t);
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.error, "tls: unknown cipher suite 'TLS_ECDHE_RSA_WITH_AES_512_GCM'");
  t = client_tls();
  t.cipher_suites = {"AES512-SHA"};
  r = make_client_tls_context(t);
  EXPECT_EQ(r.error, "tls: unknown cipher suite 'AES512-SHA'");
}

// ---- files ----

TEST_F(TlsTest, MissingCertificateIsAnErrorNamingThePath) {
  TlsConfig t = server_tls();
  t.cert = path("missing.crt");
  const TlsContextResult r = make_server_tls_context(t);
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.error,
            "tls: cannot read certificate " + path("missing.crt") + ": No such file or directory");
}

TEST_F(TlsTest, MissingKeyAndCaAreErrorsNamingThePath) {
  TlsConfig t = server_tls();
  t.key = path("missing.key");
  EXPECT_EQ(make_server_tls_context(t).error,
            "tls: cannot read private key " + path("missing.key") + ": No such file or directory");
  t = mtls_server(ClientAuth::require);
  t.ca = path("missing-ca.crt");
  EXPECT_THAT(make_server_tls_context(t).error,
              HasSubstr("tls: cannot read CA certificates " + path("missing-ca.crt") + ": "));
  t = client_tls();
  t.ca = path("missing-ca.crt");
  EXPECT_THAT(make_client_tls_context(t).error, HasSubstr(path("missing-ca.crt")));
}

TEST_F(TlsTest, FilesWithoutPemContentAreErrors) {
  TlsConfig t = server_tls();
  t.cert = path("openssl.log");
  const TlsContextResult r = make_server_tls_context(t);
  EXPECT_FALSE(r.ok());
  EXPECT_THAT(r.error, HasSubstr("tls: cannot read certificate " + path("openssl.log") + ": "));
  t = server_tls();
  t.key = path("openssl.log");
  EXPECT_EQ(make_server_tls_context(t).error,
            "tls: cannot read private key " + path("openssl.log") + ": no PEM private key in it");
}

TEST_F(TlsTest, KeyNotMatchingCertificateIsAnError) {
  TlsConfig t = server_tls();
  t.key = path("other.key");
  TlsContextResult r = make_server_tls_context(t);
  EXPECT_FALSE(r.ok());
  EXPECT_THAT(r.error, HasSubstr("tls: private key " + path("other.key") +
                                 " does not match certificate " + path("server.crt")));
  t = client_with_cert("client");
  t.key = path("server.key");
  r = make_client_tls_context(t);
  EXPECT_THAT(r.error, HasSubstr("does not match certificate " + path("client.crt")));
}

TEST_F(TlsTest, EncryptedKeyIsAnErrorNotAPrompt) {
  TlsConfig t = server_tls();
  t.key = path("encrypted.key");
  const TlsContextResult r = make_server_tls_context(t);
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.error, "tls: cannot read private key " + path("encrypted.key") +
                         ": it is encrypted, and pass phrases are not supported");
}

TEST_F(TlsTest, IncompleteSettingsAreErrors) {
  TlsConfig t = server_tls();
  t.key.clear();
  EXPECT_EQ(make_server_tls_context(t).error, "tls: a server needs cert and key");
  t = server_tls();
  t.client_auth = ClientAuth::require;
  EXPECT_FALSE(make_server_tls_context(t).ok());
  t = client_with_cert("client");
  t.key.clear();
  EXPECT_EQ(make_client_tls_context(t).error, "tls: a client certificate needs both cert and key");
}

// ---- verifying the server ----

TEST_F(TlsTest, UnknownIssuerFailsUnlessSkipVerify) {
  TlsConfig client = client_tls();
  client.ca = path("other.crt");
  Outcome o = connect(server_tls(), client);
  EXPECT_TRUE(o.failed()) << o;
  EXPECT_EQ(o.client_reason, "certificate verify failed: unable to get local issuer certificate");
  client.skip_verify = true;
  o = connect(server_tls(), client);
  EXPECT_TRUE(o.ok()) << o;
}

TEST_F(TlsTest, SystemTrustStoreDoesNotKnowTheTestCa) {
  TlsConfig client = client_tls();
  client.ca.clear();
  const Outcome o = connect(server_tls(), client);
  EXPECT_TRUE(o.failed()) << o;
}

TEST_F(TlsTest, ServerNameMismatchFailsUnlessSkipVerify) {
  TlsConfig client = client_tls();
  client.server_name = "smsc.example.com";
  Outcome o = connect(server_tls(), client);
  EXPECT_TRUE(o.failed()) << o;
  EXPECT_EQ(o.client_reason, "certificate verify failed: hostname mismatch");
  client.skip_verify = true;
  o = connect(server_tls(), client);
  EXPECT_TRUE(o.ok()) << o;
  EXPECT_EQ(o.sni, "smsc.example.com");  // still sent
}

TEST_F(TlsTest, SelfSignedServerCertificateIsNamedAsSuch) {
  TlsConfig server;
  server.enabled = true;
  server.cert = path("other.crt");
  server.key = path("other.key");
  const Outcome o = connect(server, client_tls());
  EXPECT_TRUE(o.failed()) << o;
  EXPECT_EQ(o.client_reason, "certificate verify failed: self-signed certificate");
}

TEST_F(TlsTest, ServerNameOverridesHost) {
  TlsConfig client = client_tls();
  EXPECT_TRUE(connect(server_tls(), client, "smsc.example.com").failed());
  client.server_name = "localhost";
  const Outcome o = connect(server_tls(), client, "smsc.example.com");
  EXPECT_TRUE(o.ok()) << o;
  EXPECT_EQ(o.sni, "localhost");
}

// ---- what every context carries ----

TEST_F(TlsTest, ContextsReleaseIdleBuffersAndRefuseRenegotiation) {
  const TlsContextResult server = make_server_tls_context(server_tls());
  const TlsContextResult client = make_client_tls_context(client_tls());
  ASSERT_TRUE(server.ok()) << server.error;
  ASSERT_TRUE(client.ok()) << client.error;
  for (SSL_CTX* ctx : {server.context->native_handle(), client.context->native_handle()}) {
    EXPECT_NE(SSL_CTX_get_mode(ctx) & SSL_MODE_RELEASE_BUFFERS, 0u);
    EXPECT_NE(SSL_CTX_get_options(ctx) & SSL_OP_NO_RENEGOTIATION, 0u);
  }
  EXPECT_EQ(SSL_CTX_get_session_cache_mode(server.context->native_handle()), SSL_SESS_CACHE_OFF);
}

}  // namespace
