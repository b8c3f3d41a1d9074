#include "api/rest/http_api.hpp"

#include <boost/asio/post.hpp>
#include <boost/json.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <chrono>

#include "api/http/request_parts.hpp"
#include "api/message/message_build.hpp"
#include "api/rest/message_view.hpp"
#include "core/log.hpp"
#include "gateway/client_limits.hpp"
#include "gateway/message_ids.hpp"
#include "gateway/store_forward.hpp"
#include "net/endpoint.hpp"
#include "smpp/status.hpp"
#include "api/message/kannel_post.hpp"
#include "api/message/kannel_sendsms.hpp"
#include "tracing/trace_context.hpp"

namespace smppd::rest {

namespace json = boost::json;
namespace st = smpp::status;

namespace {

// Recipients (messages to build) in one request, all its messages and lists together.
constexpr std::size_t kMaxRecipientsPerRequest = 10'000;

constexpr unsigned kCodes[] = {200, 202, 204, 400, 401, 403, 404, 405, 413,
                               415, 422, 429, 431, 500, 502, 503, 504};

using http::json_response;

http::Response field_error(const api::FieldError& e) {
  return json_response(
      400, json::object{{"error", "invalid request"}, {"field", e.field}, {"detail", e.detail}});
}

uint64_t balance_key(const net::AddressBytes& p) {
  uint64_t h = 1469598103934665603ull;  // FNV-1a: the client's address for ip_hash
  for (std::size_t i = 0; i < p.size; ++i) h = (h ^ p.bytes[i]) * 1099511628211ull;
  return h;
}

std::string shown(const api::Address& a) {
  return a.ton == api::ton::kInternational ? "+" + a.value : a.value;
}

bool starts_with_ci(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size()) return false;
  for (std::size_t i = 0; i < prefix.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(s[i])) != prefix[i]) return false;
  }
  return true;
}

}  // namespace

unsigned http_status_of(uint32_t command_status) {
  switch (command_status) {
    case st::ESME_ROK:
      return 202;
    case st::ESME_RTHROTTLED:
    case st::ESME_RMSGQFUL:
      return 429;
    case st::ESME_RSYSERR:
      return 502;
    default:
      return 422;
  }
}


// The messages of one request on their way: each part is submitted with its index as sequence
// number, and answered (on the request's connection thread) through `on_response`. Kept alive
// by itself until every part is answered; the gateway answers each exactly once.
struct HttpApi::Submission : std::enable_shared_from_this<Submission> {
  explicit Submission(http::Reply r) : reply(std::move(r)) {}

  struct Item {
    bool list = false;  // `to` was a list: an entry per recipient
    std::optional<api::FieldError> error;
    std::size_t first_recipient = 0;
    std::size_t recipients = 0;
    std::optional<std::string> client_ref;
  };
  struct Recipient {
    std::string to;
    std::optional<api::FieldError> error;  // could not be built
    std::size_t first_part = 0;
    std::size_t parts = 0;  // PDUs
    std::size_t sms = 0;    // what the handset receives
  };
  struct Part {
    std::size_t recipient = 0;
    uint32_t status = st::ESME_ROK;
    std::string id;
    bool windowed = false;  // counted in the client's window
    std::shared_ptr<const gateway::CallbackSpec> callback;  // what its receipts call, if any
  };

  http::Reply reply;
  // Where the answer goes instead of `reply` (a Jasmin REST call answers what its /send said,
  // a batch's message its callback): the outer request counts it.
  std::function<void(http::Response)> deliver;
  bool batch = false;
  Dialect dialect = Dialect::json;
  std::vector<Item> items;
  std::vector<Recipient> recipients;
  std::vector<Part> parts;
  std::vector<smpp::Pdu> pdus;  // parts' requests, until submitted
  std::size_t remaining = 0;
  std::shared_ptr<Submission> self;
  std::shared_ptr<session::SharedWindow> window;
  std::vector<std::pair<std::string, std::string>> headers;  // CORS, for the answer
  std::shared_ptr<const Codes> codes;

  static void on_response(void* target, smpp::Pdu& response) {
    static_cast<Submission*>(target)->answered(response);
  }

  void answered(smpp::Pdu& response) {
    const std::size_t i = response.sequence_number;
    if (i >= parts.size() || remaining == 0) return;
    Part& p = parts[i];
    p.status = response.command_status;
    if (p.status == st::ESME_ROK) p.id = std::string(gateway::response_message_id(response));
    if (p.windowed) window->leave();
    p.windowed = false;
    if (--remaining == 0) finish();
  }

