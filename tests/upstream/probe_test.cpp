// The probe of `smppd upstream test` against real peers on loopback: the built-in SMSC simulator
// (plain, and over TLS with a certificate made at test time), a port nobody listens on, a port
// that accepts and never answers, and a bare SMSC that announces no version.
#include "upstream/probe.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>

#include <array>
#include <optional>
#include <thread>

#include "bare_smsc.hpp"
#include "net/tls.hpp"
#include "sim/simulator.hpp"
#include "smpp/status.hpp"
#include "support/test_certificates.hpp"

namespace smppd::upstream {
namespace {

using namespace std::chrono_literals;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;
using tcp = asio::ip::tcp;

constexpr const char* kPassword = "s3cr3t";

std::vector<std::string> names(const HostProbe& h) {
  std::vector<std::string> out;
  for (const auto& s : h.steps) out.push_back(s.name);
  return out;
}

std::string dump(const HostProbe& h) {
  std::string out = h.host + "\n";
  for (const auto& s : h.steps) {
    out += "  " + s.name + (s.ok ? " ok " : " FAILED ") + std::to_string(s.ms) + " ms " + s.detail +
           "\n";
  }
  return out;
}

class ProbeTest : public ::testing::Test, protected testing::IoThread {
 private:
  struct ScriptedPeer {
    ScriptedPeer(asio::io_context& io, std::vector<uint8_t> r)
        : acceptor(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)),
          peer(io),
          reply(std::move(r)) {}
    tcp::acceptor acceptor;
    tcp::socket peer;
    std::array<uint8_t, 4096> received{};
    std::vector<uint8_t> reply;
  };
  std::optional<ScriptedPeer> scripted_;  // on the io thread only

 protected:
  std::vector<std::unique_ptr<sim::Simulator>> sims;
  std::vector<std::shared_ptr<testing::BareSmsc>> bare;

  ~ProbeTest() override {
    on_io([&] {
      scripted_.reset();
      for (auto& s : sims) s->stop(100ms);
      for (auto& b : bare) b->stop();
    });
    // Until the simulators' sessions and the bare SMSCs' loops have let go.
    const auto until = std::chrono::steady_clock::now() + 5s;
    for (bool ended = false; !ended && std::chrono::steady_clock::now() < until;) {
      on_io([&] {
        ended = true;
        for (auto& s : sims) ended = ended && s->session_count() == 0;
        for (auto& b : bare) ended = ended && b.use_count() == 1;
      });
      if (!ended) std::this_thread::sleep_for(5ms);
    }
    on_io([&] {
      sims.clear();
      bare.clear();
    });
    stop_io();
  }

  // A simulator on 127.0.0.1 that binds only smppd / kPassword.
  uint16_t start_sim(sim::SimulatorOptions options = {}) {
    options.credentials = {{"smppd", kPassword}};
    uint16_t port = 0;
    on_io([&] {
      sims.push_back(std::make_unique<sim::Simulator>(io, config::SimulatorConfig{}, options));
      port = sims.back()->listen(tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)).port();
    });
    return port;
  }

  // A peer on 127.0.0.1 that accepts one connection, reads what comes first (the bind) and
  // answers it with `reply`: an SMSC that does not answer as it should.
  uint16_t start_scripted_peer(std::vector<uint8_t> reply) {
    uint16_t port = 0;
    on_io([&] {
      scripted_.emplace(io, std::move(reply));
      port = scripted_->acceptor.local_endpoint().port();
      scripted_->acceptor.async_accept(scripted_->peer, [this](boost::system::error_code ec) {
        if (ec) return;
        scripted_->peer.async_read_some(
            asio::buffer(scripted_->received), [this](boost::system::error_code rec, std::size_t) {
              if (rec) return;
              asio::async_write(scripted_->peer, asio::buffer(scripted_->reply), [](auto, auto) {});
            });
      });
    });
    return port;
  }

  static config::UpstreamConfig upstream(uint16_t port) {
    config::UpstreamConfig u;
    u.name = "carrier";
    config::HostConfig h;
    h.address = config::HostPort{"127.0.0.1", port};
    u.hosts = {h};
    u.bind.system_id = "smppd";
    u.bind.password = kPassword;
    return u;
  }
};

