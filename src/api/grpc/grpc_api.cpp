#include "api/grpc/grpc_api.hpp"

#include <boost/asio/ip/address.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <google/protobuf/stubs/logging.h>
#include <grpcpp/grpcpp.h>
#include <grpcpp/health_check_service_interface.h>

#include <atomic>
#include <deque>
#include <map>
#include <fstream>
#include <mutex>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>

#include "api/grpc/request.hpp"
#include "api/grpc/status_map.hpp"
#include "api/http/request_parts.hpp"
#include "api/message/decoding.hpp"
#include "api/message/message_build.hpp"
#include "core/log.hpp"
#include "gateway/message_ids.hpp"
#include "gateway/route_scripts.hpp"
#include "limits/ip_filter.hpp"
#include "limits/token_bucket.hpp"
#include "net/endpoint.hpp"
#include "session/window.hpp"
#include "smpp/receipt.hpp"
#include "smpp/segment.hpp"
#include "smpp/status.hpp"
#include "smppd/v1/smppd.grpc.pb.h"
#include "store/message_state.hpp"

namespace smppd::grpcapi {

namespace st = smpp::status;
namespace asio = boost::asio;
namespace v1 = smppd::v1;

namespace {

// Messages (recipients) in one call at most: a batch of lists could name a million numbers in a
// few megabytes.
constexpr std::size_t kMaxRecipientsPerCall = 10'000;

std::string read_file(const std::string& path, std::string_view what) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + std::string(what) + " " + path);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// "ipv4:127.0.0.1:5000", "ipv6:[::1]:5000" -> the address, when it is one.
std::optional<asio::ip::address> peer_address(const std::string& peer) {
  std::string_view p = peer;
  if (p.starts_with("ipv4:")) {
    p.remove_prefix(5);
    p = p.substr(0, p.rfind(':'));
  } else if (p.starts_with("ipv6:")) {
    p.remove_prefix(5);
    if (p.starts_with('[')) p = p.substr(1, p.find(']') - 1);
  } else {
    return std::nullopt;
  }
  boost::system::error_code ec;
  auto a = asio::ip::make_address(std::string(p), ec);
  if (ec) return std::nullopt;
  return a;
}

// Whether `s` starts with `prefix`, ASCII case aside (an authorization scheme).
bool starts_with_ci(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && api::iequals(s.substr(0, prefix.size()), prefix);
}

google::protobuf::Timestamp timestamp_ms(int64_t ms) {
  google::protobuf::Timestamp t;
  t.set_seconds(ms / 1000);
  t.set_nanos(static_cast<int32_t>((ms % 1000) * 1'000'000));
  return t;
}

std::string shown(const api::Address& a) {
  return a.ton == api::ton::kInternational ? "+" + a.value : a.value;
}

// The messages of one call (or of one message of a stream) on their way: each part is
// submitted with its index as sequence number and answered through `on_response`, on the
// call's worker (where it was submitted: no lock). Kept alive by itself until every part is
// answered; the gateway answers each exactly once.
struct Submission {
  struct Item {
    std::optional<api::FieldError> error;
    std::size_t first_recipient = 0;
    std::size_t recipients = 0;
    uint64_t request_id = 0;
    std::string client_ref;
  };
  struct Recipient {
    std::string to;
    std::optional<api::FieldError> error;  // could not be built
    std::size_t first_part = 0;
    std::size_t parts = 0;
    std::size_t sms = 0;
  };
  struct Part {
    uint32_t status = st::ESME_ROK;
    std::string id;
    bool windowed = false;
    std::shared_ptr<const gateway::CallbackSpec> callback;
  };
  std::vector<Item> items;
  std::vector<Recipient> recipients;
  std::vector<Part> parts;
  std::vector<smpp::Pdu> pdus;
  std::size_t remaining = 0;
  std::shared_ptr<session::SharedWindow> window;
  std::shared_ptr<Submission> self;
  std::function<void(Submission&)> done;

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
  void finish() {
    auto keep = std::move(self);
    if (done) done(*this);
  }

  // The outcome of recipient `r`: the first refusal among its parts, or ESME_ROK.
  uint32_t outcome(const Recipient& r) const {
    if (r.error) return st::ESME_RINVPARLEN;
    for (std::size_t k = 0; k < r.parts; ++k) {
      if (parts[r.first_part + k].status != st::ESME_ROK) return parts[r.first_part + k].status;
    }
    return st::ESME_ROK;
  }

  void fill(const Item& item, v1::SendResponse& out) const {
    out.set_request_id(item.request_id);
    out.set_client_ref(item.client_ref);
    if (item.error) {
      out.set_code(static_cast<int>(grpc::StatusCode::INVALID_ARGUMENT));
      out.set_error(item.error->detail);
      out.set_field(item.error->field);
      return;
    }
    for (std::size_t k = 0; k < item.recipients; ++k) {
      const Recipient& r = recipients[item.first_recipient + k];
      v1::Recipient* o = out.add_recipients();
      o->set_to(r.to);
      if (r.error) {
        o->set_code(static_cast<int>(grpc::StatusCode::INVALID_ARGUMENT));
        o->set_error(r.error->field + ": " + r.error->detail);
        continue;
      }
      o->set_parts(static_cast<uint32_t>(r.sms));
      const uint32_t status = outcome(r);
      if (status == st::ESME_ROK) {
        o->set_message_id(parts[r.first_part].id);
        if (r.parts > 1) {
          for (std::size_t p = 0; p < r.parts; ++p) o->add_part_ids(parts[r.first_part + p].id);
        }
      } else {
        o->set_code(static_cast<int>(code_of(status)));
        o->set_command_status(status);
        o->set_error(std::string(smpp::status_name(status)));
      }
    }
  }
};

// A unary call whose request and answer smppd reads and writes itself (raw methods: gRPC's own
// reading answers UNIMPLEMENTED, with no word, to bytes that are not the message).
template <class Request, class Response>
struct UnaryCall {
  UnaryCall(grpc::ServerUnaryReactor* r, grpc::ByteBuffer* o) : reactor(r), out(o) {}
  grpc::ServerUnaryReactor* reactor;
  grpc::ByteBuffer* out;
  Request request;
  Response response;
  // Writes the answer (when OK) and ends the call.
  void Finish(const grpc::Status& s) {
    grpc::Status status = s;
    if (status.ok()) {
      bool own = false;
      out->Clear();
      status = grpc::SerializationTraits<Response>::Serialize(response, out, &own);
    }
    reactor->Finish(status);
  }
};

// `m` from the bytes of a request; false when they are not one.
template <class Message>
bool parse(const grpc::ByteBuffer* in, Message& m) {
  grpc::ByteBuffer copy(*in);
  return grpc::SerializationTraits<Message>::Deserialize(&copy, &m).ok();
}

// Why bytes were refused: protobuf's own reading says no more than "it does not parse".
grpc::Status not_a(std::string_view type) {
  return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                      "the request is not a valid " + std::string(type) +
                          " (a string field that is not UTF-8, or bytes that are not protobuf)");
}

}  // namespace

