#include "upstream/probe.hpp"

#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include <algorithm>
#include <array>
#include <cstdio>
#include <exception>
#include <span>

#include "net/tls.hpp"
#include "session/transport.hpp"
#include "smpp/codec.hpp"
#include "smpp/status.hpp"
#include "upstream/bind.hpp"

namespace smppd::upstream {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;
using Duration = std::chrono::milliseconds;

namespace {

constexpr auto nothrow = asio::as_tuple(asio::use_awaitable);

// "ESME_RINVPASWD (0x0000000E, Invalid Password)".
std::string status_text(uint32_t status) {
  char hex[16];
  std::snprintf(hex, sizeof hex, "0x%08X", status);
  return std::string(smpp::status_name(status)) + " (" + hex + ", " +
         std::string(smpp::status_description(status)) + ")";
}

// What a peer sent, for the operator's terminal and for JSON: printable ASCII as it is, every
// other byte (and quote and backslash) as \xNN, since a peer may send anything.
std::string escape_bytes(std::string_view bytes) {
  std::string text;
  for (char c : bytes) {
    const auto b = static_cast<unsigned char>(c);
    if (b >= 0x20 && b < 0x7F && b != '"' && b != '\\') {
      text.push_back(c);
    } else {
      char hex[8];
      std::snprintf(hex, sizeof hex, "\\x%02X", b);
      text += hex;
    }
  }
  return text;
}

std::string in_quotes(std::string_view text) {
  return "\"" + escape_bytes(text) + "\"";
}

// The start of what a peer that does not speak SMPP sent. A TLS record is named: the port of an
// SMSC that expects TLS, probed without `tls:`, may answer the bind with a TLS alert.
std::string describe_foreign_bytes(std::span<const uint8_t> bytes) {
  const std::string_view start(reinterpret_cast<const char*>(bytes.data()),
                               std::min<std::size_t>(bytes.size(), 16));
  std::string text = "its first bytes were " + in_quotes(start);
  if (bytes.size() >= 2 && bytes[0] >= 0x14 && bytes[0] <= 0x17 && bytes[1] == 0x03) {
    text += ", a TLS record: does this port expect TLS (tls: in the upstream)?";
  }
  return text;
}

// A timeout and the setting it comes from, for the failure text.
struct Limit {
  Duration duration;
  std::string setting;    // "timeouts.connect", or "--timeout"
  std::string note = {};  // ", counted from the connect"
  std::string within() const {
    return setting + " (" + std::to_string(duration.count()) + " ms" + note + ")";
  }
};

// Runs `op` until `deadline`: its result, or nullopt when the deadline came first (the operation
// is then cancelled, as in the Asio examples' awaitable race).
template <class T>
asio::awaitable<std::optional<T>> before(Clock::time_point deadline, asio::awaitable<T> op) {
  using namespace asio::experimental::awaitable_operators;
  asio::steady_timer timer(co_await asio::this_coro::executor, deadline);
  auto result = co_await (std::move(op) || timer.async_wait(nothrow));
  if (result.index() == 1) co_return std::nullopt;
  co_return std::get<0>(std::move(result));
}

// Times one step from its construction and records how it ended in the host's report.
class Step {
 public:
  Step(HostProbe& host, std::string name) : host_(host), name_(std::move(name)) {}
  bool pass(std::string detail) { return record(true, std::move(detail)); }
  bool fail(std::string why) { return record(false, std::move(why)); }

 private:
  bool record(bool ok, std::string detail) {
    const double ms = std::chrono::duration<double, std::milli>(Clock::now() - start_).count();
    host_.steps.push_back(ProbeStep{name_, ok, ms, std::move(detail)});
    return ok;
  }
  HostProbe& host_;
  std::string name_;
  Clock::time_point start_ = Clock::now();
};

// The SMPP exchanges of a probe over its connection, one at a time: a request out, then what
// comes in until its response.
class Link {
 public:
  Link(session::Transport& transport, HostProbe& report) : t_(transport), report_(report) {}

