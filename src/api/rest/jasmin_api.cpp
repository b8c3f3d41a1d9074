// Jasmin's HTTP API and REST API on smppd's HTTP listener (compat: [jasmin]), so that
// applications written for Jasmin (RapidPro's courier...) work unchanged:
//
//   GET|POST /send          Jasmin's arguments (query, form, or a JSON body): 200 Success "<id>"
//   GET      /ping          Jasmin/PONG
//   GET      /balance       {"balance": "ND", "sms_count": "ND"} (smppd does no billing)
//   GET      /rate          {"unit_rate": 0.0, "submit_sm_count": <parts>}
//   POST     /secure/send       the REST API: Basic credentials, a JSON body, {"data": ...}
//   POST     /secure/sendbatch  many messages; each one's outcome to callback_url/errback_url
//   GET      /secure/balance, /secure/rate
//
// The arguments are read and checked by api/message/jasmin_send (Jasmin's table and bodies);
// credentials are a configured client's system_id and password; the messages go through
// HttpApi::send as any face's, their DLR (dlr-url, dlr-level, dlr-method) as a CallbackSpec
// of style jasmin on the last part (api/callbacks makes the calls, expecting ACK/Jasmin).

#include <fmt/format.h>

#include "api/callbacks/callback_format.hpp"
#include "api/message/jasmin_send.hpp"
#include "api/http/request_parts.hpp"
#include "api/message/message_build.hpp"
#include "api/rest/http_api.hpp"

namespace smppd::rest {

namespace {

http::Response text(unsigned status, std::string body) {
  return http::text_response(status, "text/plain", std::move(body));
}

http::Response json_text(unsigned status, std::string body) {
  return http::text_response(status, "application/json", std::move(body));
}

std::string error_body(std::string_view message) { return fmt::format("Error \"{}\"", message); }

// The arguments of a /send, /rate or /balance request as Twisted gives them: the query, a form
// body over it, then a JSON body's keys (Content-Type exactly application/json).
std::variant<api::JasminArgs, api::JasminRefusal> request_args(const http::Request& r) {
  std::vector<api::JasminArgs> sources;
  sources.push_back(api::parse_jasmin_form(r.query));
  const std::string_view type = r.header("content-type");
  if (!r.body.empty() && type.starts_with("application/x-www-form-urlencoded")) {
    sources.push_back(api::parse_jasmin_form(r.body));
  }
  api::JasminArgs args = api::merge_jasmin_args(sources);
  if (!r.body.empty() && api::is_jasmin_json(type)) {
    if (auto refusal = api::merge_jasmin_json(args, r.body)) return *refusal;
  }
  return args;
}

}  // namespace

void HttpApi::jasmin_send(const http::Request& r, const http::Reply& reply,
                          const api::JasminArgs& args, std::function<void(http::Response)> done) {
  auto parsed = api::parse_jasmin_send(args);
  if (auto* e = std::get_if<api::JasminRefusal>(&parsed)) return done(text(e->status, e->body));
  const api::JasminSend& j = std::get<api::JasminSend>(parsed);
  http::Response refusal;
  std::chrono::milliseconds delay{0};
  const std::pair<std::string_view, std::string_view> credentials{j.username, j.password};
  auto caller = authenticate(r, refusal, delay, &credentials);
  if (!caller && refusal.status == kAskedExternally) return;  // handled again with the answer
  if (!caller) {
    http::Response out =
        text(403, error_body(fmt::format("Authentication failure for username:{}", j.username)));
    return http::run_after(reply.executor(), delay,
                           [done = std::move(done), out = std::move(out)]() mutable {
                             done(std::move(out));
                           });
  }
  const auto now = std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now());
  auto request = api::jasmin_to_request(j, now);
  if (auto* e = std::get_if<api::JasminRefusal>(&request)) return done(text(e->status, e->body));
  std::vector<api::MessageResult> items;
  items.push_back(std::move(std::get<api::MessageRequest>(request)));
  CallbackOf callback_of;
  if (j.dlr && j.dlr_url) {
    auto spec = std::make_shared<gateway::CallbackSpec>();
    spec->style = gateway::CallbackSpec::Style::jasmin;
    spec->mask = static_cast<uint8_t>(j.dlr_level);
    spec->post = j.dlr_method != "GET";
    spec->url = *j.dlr_url;
    std::shared_ptr<const gateway::CallbackSpec> shared = std::move(spec);
    callback_of = [shared](const api::MessageRequest&, const api::Address&) { return shared; };
  }
  send(*caller, std::move(items), false, r, reply, Dialect::jasmin, callback_of, std::move(done));
}