  json::object entry(const Recipient& r, const Item& item, uint32_t& first_failure,
                     std::size_t& accepted, std::size_t& refused) const {
    json::object o{{"to", r.to}};
    if (r.error) {
      o["status"] = "refused";
      o["error"] = "invalid request";
      o["field"] = r.error->field;
      o["detail"] = r.error->detail;
      ++refused;
      if (first_failure == st::ESME_ROK) first_failure = st::ESME_RINVPARLEN;
      return o;
    }
    std::size_t ok = 0;
    json::array ids;
    json::array failures;
    for (std::size_t k = 0; k < r.parts; ++k) {
      const Part& p = parts[r.first_part + k];
      if (p.status == st::ESME_ROK) {
        ++ok;
        ids.push_back(json::value(p.id));
      } else {
        ids.push_back(nullptr);
        failures.push_back(json::value(smpp::status_name(p.status)));
        if (first_failure == st::ESME_ROK) first_failure = p.status;
      }
    }
    if (ok > 0) o["message_id"] = parts[r.first_part].status == st::ESME_ROK
                                      ? json::value(parts[r.first_part].id)
                                      : ids[0];
    o["status"] = ok == r.parts ? "accepted" : ok == 0 ? "refused" : "partially accepted";
    o["parts"] = r.sms;
    if (r.parts > 1) o["part_ids"] = std::move(ids);
    if (ok < r.parts) {
      o["command_status"] = failures.front();
      if (failures.size() > 1) o["command_statuses"] = std::move(failures);
    }
    if (item.client_ref) o["client_ref"] = *item.client_ref;
    (ok == r.parts ? accepted : refused) += 1;
    return o;
  }

  // Kannel's answer reflects its first recipient's first part, as Kannel's does (the first
  // acknowledgement): accepted, refused for good (403), or to try again (503).
  http::Response kannel_answer() const {
    http::Response out;
    out.content_type = "text/html";
    out.headers = {{"Pragma", "no-cache"}, {"Cache-Control", "no-cache"}};
    const Recipient& first = recipients.front();
    if (first.error) {
      out.status = 400;
      out.body = first.error->detail + ", rejected";
      return out;
    }
    const uint32_t status = parts[first.first_part].status;
    if (status == st::ESME_ROK) {
      out.status = 202;
      out.body = api::kKannelAccepted;
    } else if (http_status_of(status) == 422) {
      out.status = 403;
      out.body = api::kKannelNotRoutable;
    } else {
      out.status = 503;
      out.body = api::kKannelTemporary;
    }
    return out;
  }

  // Jasmin's /send answer: `Success "<id>"` with the id its DLRs will name (the last part's:
  // only the last part asks for a receipt, as in Jasmin), or its `Error "..."`.
  http::Response jasmin_answer() const {
    http::Response out;
    out.content_type = "text/plain";
    const Recipient& first = recipients.front();
    if (first.error) {
      out.status = 400;
      out.body = "Error \"" + first.error->detail + "\"";
      return out;
    }
    uint32_t failure = st::ESME_ROK;
    for (std::size_t k = 0; k < first.parts && failure == st::ESME_ROK; ++k) {
      failure = parts[first.first_part + k].status;
    }
    if (failure == st::ESME_ROK) {
      out.body = api::jasmin_success(parts[first.first_part + first.parts - 1].id);
    } else if (failure == st::ESME_RINVDSTADR) {
      out.status = 412;
      out.body = "Error \"No route found\"";
    } else if (failure == st::ESME_RTHROTTLED || failure == st::ESME_RMSGQFUL) {
      out.status = 403;
      out.body = "Error \"User throughput exceeded\"";
    } else {
      out.status = 500;
      out.body = "Error \"Cannot send submit_sm, check SMPPClientManagerPB log file for details\"";
    }
    return out;
  }

  void send_answer(http::Response out) {
    for (auto& h : headers) out.headers.push_back(std::move(h));
    if (deliver) {
      deliver(std::move(out));
    } else {
      codes->count(out.status);
      reply(std::move(out));
    }
    self.reset();  // the last reference may be this one
  }