// Every method raw (ByteBuffer in and out): smppd parses the messages itself, so that bytes
// that are not one get INVALID_ARGUMENT with a word rather than gRPC's bare UNIMPLEMENTED.
using RawMessaging = v1::Messaging::WithRawCallbackMethod_Send<
    v1::Messaging::WithRawCallbackMethod_SendBatch<v1::Messaging::WithRawCallbackMethod_SendStream<
        v1::Messaging::WithRawCallbackMethod_GetMessage<
            v1::Messaging::WithRawCallbackMethod_Events<v1::Messaging::Service>>>>>;

class GrpcApi::Service final : public RawMessaging,
                               public std::enable_shared_from_this<GrpcApi::Service> {
 public:
  Service(const config::ListenerConfig& listener, GrpcApiParts parts)
      : listener_(listener),
        parts_(std::move(parts)),
        ip_filter_(listener),
        requests_(listener.rate_limit.requests_per_second, listener.rate_limit.burst) {}

  // An authenticated caller, or the status it is refused with (and how long to hold it).
  struct Caller {
    gateway::Gateway::FaceClient client;
    uint64_t ip_key = 0;
  };
  struct Refusal {
    grpc::Status status;
    std::chrono::milliseconds delay{0};
  };

  using Who = std::variant<Caller, Refusal>;
  // The external backends' answer for Basic credentials of a system_id not in `clients`.
  struct ExternalVerdict {
    std::string system_id;
    std::string password;
    extauth::Answer answer;  // reason kBackendFailed until it comes
    // The failure throttle's attempt, begun before the backends were asked.
    std::optional<auth::AuthFailureThrottle::Attempt> attempt;
    ExternalVerdict() { answer.reason = extauth::kBackendFailed; }
  };

  // What authentication reads of a call, copied at its start: the context is not touched again
  // (a call cancelled while its credentials are with the backends may be gone by their answer).
  struct CallInfo {
    std::string authorization;
    std::optional<asio::ip::address> address;
  };
  static CallInfo call_info(const grpc::CallbackServerContext& ctx) {
    CallInfo info;
    const auto& md = ctx.client_metadata();
    if (auto it = md.find("authorization"); it != md.end()) {
      info.authorization.assign(it->second.data(), it->second.size());
    }
    info.address = peer_address(ctx.peer());
    return info;
  }

  // Authenticates the call, then `then(who)`: at once, or (a system_id only the external
  // backends know, not in their cache) on a worker once they have answered. The call waits;
  // no thread does. The failure throttle's attempt is begun before the backends are asked and
  // reported with their answer.
  void authenticate_then(const grpc::CallbackServerContext& ctx, std::string_view method,
                         std::function<void(Who)> then) {
    CallInfo info = call_info(ctx);
    if (parts_.external != nullptr && parts_.external->enabled()) {
      const std::string_view header = info.authorization;
      std::optional<std::pair<std::string, std::string>> credentials;
      if (api::iequals(header.substr(0, 6), "basic ")) credentials = http::basic_credentials(header);
      // A refused address is refused by authenticate() before anything is begun or asked.
      const bool refused_address =
          info.address && ip_filter_.reject_reason(net::address_bytes(*info.address).view());
      if (credentials && !credentials->first.empty() && !refused_address &&
          parts_.clients()->find(credentials->first) == nullptr) {
        extauth::Request q{credentials->first, credentials->second,
                           info.address.value_or(asio::ip::address()),
                           config::BindType::transmitter, listener_.name};
        auto v = std::make_shared<ExternalVerdict>();
        v->system_id = credentials->first;
        v->password = credentials->second;
        if (auth::AuthFailureThrottle* throttle = parts_.auth_failures.get();
            throttle != nullptr && info.address) {
          const auto peer = net::address_bytes(*info.address);
          v->attempt = throttle->begin_attempt(peer.view(), v->system_id, true, false,
                                               std::chrono::steady_clock::now());
          if (!v->attempt->proceed()) {
            then(authenticate(info, method, v.get()));  // refused with it, nobody asked
            return;
          }
        }
        if (auto hit = parts_.external->cached(q)) {
          v->answer = std::move(*hit);
          then(authenticate(info, method, v.get()));
          return;
        }
        parts_.external->authenticate(
            std::move(q), [self = shared_from_this(), info = std::move(info),
                           method = std::string(method), then = std::move(then),
                           v](extauth::Answer a) mutable {
              const auto ex = self->executor();
              asio::post(ex, [self, info = std::move(info), method = std::move(method),
                              then = std::move(then), v, a = std::move(a)]() mutable {
                v->answer = std::move(a);
                then(self->authenticate(info, method, v.get()));
              });
            });
        return;
      }
    }
    then(authenticate(info, method, nullptr));
  }

  std::variant<Caller, Refusal> authenticate(const CallInfo& info, std::string_view method,
                                             const ExternalVerdict* external_verdict) {
    const std::optional<asio::ip::address>& address = info.address;
    net::AddressBytes peer{};
    if (address) peer = net::address_bytes(*address);
    if (address) {
      if (auto why = ip_filter_.reject_reason(peer.view())) {
        return refuse(method, Refusal{grpc::Status(grpc::StatusCode::PERMISSION_DENIED,
                                                   "this address may not call: " + std::string(*why))});
      }
    }
    const std::string_view header = info.authorization;
    const auto directory = parts_.clients();
    auth::AuthFailureThrottle* throttle = parts_.auth_failures.get();
    const auto now = std::chrono::steady_clock::now();
    using Verdict = auth::AuthFailureThrottle::Verdict;
    auth::AuthResult result;
    std::string name;
    auth::AuthFailureThrottle::Attempt attempt;
    bool tried = false;
    bool backend_failed = false;
    std::shared_ptr<const config::ClientConfig> external;  // an external client's settings
    Refusal refusal{grpc::Status::OK};
    const bool external_on = parts_.external != nullptr && parts_.external->enabled();
    auto begin = [&](std::string_view system_id) {
      const config::ClientConfig* known = directory->find(system_id);
      if (throttle == nullptr) return true;
      if (external_verdict != nullptr && external_verdict->attempt &&
          external_verdict->system_id == system_id) {
        attempt = *external_verdict->attempt;  // begun before the backends were asked
      } else {
        attempt = throttle->begin_attempt(
            peer.view(), system_id, known != nullptr || (external_on && !system_id.empty()),
            known != nullptr && auth::ClientDirectory::pins_address(*known, peer.view()), now);
      }
      if (attempt.verdict == Verdict::peer_locked) {
        refusal.status = grpc::Status(grpc::StatusCode::PERMISSION_DENIED,
                                      "too many failed authentications from this address");
        return false;
      }
      if (attempt.verdict == Verdict::client_locked) {
        refusal.status = grpc::Status(grpc::StatusCode::UNAUTHENTICATED, "wrong credentials");
        refusal.delay = attempt.reply_delay;
        return false;
      }
      return true;
    };
    if (starts_with_ci(header, "basic ")) {
      auto credentials = http::basic_credentials(header);
      if (!credentials) {
        refusal.status =
            grpc::Status(grpc::StatusCode::UNAUTHENTICATED, "malformed Basic credentials");
      } else if (begin(credentials->first)) {
        tried = true;
        name = credentials->first;
        if (!external_on || credentials->first.empty() ||
            directory->find(credentials->first) != nullptr) {
          result = directory->authenticate(credentials->first, credentials->second, peer.view(),
                                           config::BindType::transmitter);
        } else {
          // The backends' answer authenticate_then got for these credentials.
          extauth::Answer a;
          a.reason = extauth::kBackendFailed;
          if (external_verdict != nullptr && external_verdict->system_id == credentials->first &&
              external_verdict->password == credentials->second) {
            a = external_verdict->answer;
          }
          if (a.ok()) {
            external = a.client;
            result = auth::ClientDirectory::admit(*external, peer.view(),
                                                  config::BindType::transmitter);
          } else {
            result.reason = a.reason;
            backend_failed = a.reason == extauth::kBackendFailed;
          }
        }
      }
    } else if (starts_with_ci(header, "bearer ")) {
      std::string_view token = header.substr(7);
      while (!token.empty() && token.front() == ' ') token.remove_prefix(1);
      if (begin("")) {
        tried = true;
        result = directory->authenticate_key(token, peer.view(), config::BindType::transmitter);
      }
    } else {
      refusal.status = grpc::Status(grpc::StatusCode::UNAUTHENTICATED,
                                    "send `authorization: Basic base64(system_id:password)` or "
                                    "`authorization: Bearer <api key>` in the call metadata");
    }
    if (tried && throttle != nullptr) {
      if (backend_failed) {
        throttle->forget_attempt(peer.view(), name, attempt);
      } else if (result.ok() || result.reason == auth::reason::kBindTypeNotAllowed) {
        throttle->record_success(peer.view(), result.client ? result.client->system_id : name,
                                 attempt, now);
      } else {
        throttle->record_failure(peer.view(), name, attempt,
                                 result.reason == auth::reason::kWrongPassword && !name.empty(),
                                 now);
        refusal.delay = attempt.reply_delay;
      }
    }
    if (result.ok()) {
      uint64_t key = 0;
      for (uint8_t b : peer.view()) key = key * 131 + b;
      if (external) return Caller{parts_.gateway.face_client(external), key};
      return Caller{parts_.gateway.face_client(result.client->system_id), key};
    }
    if (refusal.status.ok() && backend_failed) {
      refusal.status = grpc::Status(grpc::StatusCode::UNAVAILABLE,
                                    "the authentication backends did not answer: try again later");
    } else if (refusal.status.ok()) {
      if (result.reason == auth::reason::kClientIpNotAllowed ||
          result.reason == auth::reason::kBindTypeNotAllowed) {
        refusal.status = grpc::Status(grpc::StatusCode::PERMISSION_DENIED, std::string(result.reason));
      } else {
        refusal.status = grpc::Status(grpc::StatusCode::UNAUTHENTICATED, "wrong credentials");
      }
    }
    return refuse(method, std::move(refusal));
  }

  Refusal refuse(std::string_view method, Refusal r) {
    count(method, r.status.error_code());
    return r;
  }

  // Ends a unary call with `status` after `delay` (a guesser's failures are answered ever
  // later), off gRPC's threads.
  template <class Reactor>
  void finish_later(Reactor reactor, grpc::Status status, std::chrono::milliseconds delay) {
    if (delay.count() <= 0) {
      reactor->Finish(std::move(status));
      return;
    }
    auto timer = std::make_shared<asio::steady_timer>(executor(), delay);
    timer->async_wait([timer, reactor, status = std::move(status)](const boost::system::error_code&) {
      reactor->Finish(status);
    });
  }

  // Ends a stream refused at its start (`r`), after the refusal's delay.
  template <class Reactor>
  static void refuse_stream(std::shared_ptr<Reactor> me, const Refusal& r,
                            asio::any_io_executor ex) {
    if (r.delay.count() <= 0) {
      me->Finish(r.status);
      return;
    }
    auto timer = std::make_shared<asio::steady_timer>(ex, r.delay);
    timer->async_wait([timer, me, status = r.status](const boost::system::error_code&) {
      me->Finish(status);
    });
  }

  template <class Call>
  grpc::ServerUnaryReactor* not_parsed(const std::shared_ptr<Call>& call, std::string_view method,
                                       std::string_view type) {
    count(method, grpc::StatusCode::INVALID_ARGUMENT);
    call->reactor->Finish(not_a(type));
    return call->reactor;
  }

  bool take_request() {
    return requests_.unlimited() || requests_.try_take(std::chrono::steady_clock::now());
  }

  asio::any_io_executor executor() {
    const std::size_t i = next_executor_.fetch_add(1, std::memory_order_relaxed);
    return parts_.executors[i % parts_.executors.size()];
  }

  void count(std::string_view method, grpc::StatusCode code) {
    parts_.counters.add("smppd_grpc_requests_total",
                        {{"listener", listener_.name},
                         {"method", method},
                         {"code", code_name(code)}});
  }

  static std::string_view code_name(grpc::StatusCode c) {
    switch (c) {
      case grpc::StatusCode::OK:
        return "OK";
      case grpc::StatusCode::CANCELLED:
        return "CANCELLED";
      case grpc::StatusCode::INVALID_ARGUMENT:
        return "INVALID_ARGUMENT";
      case grpc::StatusCode::NOT_FOUND:
        return "NOT_FOUND";
      case grpc::StatusCode::PERMISSION_DENIED:
        return "PERMISSION_DENIED";
      case grpc::StatusCode::RESOURCE_EXHAUSTED:
        return "RESOURCE_EXHAUSTED";
      case grpc::StatusCode::FAILED_PRECONDITION:
        return "FAILED_PRECONDITION";
      case grpc::StatusCode::UNAVAILABLE:
        return "UNAVAILABLE";
      case grpc::StatusCode::UNAUTHENTICATED:
        return "UNAUTHENTICATED";
      default:
        return "OTHER";
    }
  }

  // Reads `requests` into a submission (field errors kept per item), or the status that refuses
  // the whole call (too many recipients).
  std::variant<std::shared_ptr<Submission>, grpc::Status> prepare(
      const std::vector<const v1::SendRequest*>& requests, bool batch) {
    auto s = std::make_shared<Submission>();
    const auto now = std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now());
    std::size_t total = 0;
    for (const v1::SendRequest* r : requests) total += static_cast<std::size_t>(r->to_size());
    if (total > kMaxRecipientsPerCall) {
      return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                          std::to_string(total) + " recipients in one call, at most " +
                              std::to_string(kMaxRecipientsPerCall) + ": split it");
    }
    for (std::size_t i = 0; i < requests.size(); ++i) {
      const v1::SendRequest& r = *requests[i];
      Submission::Item item;
      item.request_id = r.request_id();
      item.client_ref = r.client_ref();
      api::MessageResult parsed =
          read_send(r, now, {}, batch ? "messages[" + std::to_string(i) + "]" : std::string());
      if (auto* e = std::get_if<api::FieldError>(&parsed)) {
        item.error = std::move(*e);
        s->items.push_back(std::move(item));
        continue;
      }
      api::MessageRequest& m = std::get<api::MessageRequest>(parsed);
      std::shared_ptr<const gateway::CallbackSpec> callback;
      if (m.callback_url) {
        auto spec = std::make_shared<gateway::CallbackSpec>();
        spec->style = gateway::CallbackSpec::Style::json;
        spec->url = *m.callback_url;
        if (m.client_ref) spec->client_ref = *m.client_ref;
        callback = std::move(spec);
        m.registered_delivery = true;
      }
      item.first_recipient = s->recipients.size();
      item.recipients = m.to.size();
      for (const api::Address& to : m.to) {
        Submission::Recipient rec;
        rec.to = shown(to);
        api::BuildOptions options;
        options.reference = static_cast<uint16_t>(next_reference_.fetch_add(1) & 0xFFFF);
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
            part.callback = callback;
            s->parts.push_back(std::move(part));
            s->pdus.push_back(std::move(pdu));
          }
        }
        s->recipients.push_back(std::move(rec));
      }
      s->items.push_back(std::move(item));
    }
    return s;
  }

  // Submits the parts of `s` for `caller` on `ex`; `s->done` is called there once every part is
  // answered (at once when there is none).
  void submit(const Caller& caller, std::shared_ptr<Submission> s, asio::any_io_executor ex) {
    s->remaining = s->parts.size();
    if (s->remaining == 0) {
      asio::post(ex, [s] { s->finish(); });
      return;
    }
    s->self = s;
    asio::post(ex, [this, caller, s, ex] {
      gateway::ClientLimit* limit = caller.client.limit.get();
      if (limit != nullptr && limit->window->limit.load(std::memory_order_relaxed) > 0) {
        s->window = limit->window;
      }
      const gateway::Origin origin{s, &Submission::on_response, ex, smpp::Version::v34};
      const gateway::ClientRef ref = caller.client.ref();
      const std::size_t n = s->parts.size();
      // (Answers come on `ex`, this thread: none runs before the loop is over.)
      for (std::size_t i = 0; i < n; ++i) {
        smpp::Pdu pdu = std::move(s->pdus[i]);
        pdu.sequence_number = static_cast<uint32_t>(i);
        if (s->window) {
          if (!s->window->try_enter()) {
            origin.answer(smpp::make_response(pdu.command_id(), pdu.sequence_number,
                                              st::ESME_RMSGQFUL));
            continue;
          }
          s->parts[i].windowed = true;
        }
        parts_.gateway.submit(origin, ref, pdu, caller.ip_key, nullptr,
                              std::move(s->parts[i].callback));
      }
      s->pdus.clear();
    });
  }

  // ---- RPCs ----

  grpc::ServerUnaryReactor* Send(grpc::CallbackServerContext* ctx, const grpc::ByteBuffer* in,
                                 grpc::ByteBuffer* out) override {
    auto reactor =
        std::make_shared<UnaryCall<v1::SendRequest, v1::SendResponse>>(ctx->DefaultReactor(), out);
    if (!parse(in, reactor->request)) return not_parsed(reactor, "Send", "smppd.v1.SendRequest");
    authenticate_then(*ctx, "Send", [self = shared_from_this(), ctx, reactor](Who who) {
      self->send_authenticated(ctx, reactor, std::move(who));
    });
    return reactor->reactor;
  }

  // Send, once the caller is known (or refused).
  void send_authenticated([[maybe_unused]] grpc::CallbackServerContext* ctx,
                         const std::shared_ptr<UnaryCall<v1::SendRequest, v1::SendResponse>>& reactor, Who who) {
    const v1::SendRequest* request = &reactor->request;
    v1::SendResponse* response = &reactor->response;
    if (auto* r = std::get_if<Refusal>(&who)) {
      finish_later(reactor, r->status, r->delay);
      return;
    }
    if (stopping_.load()) {
      count("Send", grpc::StatusCode::UNAVAILABLE);
      reactor->Finish(grpc::Status(grpc::StatusCode::UNAVAILABLE, "smppd is stopping"));
      return;
    }
    if (!take_request()) {
      count("Send", grpc::StatusCode::RESOURCE_EXHAUSTED);
      reactor->Finish(grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED,
                                   "the listener's rate_limit: send again later"));
      return;
    }
    auto prepared = prepare({request}, false);
    if (auto* status = std::get_if<grpc::Status>(&prepared)) {
      count("Send", status->error_code());
      reactor->Finish(*status);
      return;
    }
    auto s = std::get<std::shared_ptr<Submission>>(std::move(prepared));
    if (s->items[0].error) {
      const api::FieldError& e = *s->items[0].error;
      count("Send", grpc::StatusCode::INVALID_ARGUMENT);
      reactor->Finish(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                                   (e.field.empty() ? "" : e.field + ": ") + e.detail));
      return;
    }
    s->done = [self = shared_from_this(), ctx, reactor, response](Submission& sub) {
      sub.fill(sub.items[0], *response);
      // One recipient: its refusal is the call's status.
      if (sub.recipients.size() == 1 && sub.items[0].recipients == 1) {
        const Submission::Recipient& r = sub.recipients[0];
        const uint32_t status = sub.outcome(r);
        if (status != st::ESME_ROK) {
          ctx->AddTrailingMetadata("smpp-command-status", std::to_string(status));
          const std::string text =
              r.error ? r.error->field + ": " + r.error->detail
                      : fmt::format("{} ({:#x})", smpp::status_name(status), status);
          grpc::Status refusal = r.error ? grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, text)
                                         : status_of(status, text);
          self->count("Send", refusal.error_code());
          reactor->Finish(refusal);
          return;
        }
      }
      self->count("Send", grpc::StatusCode::OK);
      reactor->Finish(grpc::Status::OK);
    };
    submit(std::get<Caller>(who), std::move(s), executor());
    return;
  }

  grpc::ServerUnaryReactor* SendBatch(grpc::CallbackServerContext* ctx, const grpc::ByteBuffer* in,
                                 grpc::ByteBuffer* out) override {
    auto reactor =
        std::make_shared<UnaryCall<v1::SendBatchRequest, v1::SendBatchResponse>>(ctx->DefaultReactor(), out);
    if (!parse(in, reactor->request)) return not_parsed(reactor, "SendBatch", "smppd.v1.SendBatchRequest");
    authenticate_then(*ctx, "SendBatch", [self = shared_from_this(), ctx, reactor](Who who) {
      self->send_batch_authenticated(ctx, reactor, std::move(who));
    });
    return reactor->reactor;
  }

  // SendBatch, once the caller is known (or refused).
  void send_batch_authenticated([[maybe_unused]] grpc::CallbackServerContext* ctx,
                         const std::shared_ptr<UnaryCall<v1::SendBatchRequest, v1::SendBatchResponse>>& reactor, Who who) {
    const v1::SendBatchRequest* request = &reactor->request;
    v1::SendBatchResponse* response = &reactor->response;
    if (auto* r = std::get_if<Refusal>(&who)) {
      finish_later(reactor, r->status, r->delay);
      return;
    }
    if (stopping_.load()) {
      count("SendBatch", grpc::StatusCode::UNAVAILABLE);
      reactor->Finish(grpc::Status(grpc::StatusCode::UNAVAILABLE, "smppd is stopping"));
      return;
    }
    if (!take_request()) {
      count("SendBatch", grpc::StatusCode::RESOURCE_EXHAUSTED);
      reactor->Finish(grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED,
                                   "the listener's rate_limit: send again later"));
      return;
    }
    if (request->messages_size() == 0 || request->messages_size() > 1000) {
      count("SendBatch", grpc::StatusCode::INVALID_ARGUMENT);
      reactor->Finish(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                                   "messages: 1 to 1000 messages, got " +
                                       std::to_string(request->messages_size())));
      return;
    }
    std::vector<const v1::SendRequest*> list;
    for (const auto& m : request->messages()) list.push_back(&m);
    auto prepared = prepare(list, true);
    if (auto* status = std::get_if<grpc::Status>(&prepared)) {
      count("SendBatch", status->error_code());
      reactor->Finish(*status);
      return;
    }
    auto s = std::get<std::shared_ptr<Submission>>(std::move(prepared));
    s->done = [self = shared_from_this(), reactor, response](Submission& sub) {
      uint32_t accepted = 0;
      uint32_t refused = 0;
      for (const Submission::Item& item : sub.items) {
        sub.fill(item, *response->add_messages());
        if (item.error) {
          ++refused;
          continue;
        }
        for (std::size_t k = 0; k < item.recipients; ++k) {
          (sub.outcome(sub.recipients[item.first_recipient + k]) == st::ESME_ROK ? accepted
                                                                                 : refused) += 1;
        }
      }
      response->set_accepted(accepted);
      response->set_refused(refused);
      self->count("SendBatch", grpc::StatusCode::OK);
      reactor->Finish(grpc::Status::OK);
    };
    submit(std::get<Caller>(who), std::move(s), executor());
    return;
  }

  class Stream;
  grpc::ServerBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer>* SendStream(
      grpc::CallbackServerContext* ctx) override;
  class EventStream;
  grpc::ServerBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer>* Events(
      grpc::CallbackServerContext* ctx) override;

  grpc::ServerUnaryReactor* GetMessage(grpc::CallbackServerContext* ctx, const grpc::ByteBuffer* in,
                                 grpc::ByteBuffer* out) override {
    auto reactor =
        std::make_shared<UnaryCall<v1::GetMessageRequest, v1::MessageState>>(ctx->DefaultReactor(), out);
    if (!parse(in, reactor->request)) return not_parsed(reactor, "GetMessage", "smppd.v1.GetMessageRequest");
    authenticate_then(*ctx, "GetMessage", [self = shared_from_this(), ctx, reactor](Who who) {
      self->get_message_authenticated(ctx, reactor, std::move(who));
    });
    return reactor->reactor;
  }

  // GetMessage, once the caller is known (or refused).
  void get_message_authenticated([[maybe_unused]] grpc::CallbackServerContext* ctx,
                         const std::shared_ptr<UnaryCall<v1::GetMessageRequest, v1::MessageState>>& reactor, Who who) {
    const v1::GetMessageRequest* request = &reactor->request;
    v1::MessageState* response = &reactor->response;
    if (auto* r = std::get_if<Refusal>(&who)) {
      finish_later(reactor, r->status, r->delay);
      return;
    }
    const grpc::Status status = message_state(std::get<Caller>(who), request->message_id(), *response);
    count("GetMessage", status.error_code());
    reactor->Finish(status);
    return;
  }

  grpc::Status message_state(const Caller& caller, const std::string& text, v1::MessageState& o) {
    std::optional<uint64_t> id = gateway::parse_message_id(text, smpp::Version::v34);
    if (!id) id = gateway::parse_message_id(text, smpp::Version::v33);
    if (!id) return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "message_id: not an id of smppd's");
    const std::string_view client = caller.client.system_id;
    o.set_message_id(text);
    if (parts_.store != nullptr) {
      const auto m = parts_.store->message(*id, true);
      if (!m || m->client != client) {
        return grpc::Status(grpc::StatusCode::NOT_FOUND, "no such message: " + text);
      }
      o.set_state(std::string(store::state_name(m->state)));
      o.set_route(m->route);
      o.set_upstream(m->upstream);
      o.set_smsc_message_id(m->smsc_id);
      o.set_from(m->source);
      o.set_to(m->destination);
      o.set_parts(m->parts);
      o.set_attempts(m->attempts);
      o.set_error(m->error);
      if (m->accepted_at) *o.mutable_accepted_at() = timestamp_ms(m->accepted_at);
      if (m->submitted_at) *o.mutable_submitted_at() = timestamp_ms(m->submitted_at);
      if (m->done_at) *o.mutable_done_at() = timestamp_ms(m->done_at);
      for (const auto& e : m->history) {
        v1::MessageEvent* h = o.add_history();
        *h->mutable_at() = timestamp_ms(e.at);
        h->set_state(std::string(store::state_name(e.state)));
        h->set_upstream(e.upstream);
        h->set_smsc_message_id(e.smsc_id);
        h->set_error(e.error);
        h->set_detail(e.detail);
      }
      return grpc::Status::OK;
    }
    const auto rec = parts_.gateway.messages().find_by_id(*id);
    if (!rec || rec->client.view() != client) {
      return grpc::Status(grpc::StatusCode::NOT_FOUND,
                          "no such message: " + text +
                              " (without storage smppd keeps only recent messages that asked for "
                              "a receipt)");
    }
    o.set_state(rec->final_receipt ? "final receipt received" : "submitted");
    o.set_smsc_message_id(std::string(rec->smsc_id.view()));
    o.set_upstream(parts_.gateway.upstream_name(rec->upstream));
    o.set_final_receipt(rec->final_receipt);
    return grpc::Status::OK;
  }

  const config::ListenerConfig listener_;
  GrpcApiParts parts_;
  // Set by GrpcApi::stop: messages still coming are answered UNAVAILABLE, not handed on.
  std::atomic<bool> stopping_{false};
  // The streams open, so that a stop ends them (a client keeps its streams open for ever: the
  // server's Shutdown would wait for its whole deadline).
  std::mutex live_mutex_;
  std::vector<std::weak_ptr<Stream>> live_streams_;
  std::vector<std::weak_ptr<EventStream>> live_events_;
  template <class T>
  void track(std::vector<std::weak_ptr<T>>& list, const std::shared_ptr<T>& s) {
    std::lock_guard lock(live_mutex_);
    if (list.size() >= 64 && list.size() % 64 == 0) {
      std::erase_if(list, [](const auto& w) { return w.expired(); });
    }
    list.push_back(s);
  }
  // Ends every open stream: SendStream once what it took is answered, Events at once (what
  // it holds goes back to the client's queue).
  void stop_streams();
  limits::IpFilter ip_filter_;
  limits::SharedTokenBucket requests_;
  std::atomic<std::size_t> next_executor_{0};
  std::atomic<uint32_t> next_reference_{0};
};

