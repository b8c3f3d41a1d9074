// The HTTP face of smppd (listeners of `type: http`): the design's REST API.
//
//   POST /v1/messages          one message, to one number or a list (api/message)
//   POST /v1/messages/batch    many messages, answered one by one
//   GET  /v1/messages/{id}     a message's state (and history, with storage): its client only
//   GET  /v1/health, /health   200 when ready (an upstream bound, the store writable), else 503
//   GET  /v1/metrics           the Prometheus text (authenticated like the rest)
//
// A request is authenticated as a configured client, by HTTP Basic (system_id and password,
// with the client's allowed_ips) or by a bearer token from the client's `api_keys`; failures
// count with the SMPP binds' (auth::AuthFailureThrottle: answers held longer after each, then
// the address locked: 403), and its
// messages go through the gateway exactly as that client's SMPP messages would: its
// rate_limit (429), its window across all its sessions and requests, routing, a forced
// upstream, the store. The listener's `rate_limit.requests_per_second` (with `burst`) bounds
// requests (429) and `cors` answers preflights and marks allowed origins. Every error is JSON
// {error, detail} (a field error adds `field`).
//
// Answers: a message is accepted (202) once its upstream took every part, or, with storage,
// once it is stored: {message_id, status: "accepted", parts, to} (part_ids when it has more
// than one part: each part is its own message at the SMSC). When `to` is a list, or for a
// batch, 200 with one such entry per recipient (or per message) and counts.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "api/http/server.hpp"
#include "api/message/jasmin_send.hpp"
#include "api/message/message_request.hpp"
#include "auth/clients.hpp"
#include "auth/throttle.hpp"
#include "config/config.hpp"
#include "core/counters.hpp"
#include "extauth/authenticator.hpp"
#include "gateway/gateway.hpp"
#include "limits/token_bucket.hpp"
#include "store/store.hpp"

namespace smppd::rest {

struct HttpApiParts {
  gateway::Gateway& gateway;
  Counters& counters;
  // The clients in effect (a reload replaces them).
  std::function<std::shared_ptr<const auth::ClientDirectory>()> clients;
  // The Prometheus text exposition, handed to the callback (from any thread).
  std::function<void(std::function<void(std::string)>)> metrics;
  store::Store* store = nullptr;  // with storage
  // Failed authentications, shared with the SMPP listeners: guesses over HTTP and SMPP count
  // together, and a locked address is locked for both. Null: not counted (tests).
  std::shared_ptr<auth::AuthFailureThrottle> auth_failures;
  // A GET whose answer does not matter (Jasmin's batch callbacks); empty: not made.
  std::function<void(std::string_view client, std::string url)> notify;
  // Asked for a system_id not among the clients (the `auth` section); null: none is.
  extauth::Authenticator* external = nullptr;
};

// Held by a shared_ptr (work it schedules for later keeps it alive across a reload).
class HttpApi : public std::enable_shared_from_this<HttpApi> {
 public:
  HttpApi(const config::ListenerConfig& listener, HttpApiParts parts);

  // The listener's http::AsyncHandler.
  void operator()(http::Request& request, http::Reply reply);
  struct Dispatch;

  // Why smppd is not ready to take messages, or nothing when it is.
  std::optional<std::string> not_ready() const;