  void finish() {
    if (dialect == Dialect::kannel) return send_answer(kannel_answer());
    if (dialect == Dialect::jasmin) return send_answer(jasmin_answer());
    uint32_t first_failure = st::ESME_ROK;
    std::size_t accepted = 0;
    std::size_t refused = 0;
    http::Response out;
    if (!batch && items.size() == 1 && !items[0].list && items[0].recipients == 1) {
      json::object o = entry(recipients[items[0].first_recipient], items[0], first_failure,
                             accepted, refused);
      const unsigned code = http_status_of(first_failure);
      if (first_failure != st::ESME_ROK) {
        o["error"] = code == 429   ? "come back later"
                     : code == 502 ? "upstream failed"
                                   : "refused";
        o["detail"] = fmt::format("{} ({:#x})", smpp::status_name(first_failure), first_failure);
      }
      out = json_response(code, o);
      if (code == 429) out.headers.emplace_back("Retry-After", "1");
    } else {
      json::array results;
      for (const Item& item : items) {
        if (item.error) {
          results.push_back(json::object{{"status", "refused"},
                                         {"error", "invalid request"},
                                         {"field", item.error->field},
                                         {"detail", item.error->detail}});
          ++refused;
          continue;
        }
        if (!item.list) {
          results.push_back(entry(recipients[item.first_recipient], item, first_failure, accepted,
                                  refused));
          continue;
        }
        json::array list;
        for (std::size_t k = 0; k < item.recipients; ++k) {
          list.push_back(entry(recipients[item.first_recipient + k], item, first_failure, accepted,
                               refused));
        }
        if (batch) {
          results.push_back(json::object{{"recipients", std::move(list)}});
        } else {
          for (auto& e : list) results.push_back(std::move(e));
        }
      }
      out = json_response(200, json::object{{"results", std::move(results)},
                                          {"accepted", accepted},
                                          {"refused", refused}});
    }
    send_answer(std::move(out));
  }
};

HttpApi::Codes::Codes(Counters& c, const std::string& listener)
    : counters(c),
      other(c.counter("smppd_http_requests_total", {{"listener", listener}, {"code", "other"}})) {
  for (unsigned code : kCodes) {
    const std::string text = std::to_string(code);
    by_code.emplace_back(
        code, c.counter("smppd_http_requests_total", {{"listener", listener}, {"code", text}}));
  }
}

void HttpApi::Codes::count(unsigned status) const {
  for (const auto& [code, id] : by_code) {
    if (code == status) {
      counters.add(id);
      return;
    }
  }
  counters.add(other);
}

HttpApi::HttpApi(const config::ListenerConfig& listener, HttpApiParts parts)
    : listener_(listener),
      parts_(std::move(parts)),
      requests_(listener.rate_limit.requests_per_second, listener.rate_limit.burst),
      codes_(std::make_shared<const Codes>(parts_.counters, listener_.name)) {
  for (config::HttpCompat c : listener_.compat) {
    if (c == config::HttpCompat::kannel) kannel_ = true;
    if (c == config::HttpCompat::jasmin) jasmin_ = true;
  }
}

std::optional<std::string> HttpApi::not_ready() const {
  bool bound = false;
  for (upstream::Pool* p : parts_.gateway.pools()) bound = bound || p->healthy();
  if (!bound) return std::string("no upstream is bound and healthy");
  if (gateway::StoreForward* sf = parts_.gateway.store_forward()) {
    if (!sf->writable()) return std::string("the store cannot be written");
  }
  return std::nullopt;
}

http::Response HttpApi::health() const {
  if (auto why = not_ready()) {
    return json_response(503, json::object{{"status", "not ready"}, {"detail", *why}});
  }
  return json_response(200, json::object{{"status", "ready"}});
}

// The request operator() is handling on this thread, and on its second pass the external
// backends' answer for its credentials.
struct HttpApi::Dispatch {
  http::Request* top = nullptr;  // moved from once handed to the backends
  const http::Reply* reply = nullptr;
  const std::string* system_id = nullptr;
  const std::string* password = nullptr;
  const extauth::Answer* answer = nullptr;
  // The failure throttle's attempt begun on the first pass: counted while the backends are
  // asked, reported on the second pass with their answer.
  std::optional<auth::AuthFailureThrottle::Attempt> attempt;
  bool handed_over = false;
};

namespace {
thread_local HttpApi::Dispatch* tl_dispatch = nullptr;

// Sets the thread's dispatch for one call.
struct DispatchScope {
  explicit DispatchScope(HttpApi::Dispatch* d) : outer(std::exchange(tl_dispatch, d)) {}
  ~DispatchScope() { tl_dispatch = outer; }
  DispatchScope(const DispatchScope&) = delete;
  DispatchScope& operator=(const DispatchScope&) = delete;
  HttpApi::Dispatch* outer;
};
}  // namespace

bool HttpApi::second_pass() { return tl_dispatch != nullptr && tl_dispatch->answer != nullptr; }

void HttpApi::outside_request(const std::function<void()>& f) {
  DispatchScope none(nullptr);
  f();
}