// One SendStream: each message read is handed to the gateway at once and answered when its
// parts are; at most kStreamInFlight wait for their answers (then reading pauses). Writes go
// one at a time, in the order answers come. Owned by itself until gRPC is done with it; the
// submissions still on their way hold it too, and drop their answers once it is done.
class GrpcApi::Service::Stream final
    : public grpc::ServerBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer>,
      public std::enable_shared_from_this<Stream> {
 public:
  Stream(std::shared_ptr<Service> service, grpc::CallbackServerContext* ctx)
      : service_(std::move(service)), executor_(service_->executor()), ctx_(ctx) {}

  void begin() {
    self_ = shared_from_this();
    service_->authenticate_then(*ctx_, "SendStream",
                                [self = self_](Service::Who who) { self->start(std::move(who)); });
  }

  // Once the caller is known (or refused); nothing is read before.
  void start(Service::Who who) {
    if (auto* c = std::get_if<Caller>(&who)) caller_ = std::move(*c);
    else refusal_ = std::get<Refusal>(std::move(who));
    if (!caller_) {
      std::lock_guard<std::recursive_mutex> lock(mutex_);
      finished_ = true;
      refuse_stream(self_, *refusal_, executor_);
      return;
    }
    service_->track(service_->live_streams_, self_);
    StartRead(&request_);
  }

  // smppd stops: nothing more is read; the stream ends once what it took is answered.
  void stop() {
    std::lock_guard<std::recursive_mutex> lock(mutex_);
    reads_done_ = true;
    advance_locked();
  }

  void OnReadDone(bool ok) override {
    {
      std::lock_guard<std::recursive_mutex> lock(mutex_);
      if (!ok) {
        reads_done_ = true;
        advance_locked();
        return;
      }
      if (finished_) return;  // (a write failed meanwhile: nothing more is sent)
    }
    v1::SendRequest message;
    if (parse(&request_, message)) {
      handle(message);
    } else {
      v1::SendResponse out;
      const grpc::Status why = not_a("smppd.v1.SendRequest");
      out.set_code(static_cast<int>(why.error_code()));
      out.set_error(why.error_message());
      std::lock_guard<std::recursive_mutex> lock(mutex_);
      ++in_flight_;
      answered_locked(std::move(out), 0);
    }
    std::lock_guard<std::recursive_mutex> lock(mutex_);
    if (finished_ || reads_done_) return;
    if (room_locked()) {
      StartRead(&request_);
    } else {
      paused_ = true;
    }
  }

  void OnWriteDone(bool ok) override {
    std::lock_guard<std::recursive_mutex> lock(mutex_);
    writing_ = false;
    if (!ok) {
      // The client is gone (or cancelled): nothing more can be written.
      if (!finished_) {
        finished_ = true;
        Finish(grpc::Status(grpc::StatusCode::CANCELLED, "the stream broke"));
      }
      return;
    }
    advance_locked();
    resume_locked();
  }

  void OnCancel() override {}

  void OnDone() override {
    {
      std::lock_guard<std::recursive_mutex> lock(mutex_);
      done_ = true;
      finished_ = true;
    }
    if (caller_) service_->count("SendStream", grpc::StatusCode::OK);
    self_.reset();  // answers still on their way hold the rest
  }

 private:
  void handle(const v1::SendRequest& r) {
    const bool stopping = service_->stopping_.load();
    if (stopping || !service_->take_request()) {
      v1::SendResponse out;
      out.set_request_id(r.request_id());
      out.set_client_ref(r.client_ref());
      out.set_code(static_cast<int>(stopping ? grpc::StatusCode::UNAVAILABLE
                                             : grpc::StatusCode::RESOURCE_EXHAUSTED));
      out.set_error(stopping ? "smppd is stopping" : "the listener's rate_limit: send again later");
      std::lock_guard<std::recursive_mutex> lock(mutex_);
      ++in_flight_;
      answered_locked(std::move(out), 0);
      return;
    }
    auto prepared = service_->prepare({&r}, false);
    std::lock_guard<std::recursive_mutex> lock(mutex_);
    ++in_flight_;
    if (auto* status = std::get_if<grpc::Status>(&prepared)) {
      v1::SendResponse out;
      out.set_request_id(r.request_id());
      out.set_code(static_cast<int>(status->error_code()));
      out.set_error(status->error_message());
      answered_locked(std::move(out), 0);
      return;
    }
    auto s = std::get<std::shared_ptr<Submission>>(std::move(prepared));
    // Counted by its parts: a message to 10,000 recipients weighs as much as 10,000 messages.
    const std::size_t units = s->parts.size();
    in_flight_units_ += units;
    s->done = [me = shared_from_this(), units](Submission& sub) {
      v1::SendResponse out;
      sub.fill(sub.items[0], out);
      std::lock_guard<std::recursive_mutex> guard(me->mutex_);
      me->answered_locked(std::move(out), units);
    };
    service_->submit(*caller_, std::move(s), executor_);
  }

  // What the stream holds: parts on their way and answers not written yet.
  bool room_locked() const {
    return in_flight_units_ + in_flight_ + queue_.size() < GrpcApi::kStreamInFlight;
  }

  void resume_locked() {
    if (!paused_ || reads_done_ || finished_) return;
    if (in_flight_units_ + in_flight_ + queue_.size() >= GrpcApi::kStreamInFlight / 2) return;
    paused_ = false;
    StartRead(&request_);
  }

  void answered_locked(v1::SendResponse out, std::size_t units) {
    --in_flight_;
    in_flight_units_ -= units;
    if (done_ || finished_) return;
    queue_.push_back(std::move(out));
    advance_locked();
    resume_locked();
  }

  void advance_locked() {
    if (finished_ || writing_) return;
    if (!queue_.empty()) {
      writing_ = true;
      bool own = false;
      current_.Clear();  // (the last answer's; gRPC writes only into an empty buffer)
      grpc::SerializationTraits<v1::SendResponse>::Serialize(queue_.front(), &current_, &own);
      queue_.pop_front();
      StartWrite(&current_);
      return;
    }
    if (reads_done_ && in_flight_ == 0) {
      finished_ = true;
      Finish(grpc::Status::OK);
    }
  }

  std::shared_ptr<Service> service_;
  asio::any_io_executor executor_;
  grpc::CallbackServerContext* ctx_;  // valid until the call is done
  std::optional<Caller> caller_;
  std::optional<Refusal> refusal_;
  std::shared_ptr<Stream> self_;
  grpc::ByteBuffer request_;
  std::recursive_mutex mutex_;  // a reaction may run inline in a Start* call
  std::deque<v1::SendResponse> queue_;
  grpc::ByteBuffer current_;
  std::size_t in_flight_ = 0;        // messages not answered yet
  std::size_t in_flight_units_ = 0;  // their parts
  bool writing_ = false;
  bool reads_done_ = false;
  bool paused_ = false;
  bool finished_ = false;
  bool done_ = false;
};