  struct Answer {
    std::optional<smpp::Pdu> response;  // the response (or generic_nack) to the request
    std::string failure;                // why there is none
  };

  // Sends `request` and reads until its response, at most until `deadline`; `limit` names the
  // timeout in the failure text.
  asio::awaitable<Answer> call(smpp::Pdu request, Clock::time_point deadline, const Limit& limit) {
    const smpp::CommandId id = request.command_id();
    const std::string awaited(smpp::command_name(smpp::response_of(id)));
    seq_ = seq_ % 0x7FFFFFFF + 1;
    request.sequence_number = seq_;
    if (std::string error = co_await send(request, deadline); !error.empty()) {
      co_return Answer{std::nullopt,
                       "cannot send " + std::string(smpp::command_name(id)) + ": " + error};
    }
    for (;;) {
      while (true) {
        const smpp::Frame frame = smpp::frame_at(rx_);
        if (frame.state == smpp::FrameState::need_more) break;
        if (frame.state == smpp::FrameState::invalid) {
          co_return Answer{std::nullopt, "the SMSC sent what is not SMPP (" +
                                             std::string(frame.error.reason) +
                                             "): " + describe_foreign_bytes(rx_)};
        }
        smpp::Pdu pdu;
        smpp::DecodeError error;
        // Leniently, as the sessions read responses: what matters here is who answered what.
        const bool decoded = smpp::decode(std::span(rx_).first(frame.length), pdu, error,
                                          {smpp::kDefaultMaxPduSize, false});
        rx_.erase(rx_.begin(), rx_.begin() + frame.length);
        if (!decoded) {
          if (error.sequence_number == seq_ &&
              smpp::is_response(smpp::CommandId(error.command_id))) {
            co_return Answer{std::nullopt, "the SMSC's " + awaited + " could not be decoded: " +
                                               std::string(error.reason)};
          }
          continue;  // not ours: the SMSC hears about it from its own timeout
        }
        if (smpp::is_response(pdu.command_id())) {
          // A generic_nack with sequence number 0: the SMSC could not read ours.
          const bool nack = pdu.command_id() == smpp::CommandId::generic_nack;
          if (pdu.sequence_number == seq_ || (nack && pdu.sequence_number == 0)) {
            co_return Answer{std::move(pdu), {}};
          }
          continue;  // an answer to nothing we are waiting for
        }
        if (std::string why = co_await answer_request(pdu, deadline); !why.empty()) {
          co_return Answer{std::nullopt, why};
        }
      }
      std::array<uint8_t, 4096> chunk;
      auto read = [&]() -> asio::awaitable<std::tuple<boost::system::error_code, std::size_t>> {
        if (t_.is_tls()) co_return co_await t_.tls().async_read_some(asio::buffer(chunk), nothrow);
        co_return co_await t_.socket().async_read_some(asio::buffer(chunk), nothrow);
      };
      auto got = co_await before(deadline, read());
      if (!got) co_return Answer{std::nullopt, "no " + awaited + " within " + limit.within()};
      auto [ec, n] = *got;
      if (ec) co_return Answer{std::nullopt, reason(ec) + " before its " + awaited};
      rx_.insert(rx_.end(), chunk.begin(), chunk.begin() + static_cast<std::ptrdiff_t>(n));
    }
  }

  // Why a read or write failed, as the operator needs it.
  std::string reason(const boost::system::error_code& ec) {
    if (ec == asio::error::eof || ec == asio::ssl::error::stream_truncated) {
      return "the SMSC closed the connection";
    }
    if (t_.is_tls()) return "the connection failed: " + net::describe_tls_error(t_.tls(), ec);
    return "the connection failed: " + ec.message();
  }