bool HttpApi::ask_external(std::string_view system_id, std::string_view password,
                           const std::optional<auth::AuthFailureThrottle::Attempt>& attempt) {
  Dispatch* d = tl_dispatch;
  if (d == nullptr || d->top == nullptr || d->answer != nullptr || d->handed_over) return false;
  d->handed_over = true;
  std::string sid(system_id);
  std::string pw(password);
  auto held = std::make_shared<http::Request>(std::move(*d->top));
  extauth::Request q{sid, pw, held->remote.address(), config::BindType::transmitter,
                     listener_.name};
  parts_.external->authenticate(
      std::move(q), [self = shared_from_this(), held, reply = *d->reply, sid = std::move(sid),
                     pw = std::move(pw), attempt](extauth::Answer a) mutable {
        const auto ex = reply.executor();
        boost::asio::post(ex, [self, held, reply = std::move(reply), sid = std::move(sid),
                        pw = std::move(pw), a = std::move(a), attempt] {
          Dispatch again{held.get(), &reply, &sid, &pw, &a, attempt, false};
          DispatchScope scope(&again);
          self->handle(*held, reply);
        });
      });
  return true;
}

std::optional<HttpApi::Caller> HttpApi::authenticate(
    const http::Request& r, http::Response& refusal, std::chrono::milliseconds& delay,
    const std::pair<std::string_view, std::string_view>* given) {
  const std::string_view header = r.header("authorization");
  const auto directory = parts_.clients();
  const net::AddressBytes peer = net::address_bytes(r.remote.address());
  auth::AuthFailureThrottle* throttle = parts_.auth_failures.get();
  const auto now = std::chrono::steady_clock::now();
  using Verdict = auth::AuthFailureThrottle::Verdict;
  auth::AuthResult result;
  std::string name;  // the system_id tried (Basic), for the throttle
  auth::AuthFailureThrottle::Attempt attempt;
  bool tried = false;
  bool backend_failed = false;
  // An external client's settings (the result points into them).
  std::shared_ptr<const config::ClientConfig> external;
  auto is_external = [&](std::string_view system_id) {
    return parts_.external != nullptr && !system_id.empty() &&
           directory->find(system_id) == nullptr && parts_.external->enabled();
  };
  // The external backends' answer for these credentials: this pass's (the second), a fresh
  // cached one, or asked now (nullopt: the request is handed over).
  auto check_external = [&](std::string_view system_id,
                            std::string_view password) -> std::optional<auth::AuthResult> {
    namespace rs = auth::reason;
    std::optional<extauth::Answer> a;
    if (Dispatch* d = tl_dispatch; d != nullptr && d->answer != nullptr &&
                                   *d->system_id == system_id && *d->password == password) {
      a = *d->answer;
    } else {
      a = parts_.external->cached(extauth::Request{std::string(system_id), std::string(password),
                                                   r.remote.address(),
                                                   config::BindType::transmitter,
                                                   listener_.name});
      if (!a) {
        if (ask_external(system_id, password,
                         throttle != nullptr ? std::optional(attempt) : std::nullopt)) {
          return std::nullopt;
        }
        a = extauth::Answer{};  // nothing to hand over: as if the backends failed
        a->reason = extauth::kBackendFailed;
      }
    }
    auth::AuthResult out;
    if (a->ok()) {
      external = a->client;
      return auth::ClientDirectory::admit(*external, peer.view(), config::BindType::transmitter);
    }
    out.reason = a->reason;
    out.command_status = smpp::status::ESME_RBINDFAIL;
    if (a->reason == rs::kWrongPassword) out.command_status = smpp::status::ESME_RINVPASWD;
    if (a->reason == rs::kUnknownSystemId) out.command_status = smpp::status::ESME_RINVSYSID;
    backend_failed = a->reason == extauth::kBackendFailed;
    return out;
  };
  auto begin = [&](std::string_view system_id) {
    const config::ClientConfig* known = directory->find(system_id);
    if (throttle == nullptr) return true;
    if (Dispatch* d = tl_dispatch; d != nullptr && d->answer != nullptr && d->attempt &&
                                   *d->system_id == system_id) {
      // Begun on the first pass (it proceeded); reported once, by this call.
      attempt = *std::exchange(d->attempt, std::nullopt);
      return true;
    }
    attempt = throttle->begin_attempt(
        peer.view(), system_id, known != nullptr || is_external(system_id),
        known != nullptr && auth::ClientDirectory::pins_address(*known, peer.view()), now);
    if (attempt.verdict == Verdict::peer_locked) {
      refusal = http::json_error(403, "locked", "too many failed authentications from this address");
      return false;
    }
    if (attempt.verdict == Verdict::client_locked) {
      refusal = http::json_error(401, "authentication failed", "wrong credentials");
      delay = attempt.reply_delay;
      return false;
    }
    return true;
  };
  // Configured clients here; others asked of the external backends. False: handed over.
  auto check = [&](std::string_view system_id, std::string_view password) {
    if (!is_external(system_id)) {
      result = directory->authenticate(system_id, password, peer.view(),
                                       config::BindType::transmitter);
      return true;
    }
    auto checked = check_external(system_id, password);
    if (!checked) return false;  // the attempt is reported on the second pass, with the answer
    result = *checked;
    return true;
  };
  if (given != nullptr) {
    if (begin(given->first)) {
      tried = true;
      name = given->first;
      if (!check(given->first, given->second)) {
        refusal.status = kAskedExternally;
        return std::nullopt;
      }
    }
  } else if (starts_with_ci(header, "basic ")) {
    auto credentials = http::basic_credentials(header);
    if (!credentials) {
      refusal = http::json_error(401, "authentication failed", "malformed Basic credentials");
    } else if (begin(credentials->first)) {
      tried = true;
      name = credentials->first;
      if (!check(credentials->first, credentials->second)) {
        refusal.status = kAskedExternally;
        return std::nullopt;
      }
    }
  } else if (starts_with_ci(header, "bearer ")) {
    std::string_view token = header.substr(7);
    while (!token.empty() && token.front() == ' ') token.remove_prefix(1);
    if (begin("")) {  // counted against the address only: a key names no client before it matches
      tried = true;
      result = directory->authenticate_key(token, peer.view(), config::BindType::transmitter);
    }
  } else {
    refusal = http::json_error(401, "authentication required",
                               "send HTTP Basic credentials (system_id and password) or a bearer "
                               "api key");
  }
  if (tried && throttle != nullptr) {
    // A right password (or key) is no guess, even when the client may not send from here.
    if (backend_failed) {
      throttle->forget_attempt(peer.view(), name, attempt);
    } else if (result.ok() || result.reason == auth::reason::kBindTypeNotAllowed) {
      throttle->record_success(peer.view(), result.client ? result.client->system_id : name,
                               attempt, now);
    } else {
      throttle->record_failure(peer.view(), name, attempt,
                               result.reason == auth::reason::kWrongPassword && !name.empty(), now);
      delay = attempt.reply_delay;
    }
  }
  if (result.ok()) {
    if (external) return Caller{parts_.gateway.face_client(external), balance_key(peer)};
    return Caller{parts_.gateway.face_client(result.client->system_id), balance_key(peer)};
  }
  if (refusal.status == 200 && backend_failed) {
    refusal = http::json_error(503, "authentication unavailable",
                               "the authentication backends did not answer: try again later");
    refusal.headers.emplace_back("Retry-After", "5");
  } else if (refusal.status == 200) {
    if (result.reason == auth::reason::kClientIpNotAllowed ||
        result.reason == auth::reason::kBindTypeNotAllowed) {
      refusal = http::json_error(403, "forbidden", std::string(result.reason));
    } else {
      // Unknown client or wrong password alike: nothing said about which.
      refusal = http::json_error(401, "authentication failed", "wrong credentials");
    }
  }
  if (refusal.status == 401) {
    refusal.headers.emplace_back("WWW-Authenticate", "Basic realm=\"smppd\"");
  }
  return std::nullopt;
}

