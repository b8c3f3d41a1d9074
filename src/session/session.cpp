#include "session/session.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include <algorithm>
#include <array>
#include <atomic>

#include "core/log.hpp"
#include "core/log_aggregate.hpp"
#include "net/tls.hpp"
#include "smpp/status.hpp"

namespace smppd::session {

PduCounters::PduCounters(Counters& counters, std::string_view side)
    : counters_(counters),
      pdus_(counters.block("smppd_pdus_total", side, 2 * kCommands,
                           [s = std::string(side)](uint32_t i) {
                             return std::vector<std::pair<std::string, std::string>>{
                                 {"side", s},
                                 {"direction", i < kCommands ? "received" : "sent"},
                                 {"command", std::string(smpp::command_ordinal_name(i % kCommands))}};
                           })),
      errors_(counters.block("smppd_pdu_errors_total", side, 2 * kStatuses,
                             [s = std::string(side)](uint32_t i) {
                               return std::vector<std::pair<std::string, std::string>>{
                                   {"side", s},
                                   {"direction", i < kStatuses ? "received" : "sent"},
                                   {"command_status",
                                    std::string(smpp::status_ordinal_name(i % kStatuses))}};
                             })) {}

namespace {

constexpr auto nothrow = asio::as_tuple(asio::use_awaitable);

std::atomic<uint64_t> next_session_id{1};

// Buffers above this are given back once drained: a burst may grow them, an idle session
// keeps nothing.
constexpr std::size_t kKeepBuffer = 16 * 1024;
constexpr std::size_t kMaxRead = 64 * 1024;
constexpr std::size_t kTlsRead = 16 * 1024;  // one TLS record

void release_if_large(std::vector<uint8_t>& v) {
  if (v.empty() && v.capacity() > kKeepBuffer) std::vector<uint8_t>().swap(v);
}

// The decoded PDU the reader hands to the handler; reused so decoding allocates nothing.
// Sessions of one thread take turns: nothing holds it across a suspension.
thread_local smpp::Pdu rx_pdu;

template <class T>
void copy_bind(const T& b, BindRequest& out) {
  out.system_id.assign(b.system_id.view());
  out.password.assign(b.password.view());
  out.system_type.assign(b.system_type.view());
  out.interface_version = b.interface_version;
  out.addr_ton = b.addr_ton;
  out.addr_npi = b.addr_npi;
  out.address_range.assign(b.address_range.view());
}

template <class Resp>
smpp::Pdu bind_response(uint32_t seq, std::string_view system_id, smpp::Version version) {
  Resp r;
  r.system_id.assign(system_id.substr(0, 15));
  // sc_interface_version tells a 3.4+ ESME that we take TLVs (3.4 §5.3.2.25).
  if (smpp::supports_tlvs(version)) {
    r.tlvs.set(smpp::tlv::sc_interface_version, smpp::interface_version_of(version));
  }
  return smpp::make_pdu(seq, std::move(r));
}

}  // namespace

asio::awaitable<uint32_t> SessionHandler::on_bind(Session&, const BindRequest&) {
  co_return smpp::status::ESME_RBINDFAIL;
}

void SessionList::add(Session* s) {
  s->prev_ = nullptr;
  s->next_ = head_;
  if (head_ != nullptr) head_->prev_ = s;
  head_ = s;
  ++size_;
}

void SessionList::remove(Session* s) {
  if (s->prev_ != nullptr) {
    s->prev_->next_ = s->next_;
  } else if (head_ == s) {
    head_ = s->next_;
  } else {
    return;  // not in this list
  }
  if (s->next_ != nullptr) s->next_->prev_ = s->prev_;
  s->prev_ = s->next_ = nullptr;
  --size_;
}

Session::Session(Transport transport, std::shared_ptr<const SessionSettings> settings,
                 std::unique_ptr<SessionHandler> handler, SessionList* list)
    : transport_(std::move(transport)),
      settings_(std::move(settings)),
      handler_(std::move(handler)),
      list_(list),
      wake_(transport_.socket().get_executor(), Clock::time_point::max()),
      deadline_(transport_.socket().get_executor()),
      resume_(transport_.socket().get_executor(), Clock::time_point::max()),
      window_(settings_->window_size),
      id_(next_session_id.fetch_add(1, std::memory_order_relaxed)) {
  version_ = settings_->versions.empty()
                 ? smpp::Version::v34
                 : *std::max_element(settings_->versions.begin(), settings_->versions.end());
  boost::system::error_code ec;
  remote_ = transport_.socket().remote_endpoint(ec);
  if (list_ != nullptr) list_->add(this);
}

Session::~Session() {
  if (list_ != nullptr) list_->remove(this);
}

asio::any_io_executor Session::executor() {
  return transport_.socket().get_executor();
}

void Session::start() {
  const auto now = Clock::now();
  started_ = last_read_ = last_activity_ = now;
  bind_deadline_ = now + settings_->bind_timeout;
  asio::co_spawn(executor(), read_loop(shared_from_this()), asio::detached);
  asio::co_spawn(executor(), write_loop(shared_from_this()), asio::detached);
  asio::co_spawn(executor(), clock_loop(shared_from_this()), asio::detached);
}

// ---------------------------------------------------------------- reader

asio::awaitable<void> Session::read_loop(std::shared_ptr<Session> /*self*/) {
  if (transport_.is_tls()) {
    const auto type = role() == Role::smsc ? TlsStream::server : TlsStream::client;
    auto [ec] = co_await transport_.tls().async_handshake(type, nothrow);
    if (ec) {
      close("TLS handshake failed: " + net::describe_tls_error(transport_.tls(), ec));
      co_return;
    }
  }
  // Non-blocking before anything is written: the writer tries the socket directly first.
  auto& socket = transport_.socket();
  boost::system::error_code ec;
  socket.non_blocking(true, ec);
  if (phase_ == Phase::starting) phase_ = Phase::open;
  wake_writer();
  while (!ending()) {
    process_input();
    if (ending()) break;
    if (bind_pending_) {
      co_await serve_bind();
      continue;
    }
    if (output_full()) {
      // The peer does not read what we answer: read nothing more from it until it does.
      if (state_ == BindState::open) {
        close(fmt::format("the peer does not read its responses ({} bytes pending before bind)",
                          pending_output()));
        break;
      }
      ++stats_.output_pauses;
      output_blocked_ = true;
      output_blocked_since_ = Clock::now();
      rearm(output_blocked_since_ + settings_->write_timeout);
      reader_paused_ = true;
      co_await resume_.async_wait(nothrow);
      reader_paused_ = false;
      output_blocked_ = false;
      continue;
    }
    if (inbound_ >= settings_->window_size || phase_ == Phase::peer_unbinding) {
      // The handler holds a full window (or the peer unbound and its last requests wait for
      // their answers): read nothing more until it answers.
      reader_paused_ = true;
      co_await resume_.async_wait(nothrow);
      reader_paused_ = false;
      continue;
    }
    std::size_t n = 0;
    if (transport_.is_tls()) {
      const std::size_t at = rx_.size();
      rx_.resize(at + kTlsRead);
      auto [rec, got] = co_await transport_.tls().async_read_some(
          asio::buffer(rx_.data() + at, kTlsRead), nothrow);
      rx_.resize(at + got);
      ec = rec;
      n = got;
    } else {
      if (watched_for_output_ && !writing_) {
        watched_for_output_ = false;
        register_for_reads_only(socket);
      }
      // Wait for readability without a buffer, then read what is there: an idle session keeps
      // no read buffer at all.
      auto [wec] = co_await socket.async_wait(tcp::socket::wait_read, nothrow);
      if (wec) {
        ec = wec;
      } else {
        // Into the thread's scratch buffer (sessions of a thread take turns), then only what
        // came is kept: one system call, no need to ask first how much there is.
        thread_local std::array<uint8_t, kMaxRead> scratch;
        n = socket.read_some(asio::buffer(scratch), ec);
        if (ec == asio::error::would_block || ec == asio::error::try_again) {
          ec.clear();
          continue;
        }
        rx_.insert(rx_.end(), scratch.begin(), scratch.begin() + static_cast<std::ptrdiff_t>(n));
      }
    }
    if (ec) {
      if (is_closed()) break;
      close(ec == asio::error::eof ? "peer closed the connection" : "read failed: " + ec.message());
      break;
    }
    if (n > 0) last_read_ = Clock::now();
  }
}

void Session::process_input() {
  const smpp::DecodeOptions options{settings_->max_pdu_size, true};
  while (may_take_input()) {
    const std::span<const uint8_t> rest(rx_.data() + rx_pos_, rx_.size() - rx_pos_);
    const smpp::Frame frame = smpp::frame_at(rest, settings_->max_pdu_size);
    if (frame.state == smpp::FrameState::need_more) break;
    if (frame.state == smpp::FrameState::invalid) {
      // A bad command_length leaves no way to find the next PDU: nack, then close.
      ++stats_.decode_errors;
      smpp::Pdu nack = smpp::error_response(frame.error);
      write_pdu(nack);
      log::debug("session {}: {}", id_, frame.error.reason);
      close_after_flush(std::string("invalid command_length: ") + std::string(frame.error.reason));
      break;
    }
    const auto bytes = rest.first(frame.length);
    rx_pos_ += frame.length;
    smpp::DecodeError error;
    if (!smpp::decode(bytes, rx_pdu, error, options)) {
      on_decode_error(error);
      continue;
    }
    dispatch(rx_pdu);
  }
  if (rx_pos_ == rx_.size()) {
    rx_.clear();
    rx_pos_ = 0;
    release_if_large(rx_);
  } else if (rx_pos_ > 0 && (rx_pos_ >= rx_.size() / 2 || rx_.size() - rx_pos_ < 4096)) {
    rx_.erase(rx_.begin(), rx_.begin() + static_cast<std::ptrdiff_t>(rx_pos_));
    rx_pos_ = 0;
  }
}

void Session::on_decode_error(const smpp::DecodeError& error) {
  ++stats_.decode_errors;
  log::debug("session {}: cannot decode {:#010x} seq {}: {}", id_, error.command_id,
             error.sequence_number, error.reason);
  if (error.action == smpp::ErrorAction::respond &&
      is_bind(static_cast<smpp::CommandId>(error.command_id))) {
    // A bind with a bad field (a system_id or password too long) is a refused bind: a response
    // without body (3.4 §4.1), then the connection closes, as for any other refused bind.
    write_header_only(smpp::response_of(static_cast<smpp::CommandId>(error.command_id)),
                      error.status, error.sequence_number);
    close_after_flush(std::string("bind refused: malformed bind (") + std::string(error.reason) +
                      ")");
    return;
  }
  switch (error.action) {
    case smpp::ErrorAction::respond:
    case smpp::ErrorAction::generic_nack: {
      smpp::Pdu answer_pdu = smpp::error_response(error);
      write_pdu(answer_pdu);
      break;
    }
    case smpp::ErrorAction::nack_and_close: {
      smpp::Pdu nack = smpp::error_response(error);
      write_pdu(nack);
      close_after_flush(std::string("undecodable stream: ") + std::string(error.reason));
      break;
    }
    case smpp::ErrorAction::bad_response: {
      // A response we cannot read still answers its request: fail that request, if any.
      if (end_probe(error.sequence_number, Outcome::malformed_response, nullptr)) break;
      if (auto entry = window_.take(error.sequence_number)) {
        handler_->on_response(*this, entry->cookie, Outcome::malformed_response, nullptr);
        if (window_wanted_ && !window_.full()) {
          window_wanted_ = false;
          handler_->on_window_open(*this);
        }
        maybe_finish_shutdown();
      }
      break;
    }
  }
}

void Session::answer(smpp::CommandId request, uint32_t seq, uint32_t status) {
  smpp::Pdu r = smpp::make_response(request, seq, status);
  write_pdu(r);
}

void Session::dispatch(smpp::Pdu& pdu) {
  using smpp::CommandId;
  namespace st = smpp::status;
  const CommandId cmd = pdu.command_id();
  const uint32_t seq = pdu.sequence_number;
  if (settings_->pdu_counters != nullptr) {
    settings_->pdu_counters->count(false, static_cast<uint32_t>(cmd), pdu.command_status);
  }
  if (smpp::is_response(cmd)) {
    ++stats_.responses_received;
    on_response_pdu(pdu);
    return;
  }
  ++stats_.requests_received;
  if (cmd == CommandId::enquire_link) {
    if (state_ == BindState::closed) return;
    answer(cmd, seq, st::ESME_ROK);
    return;
  }
  last_activity_ = Clock::now();
  if (is_bind(cmd)) {
    if (role() == Role::smsc && state_ == BindState::open && !shutdown_requested()) {
      bind_request_ = BindRequest{};
      bind_request_.command = cmd;
      std::visit(
          [this](const auto& body) {
            using B = std::decay_t<decltype(body)>;
            if constexpr (std::is_base_of_v<smpp::BindFields, B>) copy_bind(body, bind_request_);
          },
          pdu.body);
      bind_request_seq_ = seq;
      bind_pending_ = true;
      return;
    }
    ++stats_.rejected_state;
    answer(cmd, seq, is_bound(state_) ? st::ESME_RALYBND : st::ESME_RINVBNDSTS);
    return;
  }
  if (cmd == CommandId::unbind) {
    if (is_bound(state_) || state_ == BindState::unbinding) {
      state_ = BindState::unbinding;
      peer_unbind_seq_ = seq;
      if (inbound_ > 0) {
        // Requests received before the unbind are answered before it (a client that
        // pipelines its unbind must not be left without the responses of messages that went
        // out): unbind_resp waits for them, at most unbind_grace. Nothing more is read.
        phase_ = Phase::peer_unbinding;
        peer_unbind_deadline_ = Clock::now() + settings_->unbind_grace;
        rearm(peer_unbind_deadline_);
        return;
      }
      answer_peer_unbind();
      return;
    }
    ++stats_.rejected_state;
    answer(cmd, seq, st::ESME_RINVBNDSTS);
    return;
  }
  if (cmd == CommandId::outbind || cmd == CommandId::alert_notification) {
    // Neither has a response. We do not take outbinds; alert_notification goes to the handler.
    if (cmd == CommandId::alert_notification && peer_may_send(role(), state_, cmd)) {
      handler_->on_request(*this, pdu);
    } else {
      ++stats_.rejected_state;
      log::debug("session {}: ignored {} in state {}", id_, smpp::command_name(cmd),
                 state_name(state_));
    }
    return;
  }
  // A request that crossed our shutdown's unbind is judged by the bind it was sent on: it is
  // refused for the shutdown (come back later), not for the state.
  const BindState sent_on =
      phase_ == Phase::draining && state_ == BindState::unbinding ? bound_before_unbind_ : state_;
  if (!peer_may_send(role(), sent_on, cmd)) {
    ++stats_.rejected_state;
    answer(cmd, seq, st::ESME_RINVBNDSTS);
    return;
  }
  if (phase_ == Phase::draining) {
    // Shutting down: nothing new is taken; the peer sends it again later, elsewhere.
    ++stats_.refused_shutting_down;
    answer(cmd, seq, st::ESME_RTHROTTLED);
    return;
  }
  if (!smpp::command_in_version(cmd, version_)) {
    // The command does not exist in the version this session speaks (data_sm from a 3.3
    // ESME, broadcast_sm before 5.0): the peer sent an id it should not know.
    ++stats_.decode_errors;
    smpp::Pdu nack = smpp::make_pdu(seq, smpp::GenericNack{}, st::ESME_RINVCMDID);
    write_pdu(nack);
    return;
  }
  if (shared_window_ && !shared_window_->try_enter()) {
    // The client's window across all its sessions is full.
    static log::Aggregated full(log::Level::info, "requests beyond a client's window_size");
    full("session {}: {} from '{}' beyond the client's window_size ({} in flight): ESME_RMSGQFUL",
         id_, smpp::command_name(cmd), system_id_,
         shared_window_->in_flight.load(std::memory_order_relaxed));
    ++stats_.refused_shared_window;
    answer(cmd, seq, st::ESME_RMSGQFUL);
    return;
  }
  ++inbound_;
  handler_->on_request(*this, pdu);
}

asio::awaitable<void> Session::serve_bind() {
  namespace st = smpp::status;
  auto self = shared_from_this();
  bind_pending_ = false;
  BindRequest& req = bind_request_;
  const uint32_t seq = bind_request_seq_;
  const smpp::Version asked = smpp::version_from_interface(req.interface_version);
  const auto& served = settings_->versions;
  std::optional<smpp::Version> version;
  if (std::find(served.begin(), served.end(), asked) != served.end()) {
    version = asked;
  } else if (settings_->auto_negotiate) {
    for (smpp::Version v : served) {
      if (v <= asked && (!version || v > *version)) version = v;
    }
  }
  uint32_t status = st::ESME_RBINDFAIL;
  if (version) {
    req.version = *version;
    status = co_await handler_->on_bind(*this, req);
  } else {
    static log::Aggregated refused(log::Level::info, "binds refused for their version");
    refused("session {} from {}: bind refused: version {:#04x} not served", id_,
            remote_.address().to_string(), req.interface_version);
  }
  if (ending()) co_return;
  const smpp::CommandId resp_id = smpp::response_of(req.command);
  if (status != st::ESME_ROK) {
    // A failed bind's response has no body (3.4 §4.1); the connection is closed after it.
    write_header_only(resp_id, status, seq);
    close_after_flush("bind refused");
    co_return;
  }
  version_ = *version;
  system_id_ = req.system_id;
  state_ = state_after_bind(req.command);
  last_activity_ = last_read_ = Clock::now();
  smpp::Pdu resp;
  switch (req.command) {
    case smpp::CommandId::bind_transmitter:
      resp = bind_response<smpp::BindTransmitterResp>(seq, settings_->system_id, version_);
      break;
    case smpp::CommandId::bind_receiver:
      resp = bind_response<smpp::BindReceiverResp>(seq, settings_->system_id, version_);
      break;
    default:
      resp = bind_response<smpp::BindTransceiverResp>(seq, settings_->system_id, version_);
      break;
  }
  write_pdu(resp);
  // The password is not kept past the bind.
  std::fill(req.password.begin(), req.password.end(), '\0');
  req.password.clear();
  rearm(Clock::now());
  handler_->on_bound(*this);
}

void Session::on_response_pdu(smpp::Pdu& pdu) {
  const uint32_t seq = pdu.sequence_number;
  if (seq != 0 && seq == enquire_seq_) {
    enquire_seq_ = 0;
    return;
  }
  if (seq != 0 && seq == unbind_seq_) {
    unbind_seq_ = 0;
    maybe_finish_shutdown();
    return;
  }
  if (seq != 0 && seq == bind_seq_) {
    bind_seq_ = 0;
    if (pdu.command_status == smpp::status::ESME_ROK && smpp::is_response(pdu.command_id()) &&
        pdu.command_id() != smpp::CommandId::generic_nack) {
      std::optional<uint8_t> announced;
      std::visit(
          [&](const auto& body) {
            using B = std::decay_t<decltype(body)>;
            if constexpr (std::is_base_of_v<smpp::BindRespFields, B>) {
              announced = body.tlvs.get(smpp::tlv::sc_interface_version);
              state_ =
                  state_after_bind(smpp::CommandId(static_cast<uint32_t>(B::kId) & 0x7FFFFFFFu));
            }
          },
          pdu.body);
      peer_announced_version_ = announced.has_value();
      version_ = smpp::version_after_bind(version_, announced, settings_->keep_version_unannounced);
      last_activity_ = last_read_ = Clock::now();
      rearm(Clock::now());
      handler_->on_bind_response(*this, pdu);
      if (is_bound(state_)) handler_->on_bound(*this);
    } else {
      handler_->on_bind_response(*this, pdu);
      close_after_flush("bind refused by the peer");
    }
    return;
  }
  if (end_probe(seq, Outcome::response, &pdu)) return;
  auto entry = window_.take(seq);
  if (!entry) {
    if (handler_->on_unmatched_response(*this, pdu)) return;
    ++stats_.unknown_responses;
    log::debug("session {}: {} for no request in flight (seq {})", id_,
               smpp::command_name(pdu.command_id()), seq);
    return;
  }
  handler_->on_response(*this, entry->cookie, Outcome::response, &pdu);
  if (window_wanted_ && !window_.full() && !is_closed()) {
    window_wanted_ = false;
    handler_->on_window_open(*this);
  }
  window_.release_if_empty();
  maybe_finish_shutdown();
}

// ---------------------------------------------------------------- sending

uint32_t Session::take_sequence() {
  last_seq_ = next_sequence(last_seq_);
  return last_seq_;
}

void Session::write_pdu(smpp::Pdu& pdu) {
  if (is_closed()) return;
  if (version_ == smpp::Version::v33)
    stats_.tlvs_stripped += smpp::adapt_for_version(pdu, version_);
  if (settings_->pdu_counters != nullptr) {
    settings_->pdu_counters->count(true, static_cast<uint32_t>(pdu.command_id()),
                                   pdu.command_status);
  }
  smpp::encode(pdu, tx_);
  wake_writer();
}

void Session::write_header_only(smpp::CommandId id, uint32_t status, uint32_t seq) {
  if (is_closed()) return;
  if (settings_->pdu_counters != nullptr) {
    settings_->pdu_counters->count(true, static_cast<uint32_t>(id), status);
  }
  const uint32_t words[4] = {smpp::kHeaderSize, static_cast<uint32_t>(id), status, seq};
  for (uint32_t w : words) {
    tx_.push_back(static_cast<uint8_t>(w >> 24));
    tx_.push_back(static_cast<uint8_t>(w >> 16));
    tx_.push_back(static_cast<uint8_t>(w >> 8));
    tx_.push_back(static_cast<uint8_t>(w));
  }
  wake_writer();
}

bool Session::respond(smpp::Pdu& response) {
  if (ending()) return false;
  if (inbound_ > 0) {
    --inbound_;
    if (shared_window_) shared_window_->leave();
  }
  write_pdu(response);
  if (phase_ == Phase::peer_unbinding) {
    if (inbound_ == 0) answer_peer_unbind();
    return true;
  }
  if (reader_paused_ && inbound_ < settings_->window_size) resume_.cancel();
  maybe_finish_shutdown();
  return true;
}

void Session::answer_peer_unbind() {
  answer(smpp::CommandId::unbind, peer_unbind_seq_, smpp::status::ESME_ROK);
  close_after_flush("unbound by the peer");
}

SendResult Session::send_request(smpp::Pdu& request, uint64_t cookie) {
  if (ending() || shutdown_requested()) return SendResult::closed;
  const smpp::CommandId cmd = request.command_id();
  if (!we_may_send(role(), state_, cmd) || is_bind(cmd)) return SendResult::not_allowed;
  if (window_.full()) {
    window_wanted_ = true;
    return SendResult::window_full;
  }
  const auto now = Clock::now();
  request.sequence_number = take_sequence();
  const auto deadline = now + settings_->response_timeout;
  window_.push(request.sequence_number, cmd, cookie, deadline);
  last_activity_ = now;
  write_pdu(request);
  rearm(deadline);
  return SendResult::sent;
}

SendResult Session::send_probe(smpp::Pdu& request, uint64_t cookie, Duration timeout) {
  if (ending() || shutdown_requested()) return SendResult::closed;
  const smpp::CommandId cmd = request.command_id();
  if (!we_may_send(role(), state_, cmd) || is_bind(cmd)) return SendResult::not_allowed;
  if (probe_seq_ != 0) return SendResult::window_full;
  probe_cookie_ = cookie;
  probe_seq_ = send_control(request, timeout, probe_deadline_);
  return SendResult::sent;
}

bool Session::end_probe(uint32_t seq, Outcome outcome, smpp::Pdu* response) {
  if (probe_seq_ == 0 || (seq != kAnyProbe && seq != probe_seq_)) return false;
  probe_seq_ = 0;
  handler_->on_response(*this, probe_cookie_, outcome, response);
  return true;
}

uint32_t Session::send_control(smpp::Pdu& request, Duration timeout, Clock::time_point& deadline) {
  request.sequence_number = take_sequence();
  deadline = Clock::now() + timeout;
  write_pdu(request);
  rearm(deadline);
  return request.sequence_number;
}

void Session::bind(smpp::Pdu& bind_request, smpp::Version version) {
  if (is_closed() || state_ != BindState::open || bind_seq_ != 0) return;
  version_ = version;
  bind_seq_ = send_control(bind_request, settings_->bind_timeout, bind_deadline_);
}

void Session::wake_writer() {
  if (writer_idle_) wake_.cancel();
}

void Session::rearm(Clock::time_point deadline) {
  if (clock_checking_) {
    // The clock is computing its next deadline right now: make it take this one too.
    rearm_during_check_ = std::min(rearm_during_check_, deadline);
    return;
  }
  if (deadline < armed_) {
    armed_ = deadline;
    deadline_.cancel();
  }
}

void Session::start_write_clock() {
  write_started_ = Clock::now();
  rearm(write_started_ + settings_->write_timeout);
}

asio::awaitable<void> Session::write_loop(std::shared_ptr<Session> /*self*/) {
  while (!is_closed()) {
    if (tx_.empty() || phase_ == Phase::starting) {
      if (phase_ == Phase::flushing) break;  // flushed: finish closing
      writer_idle_ = true;
      co_await wake_.async_wait(nothrow);
      writer_idle_ = false;
      continue;
    }
    tx_.swap(tx_writing_);
    writing_ = true;
    boost::system::error_code ec;
    if (transport_.is_tls()) {
      start_write_clock();
      auto [wec, n] =
          co_await asio::async_write(transport_.tls(), asio::buffer(tx_writing_), nothrow);
      ec = wec;
    } else {
      // Straight into the socket's buffer first (the socket is non-blocking): the reactor gets
      // only what does not fit, and the reader knows that it did.
      auto& socket = transport_.socket();
      std::size_t done = socket.write_some(asio::buffer(tx_writing_), ec);
      if (ec == asio::error::would_block || ec == asio::error::try_again) {
        ec.clear();
        done = 0;
      }
      if (!ec && done < tx_writing_.size()) {
        watched_for_output_ = true;
        start_write_clock();  // a write done at once needs no timeout
        auto [wec, n] = co_await asio::async_write(
            socket, asio::buffer(tx_writing_.data() + done, tx_writing_.size() - done), nothrow);
        ec = wec;
      }
    }
    writing_ = false;
    tx_writing_.clear();
    release_if_large(tx_writing_);
    if (output_blocked_ && !output_full()) resume_.cancel();
    if (ec) {
      if (!is_closed()) close("write failed: " + ec.message());
      break;
    }
  }
  if (phase_ == Phase::flushing) close(close_reason_);
}

// ---------------------------------------------------------------- closing

void Session::share_window(std::shared_ptr<SharedWindow> window) {
  if (is_closed()) return;
  if (shared_window_) shared_window_->leave(inbound_);
  if (window) window->in_flight.fetch_add(inbound_, std::memory_order_relaxed);
  shared_window_ = std::move(window);
}

void Session::close_after_flush(std::string_view reason) {
  if (ending()) return;
  const bool started = phase_ != Phase::starting;
  phase_ = Phase::flushing;
  close_reason_ = reason;
  resume_.cancel();
  // The writer closes once everything queued is written (bounded by the write timeout).
  if (writer_idle_) wake_.cancel();
  if (!started) close(reason);
}

void Session::close(std::string_view reason) {
  if (is_closed()) return;
  phase_ = Phase::closed;
  state_ = BindState::closed;
  const std::string why(reason);
  transport_.close();
  wake_.cancel();
  deadline_.cancel();
  resume_.cancel();
  while (auto entry = window_.pop_oldest()) {
    handler_->on_response(*this, entry->cookie, Outcome::closed, nullptr);
  }
  end_probe(kAnyProbe, Outcome::closed, nullptr);
  if (list_ != nullptr) {
    list_->remove(this);
    list_ = nullptr;
  }
  if (shared_window_) {
    shared_window_->leave(inbound_);  // never answered now
    shared_window_.reset();
  }
  handler_->on_closed(*this, why);
}

void Session::shutdown(Duration grace, std::string_view reason) {
  if (ending() || shutdown_requested()) return;
  if (phase_ == Phase::open) phase_ = Phase::draining;
  close_reason_ = reason;
  shutdown_deadline_ = Clock::now() + grace;
  rearm(shutdown_deadline_);
  if (state_ == BindState::open) {
    close_after_flush(reason);
    return;
  }
  maybe_finish_shutdown();
}

void Session::maybe_finish_shutdown() {
  if (!shutdown_requested() || ending()) return;
  // First every request in flight either way gets its answer (an SMSC that closes on unbind
  // would otherwise take messages whose responses never come back).
  if (inbound_ != 0 || !window_.empty() || phase_ == Phase::peer_unbinding) return;
  if (is_bound(state_)) {
    bound_before_unbind_ = state_;
    state_ = BindState::unbinding;
    smpp::Pdu unbind = smpp::make_pdu(0, smpp::Unbind{});
    const auto left = std::chrono::duration_cast<Duration>(shutdown_deadline_ - Clock::now());
    unbind_seq_ = send_control(unbind, std::clamp(left, Duration(0), settings_->response_timeout),
                               unbind_deadline_);
    return;
  }
  if (unbind_seq_ == 0) close_after_flush(close_reason_);
}

// ---------------------------------------------------------------- clock

asio::awaitable<void> Session::clock_loop(std::shared_ptr<Session> /*self*/) {
  while (!is_closed()) {
    clock_checking_ = true;
    rearm_during_check_ = Clock::time_point::max();
    const Clock::time_point next = std::min(check_deadlines(Clock::now()), rearm_during_check_);
    clock_checking_ = false;
    if (is_closed()) break;
    armed_ = next;
    deadline_.expires_at(next);
    co_await deadline_.async_wait(nothrow);
  }
}

// Each deadline of the session, checked in turn: a check acts when its time has come (closes,
// sends an enquire_link, reports a timeout...) and returns when it wants to run next
// (kNever for no time).
Clock::time_point Session::check_deadlines(Clock::time_point now) {
  using Check = Clock::time_point (Session::*)(Clock::time_point);
  static constexpr Check kChecks[] = {
      &Session::check_bind,         &Session::check_read,        &Session::check_write,
      &Session::check_enquire_link, &Session::check_idle,        &Session::check_requests,
      &Session::check_peer_unbind,  &Session::check_output,      &Session::check_probe,
      &Session::check_unbind,       &Session::check_grace_period};
  Clock::time_point next = kNever;
  for (const Check check : kChecks) {
    next = std::min(next, (this->*check)(now));
    if (is_closed()) break;
  }
  return next;
}

// A deadline: closes with `reason` once passed, else is due at `t`.
Clock::time_point Session::close_at(Clock::time_point t, Clock::time_point now,
                                    std::string_view reason) {
  if (now < t) return t;
  close(reason);
  return kNever;
}

Clock::time_point Session::check_bind(Clock::time_point now) {
  if (role() == Role::smsc && state_ == BindState::open && !ending()) {
    return close_at(bind_deadline_, now, "no bind within the bind timeout");
  }
  if (bind_seq_ != 0)
    return close_at(bind_deadline_, now, "no bind response within the bind timeout");
  return kNever;
}

Clock::time_point Session::check_read(Clock::time_point now) {
  const auto timeout = settings_->read_timeout;
  if (timeout <= 0ms) return kNever;
  return close_at(last_read_ + timeout, now, "nothing received within the read timeout");
}

Clock::time_point Session::check_write(Clock::time_point now) {
  if (!writing_) return kNever;
  return close_at(write_started_ + settings_->write_timeout, now,
                  "write timeout (the peer does not read)");
}

Clock::time_point Session::check_enquire_link(Clock::time_point now) {
  const SessionSettings& s = *settings_;
  if (!is_bound(state_) || s.enquire_link_interval <= 0ms || ending()) return kNever;
  if (enquire_seq_ != 0) {
    return close_at(enquire_deadline_, now, "no enquire_link_resp within the enquire_link timeout");
  }
  const auto t = last_read_ + s.enquire_link_interval;
  if (now < t) return t;
  smpp::Pdu enquire = smpp::make_pdu(0, smpp::EnquireLink{});
  enquire_seq_ = send_control(enquire, s.enquire_link_timeout, enquire_deadline_);
  return enquire_deadline_;
}

Clock::time_point Session::check_idle(Clock::time_point now) {
  const SessionSettings& s = *settings_;
  if (!is_bound(state_) || s.idle_timeout <= 0ms || shutdown_requested()) return kNever;
  const auto t = last_activity_ + s.idle_timeout;
  if (now < t) return t;
  shutdown(s.response_timeout, "idle timeout");
  return kNever;
}

Clock::time_point Session::check_requests(Clock::time_point now) {
  while (const OutboundWindow::Entry* oldest = window_.oldest()) {
    if (oldest->deadline > now) return oldest->deadline;
    const auto entry = window_.pop_oldest();
    handler_->on_response(*this, entry->cookie, Outcome::timeout, nullptr);
    if (is_closed()) return kNever;
    if (window_wanted_ && !window_.full()) {
      window_wanted_ = false;
      handler_->on_window_open(*this);
    }
    maybe_finish_shutdown();
  }
  return kNever;
}

Clock::time_point Session::check_peer_unbind(Clock::time_point now) {
  if (phase_ != Phase::peer_unbinding) return kNever;
  if (now < peer_unbind_deadline_) return peer_unbind_deadline_;
  static log::Aggregated unanswered(log::Level::info, "unbinds answered with requests pending");
  unanswered("session {}: unbound by the peer with {} request(s) still unanswered after {} ms", id_,
             inbound_, settings_->unbind_grace.count());
  answer_peer_unbind();
  return kNever;
}

Clock::time_point Session::check_output(Clock::time_point now) {
  if (!output_blocked_) return kNever;
  const auto t = output_blocked_since_ + settings_->write_timeout;
  if (now < t) return t;
  close(fmt::format("the peer does not read ({} bytes of output pending for {} ms)",
                    pending_output(), settings_->write_timeout.count()));
  return kNever;
}

Clock::time_point Session::check_probe(Clock::time_point now) {
  if (probe_seq_ == 0) return kNever;
  if (now < probe_deadline_) return probe_deadline_;
  end_probe(kAnyProbe, Outcome::timeout, nullptr);
  return kNever;
}

Clock::time_point Session::check_unbind(Clock::time_point now) {
  if (unbind_seq_ == 0) return kNever;
  if (now < unbind_deadline_) return unbind_deadline_;
  unbind_seq_ = 0;  // no unbind_resp: go on closing
  maybe_finish_shutdown();
  return kNever;
}

Clock::time_point Session::check_grace_period(Clock::time_point now) {
  if (!shutdown_requested()) return kNever;
  return close_at(shutdown_deadline_, now, close_reason_ + " (grace period over)");
}

}  // namespace smppd::session