TEST_F(ProbeTest, EveryStepOfAGoodHostIsTimed) {
  const auto hosts = probe_upstream(upstream(start_sim()), nullptr);
  ASSERT_EQ(hosts.size(), 1u);
  const HostProbe& h = hosts[0];
  EXPECT_TRUE(h.ok()) << dump(h);
  EXPECT_THAT(names(h), ElementsAre("resolve", "connect", "bind", "enquire_link", "unbind"));
  for (const auto& s : h.steps) {
    EXPECT_TRUE(s.ok) << dump(h);
    EXPECT_GE(s.ms, 0.0);
    EXPECT_LT(s.ms, 5000.0);
    EXPECT_THAT(s.detail, Not(HasSubstr(kPassword)));
  }
  EXPECT_EQ(h.steps[0].detail, "127.0.0.1");
  EXPECT_EQ(h.endpoint, h.host);
  EXPECT_EQ(h.bind_status, smpp::status::ESME_ROK);
  EXPECT_EQ(h.smsc_system_id, "smppd-sim");
  EXPECT_EQ(h.sc_interface_version, 0x34);
  EXPECT_EQ(h.version, smpp::Version::v34);
  EXPECT_EQ(h.steps[2].detail,
            "bind_transceiver_resp from SMSC system_id \"smppd-sim\", sc_interface_version "
            "0x34: SMPP 3.4");
  EXPECT_EQ(h.steps[3].detail, "enquire_link_resp");
  EXPECT_EQ(h.steps[4].detail, "unbind_resp");
}

TEST_F(ProbeTest, AnMoWaitingAtTheSmscIsLeftThereWithATemporaryError) {
  const uint16_t port = start_sim();
  // Waiting for a receiver: the simulator sends it to the probe's bind.
  on_io([&] { ASSERT_TRUE(sims[0]->send_mo("258841234567", "12345", "hello")); });
  const HostProbe h = probe_upstream(upstream(port), nullptr).at(0);
  EXPECT_TRUE(h.ok()) << dump(h);
  EXPECT_EQ(h.requests_deferred, 1u);
  sim::SimulatorStats stats;
  on_io([&] { stats = sims[0]->stats(); });
  EXPECT_EQ(stats.mos_sent, 1u);
  EXPECT_EQ(stats.deliveries_acked, 0u);  // never ESME_ROK: smppd's own connections take it
  EXPECT_EQ(stats.deliveries_rejected, 1u);
}

TEST_F(ProbeTest, WhatTheSmscCallsItselfIsShownPrintable) {
  sim::SimulatorOptions options;
  options.system_id = "sim\x01\xFF\"";
  const HostProbe h = probe_upstream(upstream(start_sim(options)), nullptr).at(0);
  EXPECT_TRUE(h.ok()) << dump(h);
  EXPECT_EQ(h.smsc_system_id, "sim\\x01\\xFF\\x22");
  EXPECT_THAT(h.steps[2].detail, HasSubstr("SMSC system_id \"sim\\x01\\xFF\\x22\""));
}

TEST_F(ProbeTest, AWrongPasswordFailsTheBindWithTheSmscsStatus) {
  config::UpstreamConfig u = upstream(start_sim());
  u.bind.password = "wrong";
  u.bind.type = config::BindType::transmitter;
  const HostProbe h = probe_upstream(u, nullptr).at(0);
  EXPECT_FALSE(h.ok());
  EXPECT_THAT(names(h), ElementsAre("resolve", "connect", "bind")) << dump(h);
  EXPECT_FALSE(h.steps.back().ok);
  EXPECT_EQ(h.steps.back().detail, "refused: ESME_RINVPASWD (0x0000000E, Invalid Password)");
  EXPECT_EQ(h.bind_status, smpp::status::ESME_RINVPASWD);
  EXPECT_FALSE(h.version);
}