grpc::ServerBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer>* GrpcApi::Service::SendStream(
    grpc::CallbackServerContext* ctx) {
  auto stream = std::make_shared<Stream>(shared_from_this(), ctx);
  stream->begin();
  return stream.get();
}

namespace {

// A receipt or MO as an Event.
void fill_event(const smpp::Pdu& pdu, v1::Event& e) {
  uint8_t esm_class = 0;
  std::string_view from;
  std::string_view to;
  uint8_t data_coding = 0;
  std::span<const uint8_t> bytes;
  const smpp::TlvList* tlvs = nullptr;
  std::optional<smpp::Receipt> receipt;
  if (const auto* d = pdu.as<smpp::DeliverSm>()) {
    esm_class = d->esm_class;
    from = d->source_addr.view();
    to = d->destination_addr.view();
    data_coding = d->data_coding;
    bytes = d->short_message.bytes();
    tlvs = &d->tlvs;
    if (smpp::is_receipt(esm_class)) receipt = smpp::parse_receipt(*d);
  } else if (const auto* ds = pdu.as<smpp::DataSm>()) {
    esm_class = ds->esm_class;
    from = ds->source_addr.view();
    to = ds->destination_addr.view();
    data_coding = ds->data_coding;
    tlvs = &ds->tlvs;
    if (smpp::is_receipt(esm_class)) receipt = smpp::parse_receipt(*ds);
  }
  if (bytes.empty() && tlvs != nullptr) {
    if (auto payload = tlvs->get(smpp::tlv::message_payload)) bytes = *payload;
  }
  if (smpp::is_receipt(esm_class)) {
    v1::Receipt* r = e.mutable_receipt();
    r->set_from(std::string(from));
    r->set_to(std::string(to));
    if (receipt) {
      r->set_message_id(receipt->id);
      r->set_state(receipt->stat.empty() ? std::string(smpp::stat_word(receipt->state))
                                         : receipt->stat);
      r->set_error(receipt->err);
      r->set_submit_date(receipt->submit_date);
      r->set_done_date(receipt->done_date);
      r->set_text(receipt->text);
    }
    return;
  }
  v1::Mo* m = e.mutable_mo();
  m->set_from(std::string(from));
  m->set_to(std::string(to));
  m->set_data_coding(data_coding);
  std::optional<smpp::ConcatInfo> concat;
  std::span<const uint8_t> data = bytes;
  if (esm_class & smpp::esm_class::kUdhi) {
    const smpp::Udh udh = smpp::parse_udh(bytes);
    if (udh.ok()) {
      concat = udh.concat;
      data = udh.payload;
    }
  }
  if (!concat && tlvs != nullptr) concat = smpp::sar_concat(*tlvs);
  if (concat) {
    m->set_reference(concat->reference);
    m->set_parts(concat->total);
    m->set_part(concat->seq);
  }
  if (std::optional<std::string> text = gateway::message_text(pdu)) {
    m->set_text(std::move(*text));
  } else {
    m->set_binary(std::string(data.begin(), data.end()));
  }
}

}  // namespace