void HttpApi::cors(const http::Request& r, http::Response& out) const {
  if (!listener_.cors.enabled) return;
  const std::string_view origin = r.header("origin");
  if (origin.empty()) return;
  const auto& allowed = listener_.cors.allowed_origins;
  const bool any = std::find(allowed.begin(), allowed.end(), "*") != allowed.end();
  if (!any && std::find(allowed.begin(), allowed.end(), origin) == allowed.end()) return;
  out.headers.emplace_back("Access-Control-Allow-Origin", any ? "*" : std::string(origin));
  if (!any) out.headers.emplace_back("Vary", "Origin");
}

std::optional<http::Response> HttpApi::preflight(const http::Request& r) const {
  if (r.method != "OPTIONS") return std::nullopt;
  const std::string_view origin = r.header("origin");
  const std::string_view method = r.header("access-control-request-method");
  if (!listener_.cors.enabled || origin.empty() || method.empty()) {
    http::Response out = json_response(204, json::object{});
    out.body.clear();
    out.headers.emplace_back("Allow", "GET, POST, OPTIONS");
    return out;
  }
  const auto& origins = listener_.cors.allowed_origins;
  const bool any = std::find(origins.begin(), origins.end(), "*") != origins.end();
  const auto& methods = listener_.cors.allowed_methods;
  const bool origin_ok = any || std::find(origins.begin(), origins.end(), origin) != origins.end();
  const bool method_ok =
      methods.empty() ? (method == "GET" || method == "POST")
                      : std::find(methods.begin(), methods.end(), method) != methods.end();
  if (!origin_ok || !method_ok) {
    return http::json_error(403, "CORS request refused",
                            !origin_ok ? "origin not allowed: " + std::string(origin)
                                       : "method not allowed: " + std::string(method));
  }
  http::Response out;
  out.status = 204;
  out.content_type = "text/plain";
  out.headers.emplace_back("Access-Control-Allow-Origin", any ? "*" : std::string(origin));
  std::string list;
  for (const auto& m : methods.empty() ? std::vector<std::string>{"GET", "POST"} : methods) {
    list += (list.empty() ? "" : ", ") + m;
  }
  out.headers.emplace_back("Access-Control-Allow-Methods", list);
  std::string headers;
  for (const auto& h : listener_.cors.allowed_headers.empty()
                           ? std::vector<std::string>{"Authorization", "Content-Type"}
                           : listener_.cors.allowed_headers) {
    headers += (headers.empty() ? "" : ", ") + h;
  }
  out.headers.emplace_back("Access-Control-Allow-Headers", headers);
  out.headers.emplace_back("Access-Control-Max-Age", "600");
  if (!any) out.headers.emplace_back("Vary", "Origin");
  return out;
}