TEST_F(ProbeTest, APortNobodyListensOnIsRefused) {
  // Bound and never listening: the port stays this test's, and a connect to it is refused.
  std::optional<tcp::socket> holder;
  uint16_t port = 0;
  on_io([&] {
    holder.emplace(io);
    holder->open(tcp::v4());
    holder->bind(tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    port = holder->local_endpoint().port();
  });
  const HostProbe h = probe_upstream(upstream(port), nullptr).at(0);
  EXPECT_THAT(names(h), ElementsAre("resolve", "connect")) << dump(h);
  EXPECT_FALSE(h.steps.back().ok);
  EXPECT_EQ(h.steps.back().detail, "127.0.0.1:" + std::to_string(port) + ": Connection refused");
  on_io([&] { holder.reset(); });
}

TEST_F(ProbeTest, APortThatAcceptsAndNeverAnswersTimesOutTheBind) {
  // The kernel completes the TCP handshake for a listener that never accepts.
  std::optional<tcp::acceptor> silent;
  uint16_t port = 0;
  on_io([&] {
    silent.emplace(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    port = silent->local_endpoint().port();
  });
  config::UpstreamConfig u = upstream(port);
  u.timeouts.bind = 300ms;
  HostProbe h = probe_upstream(u, nullptr).at(0);
  EXPECT_THAT(names(h), ElementsAre("resolve", "connect", "bind")) << dump(h);
  EXPECT_TRUE(h.steps[1].ok);
  EXPECT_FALSE(h.steps[2].ok);
  EXPECT_EQ(h.steps[2].detail,
            "no bind_transceiver_resp within timeouts.bind (300 ms, counted from the connect)");
  EXPECT_GE(h.steps[2].ms, 290.0);
  EXPECT_LT(h.steps[2].ms, 3000.0);

  // --timeout replaces the upstream's timeouts, and says so.
  h = probe_upstream(u, nullptr, ProbeOptions{100ms}).at(0);
  EXPECT_EQ(h.steps.back().detail,
            "no bind_transceiver_resp within --timeout (100 ms, counted from the connect)");
  on_io([&] { silent.reset(); });
}

TEST_F(ProbeTest, APeerThatDoesNotSpeakSmppIsShownByItsFirstBytes) {
  // A TLS server's alert to a plain bind, as some answer a port probed without `tls:`.
  const uint16_t port = start_scripted_peer({0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x46});
  const HostProbe h = probe_upstream(upstream(port), nullptr).at(0);
  EXPECT_THAT(names(h), ElementsAre("resolve", "connect", "bind")) << dump(h);
  EXPECT_EQ(h.steps.back().detail,
            "the SMSC sent what is not SMPP (command_length above the maximum): its first bytes "
            "were \"\\x15\\x03\\x03\\x00\\x02\\x02F\", a TLS record: does this port expect TLS "
            "(tls: in the upstream)?");
}

TEST_F(ProbeTest, AGenericNackToTheBindIsNamed) {
  // An SMSC that does not know bind_transceiver (a 3.3 one) answers it with generic_nack
  // ESME_RINVCMDID, sequence number 1 (the bind's).
  const uint16_t port = start_scripted_peer({0, 0, 0, 16, 0x80, 0, 0, 0, 0, 0, 0, 3, 0, 0, 0, 1});
  const HostProbe h = probe_upstream(upstream(port), nullptr).at(0);
  EXPECT_THAT(names(h), ElementsAre("resolve", "connect", "bind")) << dump(h);
  EXPECT_EQ(h.steps.back().detail,
            "generic_nack ESME_RINVCMDID (0x00000003, Invalid Command ID): the SMSC did not take "
            "the bind_transceiver");
  EXPECT_EQ(h.bind_status, smpp::status::ESME_RINVCMDID);
}

TEST_F(ProbeTest, AnSmscThatAnnouncesNoVersionIsTakenAs33UnlessBindVersionIsWritten) {
  uint16_t port = 0;
  on_io([&] {
    bare.push_back(std::make_shared<testing::BareSmsc>(io));
    bare.back()->start();
    port = bare.back()->port();
  });
  config::UpstreamConfig u = upstream(port);
  HostProbe h = probe_upstream(u, nullptr).at(0);
  EXPECT_TRUE(h.ok()) << dump(h);
  EXPECT_EQ(h.version, smpp::Version::v33);
  EXPECT_FALSE(h.sc_interface_version);
  EXPECT_THAT(h.steps[2].detail, HasSubstr("no sc_interface_version: SMPP 3.3 without TLVs"));

  u.bind.version_given = true;
  h = probe_upstream(u, nullptr).at(0);
  EXPECT_EQ(h.version, smpp::Version::v34);
  EXPECT_THAT(h.steps[2].detail,
              HasSubstr("no sc_interface_version: SMPP 3.4 as bind.version says"));
}

// The simulator over TLS with a self-signed certificate for localhost and 127.0.0.1, made at
// test time.
class ProbeTlsTest : public ProbeTest {
 public:
  static void SetUpTestSuite() {
    certs_.emplace("smppd-probe-test");
    certs_->make({"openssl req -x509" + std::string(smppd::testing::TestCertificates::kNewKey) +
                  " -keyout " + certs_->path("smsc.key") + " -out " + certs_->path("smsc.crt") +
                  " -subj /CN=localhost -addext subjectAltName=DNS:localhost,IP:127.0.0.1"});
  }
  static void TearDownTestSuite() { certs_.reset(); }

 protected:
  void SetUp() override { ASSERT_TRUE(certs_->error().empty()) << certs_->error(); }

  uint16_t start_tls_sim() {
    config::TlsConfig server;
    server.enabled = true;
    server.cert = certs_->path("smsc.crt");
    server.key = certs_->path("smsc.key");
    net::TlsContextResult made = net::make_server_tls_context(server);
    EXPECT_TRUE(made.ok()) << made.error;
    sim::SimulatorOptions options;
    options.tls = made.context;
    return start_sim(options);
  }

  static HostProbe probe(const config::UpstreamConfig& u) {
    net::TlsContextResult made = net::make_client_tls_context(u.tls);
    EXPECT_TRUE(made.ok()) << made.error;
    return probe_upstream(u, made.context.get()).at(0);
  }

  static inline std::optional<smppd::testing::TestCertificates> certs_;
};

TEST_F(ProbeTlsTest, ACertificateTheProbeDoesNotTrustFailsTheHandshakeSayingWhy) {
  config::UpstreamConfig u = upstream(start_tls_sim());
  u.tls.enabled = true;  // no ca: the system's trust store, which does not know this one
  const HostProbe h = probe(u);
  EXPECT_THAT(names(h), ElementsAre("resolve", "connect", "tls")) << dump(h);
  EXPECT_FALSE(h.steps.back().ok);
  EXPECT_EQ(h.steps.back().detail,
            "TLS handshake failed: certificate verify failed: self-signed certificate");
}

TEST_F(ProbeTlsTest, ACertificateTrustedThroughCaBindsOverTls) {
  config::UpstreamConfig u = upstream(start_tls_sim());
  u.tls.enabled = true;
  u.tls.ca = certs_->path("smsc.crt");
  const HostProbe h = probe(u);
  EXPECT_TRUE(h.ok()) << dump(h);
  EXPECT_THAT(names(h), ElementsAre("resolve", "connect", "tls", "bind", "enquire_link", "unbind"));
  EXPECT_EQ(h.tls_version, "TLSv1.3");
  EXPECT_THAT(h.steps[2].detail, HasSubstr("server certificate \"/CN=localhost\" verified for "
                                           "127.0.0.1 against " +
                                           certs_->path("smsc.crt")));
  EXPECT_EQ(h.smsc_system_id, "smppd-sim");
}

TEST_F(ProbeTlsTest, AHostNameTheCertificateDoesNotNameFailsTheHandshake) {
  config::UpstreamConfig u = upstream(start_tls_sim());
  u.tls.enabled = true;
  u.tls.ca = certs_->path("smsc.crt");
  u.tls.server_name = "smsc.example.com";
  const HostProbe h = probe(u);
  EXPECT_EQ(h.steps.back().detail,
            "TLS handshake failed: certificate verify failed: hostname mismatch")
      << dump(h);
}

TEST_F(ProbeTlsTest, APlainProbeOfATlsPortSeesTheSmscClose) {
  // What an operator sees who forgot `tls:`: the SMSC takes the bind for a broken ClientHello.
  config::UpstreamConfig u = upstream(start_tls_sim());
  u.timeouts.bind = 500ms;
  const HostProbe h = probe_upstream(u, nullptr).at(0);
  EXPECT_THAT(names(h), ElementsAre("resolve", "connect", "bind")) << dump(h);
  EXPECT_FALSE(h.steps.back().ok);
  EXPECT_EQ(h.steps.back().detail,
            "the SMSC closed the connection before its bind_transceiver_resp");
}

}  // namespace
}  // namespace smppd::upstream