// One Events stream: a receiver of the client's deliveries (gateway::ExternalReceiver) with a
// window of its own. Each delivery it takes is written as an Event and held until the client
// acknowledges its event_id; when the stream ends, what it holds goes back to the client's
// queue, in its place, for the next receiver.
class GrpcApi::Service::EventStream final
    : public grpc::ServerBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer>,
      public gateway::ExternalReceiver,
      public std::enable_shared_from_this<EventStream> {
 public:
  static constexpr uint32_t kDefaultWindow = 100;
  static constexpr uint32_t kMaxWindow = 10000;

  EventStream(std::shared_ptr<Service> service, grpc::CallbackServerContext* ctx)
      : service_(std::move(service)), executor_(service_->executor()), ctx_(ctx) {}

  void begin() {
    self_ = shared_from_this();
    service_->authenticate_then(*ctx_, "Events",
                                [self = self_](Service::Who who) { self->start(std::move(who)); });
  }

  // Once the caller is known (or refused); nothing is read before.
  void start(Service::Who who) {
    std::lock_guard<std::recursive_mutex> lock(mutex_);
    // Cancelled while its credentials were with the backends: finished already.
    if (closed_) return;
    if (auto* c = std::get_if<Caller>(&who)) caller_ = std::move(*c);
    else refusal_ = std::get<Refusal>(std::move(who));
    if (!caller_) {
      closed_ = true;
      finished_ = true;
      refuse_stream(self_, *refusal_, executor_);
      return;
    }
    service_->track(service_->live_events_, self_);
    StartRead(&request_);
  }

  // smppd stops: the stream ends; what it holds goes back to the client's queue.
  void stop() { close(grpc::Status(grpc::StatusCode::UNAVAILABLE, "smppd is stopping")); }

  bool take(gateway::Delivery& d) override {
    std::lock_guard<std::recursive_mutex> lock(mutex_);
    if (closed_) return false;
    const uint64_t id = ++next_event_;
    v1::Event e;
    e.set_event_id(id);
    e.set_delivery_id(d.stored != 0 ? d.stored : d.order);
    fill_event(d.pdu, e);
    held_.emplace(id, std::move(d));
    queue_.push_back(std::move(e));
    advance_locked();
    return true;
  }

  void OnReadDone(bool ok) override {
    if (!ok) {
      close(grpc::Status::OK);
      return;
    }
    v1::EventsRequest message;
    if (!parse(&request_, message)) {
      close(not_a("smppd.v1.EventsRequest"));
      return;
    }
    std::vector<gateway::Delivery> taken;
    bool first = false;
    {
      std::lock_guard<std::recursive_mutex> lock(mutex_);
      if (closed_) return;
      if (!registered_) {
        registered_ = true;
        first = true;
        const uint32_t asked = message.window();
        window_ = asked == 0 ? kDefaultWindow : std::min(asked, kMaxWindow);
      }
      for (uint64_t id : message.ack()) {
        auto it = held_.find(id);
        if (it == held_.end()) continue;  // unknown or acknowledged already: nothing to do
        taken.push_back(std::move(it->second));
        held_.erase(it);
      }
    }
    gateway::ClientRegistry& registry = service_->parts_.gateway.clients();
    const std::string& client = caller_->client.system_id;
    for (gateway::Delivery& d : taken) registry.external_done(client, this, std::move(d), true);
    if (first) {
      registry.add_external(client, shared_from_this(), executor_, window_);
      // Closed meanwhile (close() found nothing registered yet): it takes nothing.
      bool closed = false;
      {
        std::lock_guard<std::recursive_mutex> lock(mutex_);
        closed = closed_;
      }
      if (closed) {
        registry.remove_external(client, this);
        return;
      }
    }
    std::lock_guard<std::recursive_mutex> lock(mutex_);
    if (!closed_) StartRead(&request_);
  }

  void OnWriteDone(bool ok) override {
    if (!ok) {
      close(grpc::Status(grpc::StatusCode::CANCELLED, "the stream broke"));
      return;
    }
    std::lock_guard<std::recursive_mutex> lock(mutex_);
    writing_ = false;
    advance_locked();
  }

  void OnCancel() override { close(grpc::Status(grpc::StatusCode::CANCELLED, "cancelled")); }

  void OnDone() override {
    close(grpc::Status::OK);
    if (caller_) service_->count("Events", grpc::StatusCode::OK);
    self_.reset();
  }

 private:
  void advance_locked() {
    if (closed_ || writing_ || queue_.empty()) return;
    writing_ = true;
    bool own = false;
    current_.Clear();  // (the last event's; gRPC writes only into an empty buffer)
    grpc::SerializationTraits<v1::Event>::Serialize(queue_.front(), &current_, &own);
    queue_.pop_front();
    StartWrite(&current_);
  }

  // The stream ends: nothing more is taken, what was not acknowledged goes back to the client's
  // queue. Once.
  void close(const grpc::Status& status) {
    std::vector<gateway::Delivery> back;
    bool finish = false;
    bool registered = false;
    {
      std::lock_guard<std::recursive_mutex> lock(mutex_);
      if (closed_) return;
      closed_ = true;
      finish = !finished_;
      finished_ = true;
      registered = registered_;
      for (auto& [id, d] : held_) back.push_back(std::move(d));
      held_.clear();
      queue_.clear();
    }
    if (registered) {
      gateway::ClientRegistry& registry = service_->parts_.gateway.clients();
      const std::string& client = caller_->client.system_id;
      registry.remove_external(client, this);
      // In their order: the registry puts each back in its place.
      for (gateway::Delivery& d : back) registry.external_done(client, this, std::move(d), false);
    }
    if (finish) Finish(status);
  }

  std::shared_ptr<Service> service_;
  asio::any_io_executor executor_;
  grpc::CallbackServerContext* ctx_;  // valid until the call is done
  std::optional<Caller> caller_;
  std::optional<Refusal> refusal_;
  std::shared_ptr<EventStream> self_;
  grpc::ByteBuffer request_;
  std::recursive_mutex mutex_;  // a reaction may run inline in a Start* call
  std::map<uint64_t, gateway::Delivery> held_;  // by event_id: written, not acknowledged
  std::deque<v1::Event> queue_;
  grpc::ByteBuffer current_;
  uint64_t next_event_ = 0;
  uint32_t window_ = kDefaultWindow;
  bool registered_ = false;
  bool writing_ = false;
  bool closed_ = false;
  bool finished_ = false;
};