void HttpApi::answer_later(http::Reply reply, http::Response out,
                           std::chrono::milliseconds delay) {
  // Held (on the connection's thread, holding nothing else): a guesser's next try waits.
  codes_->count(out.status);
  http::run_after(reply.executor(), delay,
                  [reply, out = std::move(out)]() mutable { reply(std::move(out)); });
}

void HttpApi::kannel_sendsms(http::Request& r, http::Reply reply) {
  auto text = [](unsigned status, std::string_view body) {
    http::Response out = http::text_response(status, "text/html", std::string(body));
    out.headers = {{"Pragma", "no-cache"}, {"Cache-Control", "no-cache"}};
    return out;
  };
  auto answer = [this, &reply](http::Response out) {
    codes_->count(out.status);
    reply(std::move(out));
  };
  // A GET has its fields in the query; a POST in X-Kannel-* headers or an XML body, whose
  // credentials Kannel checks before the rest.
  std::variant<api::KannelSendsms, api::KannelRefusal> parsed;
  std::optional<std::string> username;
  std::optional<std::string> password;
  if (r.method == "GET" || r.method == "HEAD" || r.body.empty()) {
    parsed = api::parse_kannel_sendsms(r.query);
    if (auto* e = std::get_if<api::KannelRefusal>(&parsed)) {
      return answer(text(e->status, e->body));
    }
    username = std::get<api::KannelSendsms>(parsed).username;
    password = std::get<api::KannelSendsms>(parsed).password;
  } else {
    std::vector<api::HeaderField> fields;
    fields.reserve(r.headers.size());
    for (const auto& [name, value] : r.headers) fields.emplace_back(name, value);
    auto post = api::parse_kannel_post(fields, r.body);
    if (auto* e = std::get_if<api::KannelRefusal>(&post)) return answer(text(e->status, e->body));
    auto& p = std::get<api::KannelPost>(post);
    username = std::move(p.username);
    password = std::move(p.password);
    parsed = std::move(p.outcome);
  }
  if (!username || !password) return answer(text(403, api::kKannelAuthFailed));
  http::Response refusal;
  std::chrono::milliseconds delay{0};
  const std::pair<std::string_view, std::string_view> credentials{*username, *password};
  auto caller = authenticate(r, refusal, delay, &credentials);
  if (!caller && refusal.status == kAskedExternally) return;  // handled again with the answer
  if (!caller && refusal.status == 503) return answer(text(503, api::kKannelTemporary));
  if (!caller) {
    http::Response out = text(403, api::kKannelAuthFailed);
    if (delay.count() <= 0) return answer(std::move(out));
    return answer_later(std::move(reply), std::move(out), delay);
  }
  if (auto* e = std::get_if<api::KannelRefusal>(&parsed)) return answer(text(e->status, e->body));
  const api::KannelSendsms& k = std::get<api::KannelSendsms>(parsed);
  if (!requests_.unlimited() && !requests_.try_take(std::chrono::steady_clock::now())) {
    return answer(text(503, api::kKannelTemporary));
  }
  const auto now = std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now());
  auto request = api::kannel_to_request(k, now);
  if (auto* e = std::get_if<api::KannelRefusal>(&request)) return answer(text(e->status, e->body));
  std::vector<api::MessageResult> items;
  items.push_back(std::move(std::get<api::MessageRequest>(request)));
  CallbackOf callback_of;
  if (k.dlr_url && k.dlr_mask > 0) {
    // Kannel's dlr-url, filled in when each report comes (%p is this recipient).
    callback_of = [&k](const api::MessageRequest&, const api::Address& to) {
      auto spec = std::make_shared<gateway::CallbackSpec>();
      spec->style = gateway::CallbackSpec::Style::kannel;
      spec->mask = static_cast<uint8_t>(k.dlr_mask & 31);
      spec->url = *k.dlr_url;
      spec->client_ref = k.account.value_or("");
      spec->meta = k.meta_data.value_or("");
      spec->to = to.ton == api::ton::kInternational ? "+" + to.value : to.value;
      spec->from = k.from.value_or("");
      return std::shared_ptr<const gateway::CallbackSpec>(std::move(spec));
    };
  }
  send(*caller, std::move(items), false, r, std::move(reply), Dialect::kannel, callback_of);
}