void HttpApi::jasmin_http(const http::Request& r, const http::Reply& reply,
                          std::function<void(http::Response)> done) {
  const std::string& p = r.path;
  if (p != "/send" && r.method != "GET") {
    return done(text(405, "Method Not Allowed"));  // Twisted's, for /balance and /rate
  }
  auto args = request_args(r);
  if (auto* e = std::get_if<api::JasminRefusal>(&args)) return done(text(e->status, e->body));
  const api::JasminArgs& a = std::get<api::JasminArgs>(args);
  if (p == "/send") return jasmin_send(r, reply, a, std::move(done));
  // /balance and /rate: their refusals are JSON strings.
  std::string username;
  std::string password;
  std::optional<api::JasminSend> rate;
  if (p == "/balance") {
    auto c = api::parse_jasmin_balance(a);
    if (auto* e = std::get_if<api::JasminRefusal>(&c)) return done(json_text(e->status, e->body));
    username = std::get<api::JasminCredentials>(c).username;
    password = std::get<api::JasminCredentials>(c).password;
  } else {
    auto s = api::parse_jasmin_rate(a);
    if (auto* e = std::get_if<api::JasminRefusal>(&s)) return done(json_text(e->status, e->body));
    rate = std::get<api::JasminSend>(std::move(s));
    username = rate->username;
    password = rate->password;
  }
  http::Response refusal;
  std::chrono::milliseconds delay{0};
  const std::pair<std::string_view, std::string_view> credentials{username, password};
  if (!authenticate(r, refusal, delay, &credentials)) {
    if (refusal.status == kAskedExternally) return;  // handled again with the answer
    http::Response out = json_text(
        403, api::jasmin_json_string(fmt::format("Authentication failure for username:{}",
                                                 username)));
    return http::run_after(reply.executor(), delay,
                           [done = std::move(done), out = std::move(out)]() mutable {
                             done(std::move(out));
                           });
  }
  // smppd does no billing: no balance, no rate; the parts a message takes are counted.
  if (!rate) return done(json_text(200, R"({"balance": "ND", "sms_count": "ND"})"));
  const auto now = std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now());
  auto request = api::jasmin_to_request(*rate, now);
  if (auto* e = std::get_if<api::JasminRefusal>(&request)) {
    return done(json_text(e->status, api::jasmin_json_string(e->message)));
  }
  auto parts = api::count_parts(std::get<api::MessageRequest>(request));
  const std::size_t n =
      std::holds_alternative<std::size_t>(parts) ? std::get<std::size_t>(parts) : 0;
  done(json_text(200, fmt::format(R"({{"submit_sm_count": {}, "unit_rate": 0.0}})", n)));
}