void GrpcApi::Service::stop_streams() {
  std::vector<std::shared_ptr<Stream>> streams;
  std::vector<std::shared_ptr<EventStream>> events;
  {
    std::lock_guard lock(live_mutex_);
    for (auto& w : live_streams_) {
      if (auto p = w.lock()) streams.push_back(std::move(p));
    }
    for (auto& w : live_events_) {
      if (auto p = w.lock()) events.push_back(std::move(p));
    }
  }
  for (auto& s : streams) s->stop();
  for (auto& e : events) e->stop();
}

grpc::ServerBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer>* GrpcApi::Service::Events(
    grpc::CallbackServerContext* ctx) {
  auto stream = std::make_shared<EventStream>(shared_from_this(), ctx);
  stream->begin();
  return stream.get();
}

GrpcApi::GrpcApi(const config::ListenerConfig& listener, GrpcApiParts parts)
    : listener_(listener), service_(std::make_shared<Service>(listener, std::move(parts))) {}

GrpcApi::~GrpcApi() {
  if (server_) stop(std::chrono::milliseconds(0));
}

uint16_t GrpcApi::start() {
  // A request that does not parse is answered and counted here; protobuf's own line per such
  // request would let a client fill the log.
  google::protobuf::SetLogHandler(nullptr);
  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  std::shared_ptr<grpc::ServerCredentials> credentials;
  const config::TlsConfig& tls = listener_.tls;
  if (tls.enabled) {
    grpc::SslServerCredentialsOptions options(
        tls.client_auth == config::ClientAuth::none
            ? GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE
        : tls.client_auth == config::ClientAuth::require
            ? GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY
            : GRPC_SSL_REQUEST_CLIENT_CERTIFICATE_AND_VERIFY);
    options.pem_key_cert_pairs.push_back(
        {read_file(tls.key, "TLS key"), read_file(tls.cert, "TLS certificate")});
    if (!tls.ca.empty()) options.pem_root_certs = read_file(tls.ca, "TLS CA");
    credentials = grpc::SslServerCredentials(options);
  } else {
    credentials = grpc::InsecureServerCredentials();
  }
  const std::string host = listener_.address.host.empty() ? "0.0.0.0"
                           : listener_.address.host.find(':') != std::string::npos
                               ? "[" + listener_.address.host + "]"
                               : listener_.address.host;
  int port = 0;
  builder.AddListeningPort(host + ":" + std::to_string(listener_.address.port), credentials, &port);
  builder.RegisterService(service_.get());
  const config::GrpcSettings& g = listener_.grpc;
  builder.SetMaxReceiveMessageSize(static_cast<int>(std::min<uint64_t>(g.max_recv_msg_size, INT32_MAX)));
  builder.SetMaxSendMessageSize(static_cast<int>(std::min<uint64_t>(g.max_send_msg_size, INT32_MAX)));
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIME_MS, static_cast<int>(g.keepalive_time.count()));
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIMEOUT_MS,
                             static_cast<int>(g.keepalive_timeout.count()));
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
  // A client that opens thousands of streams gets at most this many at once per connection.
  builder.AddChannelArgument(GRPC_ARG_MAX_CONCURRENT_STREAMS, 100);
  builder.AddChannelArgument(GRPC_ARG_MAX_CONNECTION_IDLE_MS,
                             static_cast<int>(listener_.timeouts.idle.count()));
  server_ = builder.BuildAndStart();
  if (!server_ || port == 0) {
    server_.reset();
    throw std::runtime_error("listener " + listener_.name + ": cannot listen on " +
                             listener_.address.to_string());
  }
  return static_cast<uint16_t>(port);
}

void GrpcApi::stop(std::chrono::milliseconds grace) {
  if (!server_) return;
  service_->stopping_.store(true);
  service_->stop_streams();
  server_->Shutdown(std::chrono::system_clock::now() + grace);
  server_.reset();
}

}  // namespace smppd::grpcapi