 private:
  // An authenticated caller: the client, and its address as a balancing key.
  struct Caller {
    gateway::Gateway::FaceClient client;
    uint64_t ip_key = 0;
  };
  struct Submission;
  // The caller, or nothing with `refusal` set (and `delay`: how long to hold it, a guesser's
  // failures being answered ever later).
  // `given`: credentials from the request's fields (Kannel's username and password) rather than
  // its Authorization header.
  // A system_id only the external backends know is asked of them off this thread: then
  // nothing, with refusal.status 0 (kAskedExternally), and the request is no longer the
  // caller's: it is handled again from the start once their answer comes, which this call then
  // uses. (A fresh cached answer is used at once.)
  static constexpr unsigned kAskedExternally = 0;
  std::optional<Caller> authenticate(
      const http::Request& r, http::Response& refusal, std::chrono::milliseconds& delay,
      const std::pair<std::string_view, std::string_view>* given = nullptr);
  void handle(http::Request& r, http::Reply reply);
  // This thread handles a request again with the external backends' answer (its listener rate
  // was taken the first time).
  static bool second_pass();
  // Runs `f` as work of its own, not of the request being handled (Jasmin's batch messages:
  // they authenticate each on their own, and none may hand the batch's request over).
  static void outside_request(const std::function<void()>& f);
  // Starts the external backends' check of these credentials for the request being handled
  // (false when there is none to hand over: a deferred Jasmin batch message).
  bool ask_external(std::string_view system_id, std::string_view password,
                    const std::optional<auth::AuthFailureThrottle::Attempt>& attempt);
  // How a submission is answered: the design's JSON, or Kannel's or Jasmin's text.
  enum class Dialect : uint8_t { json, kannel, jasmin };
  // The callback of the messages to one recipient (Kannel's dlr-url is filled per recipient).
  using CallbackOf = std::function<std::shared_ptr<const gateway::CallbackSpec>(
      const api::MessageRequest&, const api::Address& to)>;
  // `deliver`: where the answer goes instead of `reply` (the caller counts it).
  void send(const Caller& caller, std::vector<api::MessageResult> items, bool batch,
            const http::Request& r, http::Reply reply, Dialect dialect = Dialect::json,
            const CallbackOf& callback_of = {},
            std::function<void(http::Response)> deliver = {});
  // Kannel's /cgi-bin/sendsms (compat: [kannel]).
  void kannel_sendsms(http::Request& r, http::Reply reply);
  // Jasmin's HTTP API (/send, /ping, /balance, /rate) and REST API (/secure/...) with
  // compat: [jasmin] (jasmin_api.cpp). False when the path is not one of them.
  bool jasmin(http::Request& r, http::Reply& reply);
  // Jasmin's HTTP API (/send, /balance, /rate) for `r`, answered through `done`.
  void jasmin_http(const http::Request& r, const http::Reply& reply,
                   std::function<void(http::Response)> done);
  // Jasmin's /send with these arguments, answered (its status and text) through `done`.
  void jasmin_send(const http::Request& r, const http::Reply& reply, const api::JasminArgs& args,
                   std::function<void(http::Response)> done);
  // Answers `out` after `delay` (a failed authentication), on the reply's executor.
  void answer_later(http::Reply reply, http::Response out, std::chrono::milliseconds delay);
  http::Response message_status(const Caller& caller, std::string_view id);
  http::Response health() const;
  void cors(const http::Request& r, http::Response& out) const;
  std::optional<http::Response> preflight(const http::Request& r) const;
  // smppd_http_requests_total{listener,code} by the answer's status (found once; shared with
  // the requests still waiting for their answer).
  struct Codes {
    Codes(Counters& counters, const std::string& listener);
    void count(unsigned status) const;
    Counters& counters;
    std::vector<std::pair<unsigned, CounterId>> by_code;
    CounterId other;
  };

  config::ListenerConfig listener_;
  bool kannel_ = false;  // serves Kannel's sendsms
  bool jasmin_ = false;  // serves Jasmin's HTTP API
  HttpApiParts parts_;
  limits::SharedTokenBucket requests_;
  std::atomic<uint16_t> next_reference_{1};
  std::shared_ptr<const Codes> codes_;
};

// The HTTP status for a message refused with `command_status` (what an SMPP client would have
// been answered): 429 for "come back later" (ESME_RTHROTTLED, ESME_RMSGQFUL), 502 when the
// upstream failed or did not answer (ESME_RSYSERR), 422 for the rest (the message itself was
// refused: no route, a bad address, a refusal by the SMSC).
unsigned http_status_of(uint32_t command_status);

}  // namespace smppd::rest