 private:
  asio::awaitable<std::string> send(const smpp::Pdu& pdu, Clock::time_point deadline) {
    const std::vector<uint8_t> bytes = smpp::encode(pdu);
    auto write = [&]() -> asio::awaitable<std::tuple<boost::system::error_code, std::size_t>> {
      if (t_.is_tls()) co_return co_await asio::async_write(t_.tls(), asio::buffer(bytes), nothrow);
      co_return co_await asio::async_write(t_.socket(), asio::buffer(bytes), nothrow);
    };
    auto written = co_await before(deadline, write());
    if (!written) co_return "the SMSC does not read";
    auto [ec, n] = *written;
    co_return ec ? reason(ec) : std::string();
  }

  // A request the SMSC sent while we wait: answered without taking anything from it. Returns
  // why the wait is over (the SMSC unbound, or the answer could not be sent), else empty.
  asio::awaitable<std::string> answer_request(const smpp::Pdu& request,
                                              Clock::time_point deadline) {
    const smpp::CommandId id = request.command_id();
    if (!smpp::has_response(id)) co_return std::string();  // alert_notification, outbind
    uint32_t status = smpp::status::ESME_ROK;
    if (id != smpp::CommandId::enquire_link && id != smpp::CommandId::unbind) {
      // A receipt or MO: a temporary error, so that the SMSC keeps it for smppd's connections.
      status = smpp::status::ESME_RX_T_APPN;
      ++report_.requests_deferred;
    }
    if (std::string error =
            co_await send(smpp::make_response(id, request.sequence_number, status), deadline);
        !error.empty()) {
      co_return "cannot answer the SMSC's " + std::string(smpp::command_name(id)) + ": " + error;
    }
    if (id == smpp::CommandId::unbind) co_return std::string("the SMSC sent unbind");
    co_return std::string();
  }