bool HttpApi::jasmin(http::Request& r, http::Reply& reply) {
  const std::string& p = r.path;
  const bool rest = p.starts_with("/secure/");
  if (p != "/send" && p != "/ping" && p != "/balance" && p != "/rate" && !rest) return false;
  auto answer = [this, &reply](http::Response out) {
    codes_->count(out.status);
    reply(std::move(out));
  };
  if (p == "/ping") return answer(text(200, "Jasmin/PONG")), true;
  if (!second_pass() && !requests_.unlimited() &&
      !requests_.try_take(std::chrono::steady_clock::now())) {
    return answer(text(403, error_body("User throughput exceeded"))), true;
  }
  if (!rest) {
    jasmin_http(r, reply, [codes = codes_, reply](http::Response out) {
      codes->count(out.status);
      reply(std::move(out));
    });
    return true;
  }

  // The REST API: Basic credentials for everything under /secure/.
  auto credentials = http::basic_credentials(r.header("authorization"));
  if (!credentials) {
    http::Response out = json_text(
        401, R"({"title": "401 Unauthorized", "description": "Authentication required"})");
    out.headers.emplace_back("WWW-Authenticate", "Basic realm=\"smppd\"");
    return answer(std::move(out)), true;
  }
  const auto& [user, pass] = *credentials;
  auto rest_done = [codes = codes_, reply](http::Response out) {
    http::Response wrapped = json_text(out.status, api::jasmin_rest_answer(out.status, out.body));
    codes->count(wrapped.status);
    reply(std::move(wrapped));
  };
  if (p == "/secure/send") {
    if (r.method != "POST") return answer(json_text(405, R"({"title": "405 Method Not Allowed"})")), true;
    auto args = api::jasmin_rest_send_args(r.body, user, pass);
    if (auto* e = std::get_if<api::JasminRefusal>(&args)) {
      return answer(json_text(e->status, e->body)), true;
    }
    jasmin_send(r, reply, std::get<api::JasminArgs>(args), rest_done);
    return true;
  }
  if (p == "/secure/balance" || p == "/secure/rate") {
    // Proxied to /balance and /rate with the Basic credentials, as Jasmin's REST API does.
    http::Request inner = r;
    inner.path = p.substr(7);
    inner.method = "GET";
    inner.body.clear();
    api::JasminArgs args = api::parse_jasmin_form(r.query);
    args.set("username", std::string(user));
    args.set("password", std::string(pass));
    std::string query;
    for (const auto& arg : args.items()) {
      if (!query.empty()) query.push_back('&');
      query += callbacks::url_encode(arg.name) + "=" + callbacks::url_encode(arg.value);
    }
    inner.query = std::move(query);
    jasmin_http(inner, reply, rest_done);
    return true;
  }
  if (p == "/secure/sendbatch") {
    if (r.method != "POST") return answer(json_text(405, R"({"title": "405 Method Not Allowed"})")), true;
    // Authentication first (Jasmin checks it by calling /balance): 412 when it fails.
    http::Response refusal;
    std::chrono::milliseconds delay{0};
    const std::pair<std::string_view, std::string_view> given{user, pass};
    if (!authenticate(r, refusal, delay, &given)) {
      if (refusal.status == kAskedExternally) return true;  // handled again with the answer
      http::Response out = json_text(
          412, R"({"title": "412 Precondition Failed", "description": "Authentication failed"})");
      if (delay.count() <= 0) return answer(std::move(out)), true;
      return answer_later(reply, std::move(out), delay), true;
    }
    const auto now = std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now());
    auto parsed = api::parse_jasmin_batch(r.body, user, pass, now);
    if (auto* e = std::get_if<api::JasminRefusal>(&parsed)) {
      return answer(json_text(e->status, e->body)), true;
    }
    auto batch = std::make_shared<api::JasminBatch>(std::get<api::JasminBatch>(std::move(parsed)));
    const std::string id = callbacks::random_uuid();
    answer(json_text(200, api::jasmin_batch_answer(id, *batch)));
    // Each message as its own /send; its outcome to callback_url (success) or errback_url.
    auto request = std::make_shared<http::Request>(r);
    request->body.clear();
    auto run = [self = shared_from_this(), batch, id, request, reply, client = std::string(user)] {
      for (const api::JasminArgs& args : batch->messages) {
        const api::JasminArg* to = args.find("to");
        std::string to_text = to != nullptr ? to->value : std::string();
        self->jasmin_send(*request, reply, args,
                    [self, batch, id, to_text, client](http::Response out) {
                      self->codes_->count(out.status);
                      const bool ok = out.status == 200;
                      const auto& url = ok ? batch->callback_url : batch->errback_url;
                      if (!url || !self->parts_.notify) return;
                      const std::string status_text =
                          ok ? out.body : "HTTPAPI error: " + out.body;
                      self->parts_.notify(client, callbacks::with_query(
                          *url, callbacks::form_encode({{"batchId", id},
                                                        {"to", to_text},
                                                        {"status", ok ? "1" : "0"},
                                                        {"statusText", status_text}})));
                    });
      }
    };
    http::run_after(reply.executor(), batch->delay, [run] { outside_request(run); });
    return true;
  }
  answer(json_text(404, R"({"title": "404 Not Found"})"));
  return true;
}

}  // namespace smppd::rest