void HttpApi::operator()(http::Request& r, http::Reply reply) {
  Dispatch d{&r, &reply, nullptr, nullptr, nullptr, std::nullopt, false};
  DispatchScope scope(&d);
  handle(r, reply);  // a copy: `d` keeps pointing at this one
}

void HttpApi::handle(http::Request& r, http::Reply reply) {
  // Every answer is counted and marked for CORS on its way out.
  auto answer = [this, &r, &reply](http::Response out) {
    cors(r, out);
    codes_->count(out.status);
    reply(std::move(out));
  };
  if (auto p = preflight(r)) return answer(std::move(*p));
  if (kannel_ && r.path == "/cgi-bin/sendsms") return kannel_sendsms(r, std::move(reply));
  if (jasmin_ && jasmin(r, reply)) return;
  if (r.path == "/health" || r.path == "/v1/health") {
    if (r.method != "GET" && r.method != "HEAD") {
      return answer(http::json_error(405, "method not allowed", "use GET"));
    }
    return answer(health());
  }
  // Liveness: the process answers, whether or not it can send (an orchestrator restarts a
  // daemon that does not answer, not one whose carriers are down).
  if (r.path == "/health/live" || r.path == "/v1/health/live") {
    if (r.method != "GET" && r.method != "HEAD") {
      return answer(http::json_error(405, "method not allowed", "use GET"));
    }
    return answer(json_response(200, json::object{{"status", "alive"}}));
  }
  // (A request handled again with its external answer was counted the first time.)
  if (!second_pass() && !requests_.unlimited() &&
      !requests_.try_take(std::chrono::steady_clock::now())) {
    http::Response out = http::json_error(429, "too many requests",
                                          "beyond the listener's rate_limit.requests_per_second");
    out.headers.emplace_back("Retry-After", "1");
    return answer(std::move(out));
  }
  const bool messages = r.path == "/v1/messages";
  const bool batch = r.path == "/v1/messages/batch";
  const bool one = r.path.starts_with("/v1/messages/") && !batch;
  const bool metrics = r.path == "/v1/metrics";
  if (!messages && !batch && !one && !metrics) {
    return answer(http::json_error(404, "not found", "no such endpoint: " + r.path));
  }
  http::Response refusal;
  std::chrono::milliseconds delay{0};
  auto caller = authenticate(r, refusal, delay);
  if (!caller && refusal.status == kAskedExternally) return;  // handled again with the answer
  if (!caller) {
    if (delay.count() <= 0) return answer(std::move(refusal));
    cors(r, refusal);
    return answer_later(std::move(reply), std::move(refusal), delay);
  }
  if (metrics) {
    if (r.method != "GET") return answer(http::json_error(405, "method not allowed", "use GET"));
    if (!parts_.metrics) return answer(http::json_error(404, "not found", "metrics are off"));
    http::Response marks;
    cors(r, marks);
    parts_.metrics([reply, codes = codes_, marks = std::move(marks)](std::string text) mutable {
      http::Response out;
      out.content_type = "text/plain; version=0.0.4; charset=utf-8";
      out.body = std::move(text);
      for (auto& h : marks.headers) out.headers.push_back(std::move(h));
      codes->count(out.status);
      reply(std::move(out));
    });
    return;
  }
  if (one) {
    if (r.method != "GET") return answer(http::json_error(405, "method not allowed", "use GET"));
    auto id = http::percent_decode(std::string_view(r.path).substr(13));
    if (!id) return answer(http::json_error(400, "bad message id", "not percent-encoded right"));
    return answer(message_view(*id, parts_.store, parts_.gateway, caller->client.system_id));
  }
  if (r.method != "POST") return answer(http::json_error(405, "method not allowed", "use POST"));
  // The body is read as JSON whatever its Content-Type says (curl -d sends
  // application/x-www-form-urlencoded): what is not JSON is a 400 that says so.
  const auto now = std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now());
  std::vector<api::MessageResult> items;
  if (batch) {
    auto parsed = api::parse_batch_request(r.body, now);
    if (auto* e = std::get_if<api::FieldError>(&parsed)) return answer(field_error(*e));
    items = std::move(std::get<api::BatchRequest>(parsed).items);
  } else {
    auto parsed = api::parse_message_request(r.body, now);
    if (auto* e = std::get_if<api::FieldError>(&parsed)) return answer(field_error(*e));
    items.push_back(std::move(parsed));
  }
  // A batch of lists could name a million recipients in a few megabytes: bounded before any
  // PDU is built.
  std::size_t recipients = 0;
  for (const auto& item : items) {
    if (const auto* m = std::get_if<api::MessageRequest>(&item)) recipients += m->to.size();
  }
  if (recipients > kMaxRecipientsPerRequest) {
    return answer(http::json_error(
        413, "too many recipients",
        fmt::format("{} recipients in one request, at most {}: split it", recipients,
                    kMaxRecipientsPerRequest)));
  }
  send(*caller, std::move(items), batch, r, std::move(reply));
}