  session::Transport& t_;
  HostProbe& report_;
  std::vector<uint8_t> rx_;
  uint32_t seq_ = 0;
};

std::string peer_subject(SSL* ssl) {
  X509* cert = SSL_get0_peer_certificate(ssl);
  if (cert == nullptr) return "(none)";
  std::array<char, 256> text{};
  X509_NAME_oneline(X509_get_subject_name(cert), text.data(), static_cast<int>(text.size()));
  return text.data();
}

// The tls step's finding: "TLSv1.3 TLS_AES_256_GCM_SHA384, server certificate "/CN=localhost"
// verified for localhost against /etc/smppd/ca.crt".
std::string describe_session(session::Transport& t, const config::TlsConfig& tls,
                             const std::string& host, HostProbe& out) {
  SSL* ssl = t.tls().native_handle();
  out.tls_version = SSL_get_version(ssl);
  if (const SSL_CIPHER* cipher = SSL_get_current_cipher(ssl)) {
    out.tls_cipher = SSL_CIPHER_standard_name(cipher);
  }
  std::string text = out.tls_version + " " + out.tls_cipher + ", server certificate " +
                     in_quotes(peer_subject(ssl));
  if (tls.skip_verify) {
    text += " not verified (skip_verify)";
  } else {
    text += " verified for " + (tls.server_name.empty() ? host : tls.server_name) + " against " +
            (tls.ca.empty() ? std::string("the system's trust store") : tls.ca);
  }
  if (!tls.cert.empty()) text += ", client certificate " + tls.cert + " sent";
  return text;
}

// The bind step's verdict on the bind_resp (or generic_nack).
bool judge_bind(const config::UpstreamConfig& u, const smpp::Pdu& reply, Step& step,
                HostProbe& out) {
  const smpp::CommandId sent = make_bind(u.bind).command_id();
  out.bind_status = reply.command_status;
  if (reply.command_id() == smpp::CommandId::generic_nack) {
    return step.fail("generic_nack " + status_text(reply.command_status) +
                     ": the SMSC did not take the " + std::string(smpp::command_name(sent)));
  }
  std::optional<uint8_t> announced;
  bool is_bind_resp = false;
  std::visit(
      [&](const auto& body) {
        if constexpr (std::is_base_of_v<smpp::BindRespFields, std::decay_t<decltype(body)>>) {
          is_bind_resp = true;
          out.smsc_system_id = escape_bytes(body.system_id.view());
          announced = body.tlvs.get(smpp::tlv::sc_interface_version);
        }
      },
      reply.body);
  if (!is_bind_resp) {
    return step.fail("the SMSC answered the " + std::string(smpp::command_name(sent)) + " with " +
                     std::string(smpp::command_name(reply.command_id())));
  }
  if (reply.command_status != smpp::status::ESME_ROK) {
    return step.fail("refused: " + status_text(reply.command_status));
  }
  out.sc_interface_version = announced;
  out.version = smpp::version_after_bind(u.bind.version, announced, u.bind.version_given);
  const std::string version(smpp::version_name(*out.version));
  std::string text = std::string(smpp::command_name(reply.command_id())) + " from SMSC system_id " +
                     "\"" + out.smsc_system_id + "\", ";
  if (announced) {
    char hex[8];
    std::snprintf(hex, sizeof hex, "0x%02X", *announced);
    text += "sc_interface_version " + std::string(hex) + ": SMPP " + version;
  } else if (u.bind.version_given) {
    text += "no sc_interface_version: SMPP " + version + " as bind.version says";
  } else {
    text += "no sc_interface_version: SMPP 3.3 without TLVs (set bind.version to use another)";
  }
  return step.pass(std::move(text));
}

// The verdict on an enquire_link_resp or unbind_resp.
bool judge_simple(const smpp::Pdu& reply, smpp::CommandId expected, Step& step) {
  const std::string name(smpp::command_name(reply.command_id()));
  if (reply.command_id() != expected) {
    return step.fail(name + " " + status_text(reply.command_status));
  }
  if (reply.command_status != smpp::status::ESME_ROK) {
    return step.fail(name + " with " + status_text(reply.command_status));
  }
  return step.pass(name);
}

// One request and its answer as a step: `judge(answer, step)` gives the verdict on an answer;
// no answer fails the step with why. Returns whether the step passed.
template <class Judge>
asio::awaitable<bool> exchange(Link& link, HostProbe& out, std::string name, smpp::Pdu request,
                               Clock::time_point deadline, Limit limit, Judge judge) {
  Step step(out, std::move(name));
  Link::Answer a = co_await link.call(std::move(request), deadline, limit);
  co_return a.response ? judge(*a.response, step) : step.fail(std::move(a.failure));
}

}  // namespace

bool HostProbe::ok() const {
  if (steps.empty()) return false;
  for (const auto& s : steps) {
    if (!s.ok) return false;
  }
  return true;
}

asio::awaitable<HostProbe> probe_host(const config::UpstreamConfig& u, std::size_t index,
                                      asio::ssl::context* tls, const ProbeOptions& options) {
  const config::HostPort& address = u.hosts.at(index).address;
  HostProbe out;
  out.host = address.to_string();
  auto limit = [&](Duration configured, std::string setting) {
    return options.timeout ? Limit{*options.timeout, "--timeout"}
                           : Limit{configured, std::move(setting)};
  };
  const Limit connect_limit = limit(u.timeouts.connect, "timeouts.connect");
  const Limit bind_limit = limit(u.timeouts.bind, "timeouts.bind");
  const Limit enquire_limit = limit(u.enquire_link.timeout, "enquire_link.timeout");
  const Limit unbind_limit = limit(u.timeouts.response, "timeouts.response");
  auto executor = co_await asio::this_coro::executor;

  // Resolve and connect share timeouts.connect, as the pool's connect does.
  const Clock::time_point connect_deadline = Clock::now() + connect_limit.duration;
  tcp::resolver::results_type endpoints;
  {
    Step step(out, "resolve");
    tcp::resolver resolver(executor);
    auto resolved = co_await before(
        connect_deadline,
        resolver.async_resolve(address.host, std::to_string(address.port), nothrow));
    if (!resolved) {
      step.fail("no answer for " + address.host + " within " + connect_limit.within());
      co_return out;
    }
    auto [ec, results] = std::move(*resolved);
    if (ec) {
      step.fail("cannot resolve " + address.host + ": " + ec.message());
      co_return out;
    }
    endpoints = std::move(results);
    std::string found;
    for (const auto& e : endpoints) {
      found += (found.empty() ? "" : ", ") + e.endpoint().address().to_string();
    }
    step.pass(std::move(found));
  }

  tcp::socket socket(executor);
  {
    Step step(out, "connect");
    auto connected =
        co_await before(connect_deadline, asio::async_connect(socket, endpoints, nothrow));
    if (!connected) {
      step.fail("no connection within " + connect_limit.within());
      co_return out;
    }
    auto [ec, endpoint] = *connected;
    if (ec) {
      step.fail(out.host + ": " + ec.message());
      co_return out;
    }
    out.endpoint = endpoint.address().to_string();
    if (endpoint.address().is_v6()) out.endpoint = "[" + out.endpoint + "]";
    out.endpoint += ":" + std::to_string(endpoint.port());
    step.pass(out.endpoint);
  }
  boost::system::error_code ignored;
  socket.set_option(tcp::no_delay(true), ignored);

  // The TLS handshake and the bind share timeouts.bind from here, as a session counts them.
  const Clock::time_point bind_deadline = Clock::now() + bind_limit.duration;
  std::unique_ptr<session::Transport> transport;
  if (tls != nullptr) {
    transport = std::make_unique<session::Transport>(std::move(socket), *tls);
    net::prepare_client_stream(transport->tls(), u.tls, address.host);
    Step step(out, "tls");
    auto shaken = co_await before(
        bind_deadline, transport->tls().async_handshake(asio::ssl::stream_base::client, nothrow));
    if (!shaken) {
      step.fail("no TLS handshake within " + bind_limit.within());
      co_return out;
    }
    if (auto [ec] = *shaken; ec) {
      step.fail(ec == asio::error::eof || ec == asio::ssl::error::stream_truncated
                    ? std::string("the SMSC closed the connection during the handshake")
                    : "TLS handshake failed: " + net::describe_tls_error(transport->tls(), ec));
      transport->close();
      co_return out;
    }
    step.pass(describe_session(*transport, u.tls, address.host, out));
  } else {
    transport = std::make_unique<session::Transport>(std::move(socket));
  }

  Link link(*transport, out);
  const Limit counted{bind_limit.duration, bind_limit.setting, ", counted from the connect"};
  const bool bound = co_await exchange(
      link, out, "bind", make_bind(u.bind), bind_deadline, counted,
      [&](const smpp::Pdu& reply, Step& step) { return judge_bind(u, reply, step, out); });
  if (bound) {
    const bool alive = co_await exchange(
        link, out, "enquire_link", smpp::make_pdu(0, smpp::EnquireLink{}),
        Clock::now() + enquire_limit.duration, enquire_limit, [](const smpp::Pdu& r, Step& step) {
          return judge_simple(r, smpp::CommandId::enquire_link_resp, step);
        });
    if (alive) {
      co_await exchange(link, out, "unbind", smpp::make_pdu(0, smpp::Unbind{}),
                        Clock::now() + unbind_limit.duration, unbind_limit,
                        [](const smpp::Pdu& r, Step& step) {
                          return judge_simple(r, smpp::CommandId::unbind_resp, step);
                        });
    }
  }
  transport->close();
  co_return out;
}

std::vector<HostProbe> probe_upstream(const config::UpstreamConfig& upstream,
                                      asio::ssl::context* tls, const ProbeOptions& options) {
  asio::io_context io;
  std::vector<HostProbe> out(upstream.hosts.size());
  std::exception_ptr failure;
  for (std::size_t i = 0; i < upstream.hosts.size(); ++i) {
    asio::co_spawn(io, probe_host(upstream, i, tls, options),
                   [&out, &failure, i](std::exception_ptr e, HostProbe probe) {
                     if (e) {
                       failure = e;
                     } else {
                       out[i] = std::move(probe);
                     }
                   });
  }
  io.run();
  if (failure) std::rethrow_exception(failure);
  return out;
}

}  // namespace smppd::upstream