void HttpApi::send(const Caller& caller, std::vector<api::MessageResult> items, bool batch,
                   const http::Request& r, http::Reply reply, Dialect dialect,
                   const CallbackOf& callback_of, std::function<void(http::Response)> deliver) {
  auto s = std::make_shared<Submission>(std::move(reply));
  s->batch = batch;
  s->dialect = dialect;
  s->deliver = std::move(deliver);
  // The answer comes once every part is answered: its CORS headers and its count then.
  http::Response marks;
  cors(r, marks);
  s->headers = std::move(marks.headers);
  s->codes = codes_;
  for (auto& item : items) {
    Submission::Item it;
    if (auto* e = std::get_if<api::FieldError>(&item)) {
      it.error = *e;
      s->items.push_back(std::move(it));
      continue;
    }
    api::MessageRequest& m = std::get<api::MessageRequest>(item);
    std::shared_ptr<const gateway::CallbackSpec> callback;
    if (m.callback_url) {
      // Its receipts go to that URL as JSON (api/callbacks): asking for a callback is asking
      // for receipts.
      auto spec = std::make_shared<gateway::CallbackSpec>();
      spec->style = gateway::CallbackSpec::Style::json;
      spec->url = *m.callback_url;
      if (m.client_ref) spec->client_ref = *m.client_ref;
      callback = std::move(spec);
      m.registered_delivery = true;
    }
    it.list = m.to_was_list;
    it.client_ref = m.client_ref;
    it.first_recipient = s->recipients.size();
    it.recipients = m.to.size();
    for (const api::Address& to : m.to) {
      Submission::Recipient rec;
      rec.to = shown(to);
      if (callback_of) callback = callback_of(m, to);
      api::BuildOptions options;
      options.reference = next_reference_.fetch_add(1, std::memory_order_relaxed);
      auto built = api::build_submits(m, to, options);
      if (auto* e = std::get_if<api::FieldError>(&built)) {
        rec.error = *e;
      } else {
        auto& b = std::get<api::BuiltMessage>(built);
        rec.first_part = s->parts.size();
        rec.parts = b.pdus.size();
        rec.sms = b.parts;
        for (auto& pdu : b.pdus) {
          Submission::Part part;
          part.recipient = s->recipients.size();
          part.callback = callback;
          s->parts.push_back(std::move(part));
          s->pdus.push_back(std::move(pdu));
        }
        if (dialect == Dialect::jasmin) {
          // Jasmin asks for the receipt of the last part only; its DLRs name that part.
          for (std::size_t k = rec.first_part; k + 1 < s->parts.size(); ++k) {
            s->parts[k].callback.reset();
          }
        }
      }
      s->recipients.push_back(std::move(rec));
    }
    s->items.push_back(std::move(it));
  }
  s->remaining = s->parts.size();
  if (s->remaining == 0) return s->finish();
  s->self = s;
  const gateway::ClientRef ref = caller.client.ref();
  gateway::ClientLimit* limit = caller.client.limit.get();
  if (limit != nullptr && limit->window->limit.load(std::memory_order_relaxed) > 0) {
    s->window = limit->window;
  }
  const gateway::Origin origin{s, &Submission::on_response, s->reply.executor(),
                               smpp::Version::v34};
  // A W3C traceparent continues the caller's trace: the messages' spans join it.
  const std::optional<tracing::SpanContext> parent =
      tracing::parse_traceparent(r.header("traceparent"));
  const std::size_t n = s->parts.size();
  for (std::size_t i = 0; i < n; ++i) {
    smpp::Pdu pdu = std::move(s->pdus[i]);
    pdu.sequence_number = static_cast<uint32_t>(i);
    if (s->window) {
      if (!s->window->try_enter()) {
        // The client's window (across its SMPP sessions and HTTP requests) is full.
        origin.answer(smpp::make_response(pdu.command_id(), pdu.sequence_number, st::ESME_RMSGQFUL));
        continue;
      }
      s->parts[i].windowed = true;
    }
    parts_.gateway.submit(origin, ref, pdu, caller.ip_key, parent ? &*parent : nullptr,
                          std::move(s->parts[i].callback));
  }
  s->pdus.clear();
}

}  // namespace smppd::rest
