// Jasmin's HTTP and REST APIs (api/message/jasmin_send): any bytes, read as a query string and
// form body, a JSON body of /send, a REST /secure/send body, a /secure/sendbatch body, or /rate
// and /balance arguments, are read without crashing or reading out of bounds. Every refusal's
// body is what Jasmin writes for it (`Error "<message>"`, a JSON string, a JSON object); what is
// accepted turns into a request whose submit_sm PDUs survive the wire.
#include <boost/json/parse.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "api/message/jasmin_send.hpp"
#include "api/message/message_build.hpp"
#include "core/utf8.hpp"
#include "smpp/codec.hpp"

namespace {

using namespace smppd::api;

const std::chrono::sys_seconds kNow{std::chrono::seconds(1'800'000'000)};

bool is_json(std::string_view text) {
  boost::system::error_code ec;
  (void)boost::json::parse(text, ec);
  return !ec;
}

bool ascii(std::string_view text) {
  for (char c : text) {
    if (static_cast<unsigned char>(c) > 0x7E) return false;
  }
  return true;
}

void check_refusal(const JasminRefusal& r) {
  if (r.status < 400 || r.status > 599 || r.body.empty()) std::abort();
  // The REST API's answer to it is JSON.
  if (!is_json(jasmin_rest_answer(r.status, r.body))) std::abort();
}

void check_send(const JasminArgs& args) {
  const auto parsed = parse_jasmin_send(args);
  if (const auto* r = std::get_if<JasminRefusal>(&parsed)) {
    check_refusal(*r);
    if (r->status != 400 || r->body != "Error \"" + r->message + "\"") std::abort();
    return;
  }
  const JasminSend& s = std::get<JasminSend>(parsed);
  if (s.username.empty() || s.username.size() > 17 || s.to.empty()) std::abort();
  if (s.dlr != (s.dlr_level >= 1 && s.dlr_level <= 3)) std::abort();
  if (s.dlr && s.dlr_method != "GET" && s.dlr_method != "POST") std::abort();
  const auto request = jasmin_to_request(s, kNow);
  if (const auto* r = std::get_if<JasminRefusal>(&request)) {
    check_refusal(*r);
    return;
  }
  const MessageRequest& m = std::get<MessageRequest>(request);
  if (m.to.size() != 1 || m.priority_flag > 3) std::abort();
  if (m.text && !smppd::utf8::valid(*m.text)) std::abort();
  const auto built = build_submits(m, m.to.front());
  if (const auto* b = std::get_if<BuiltMessage>(&built)) {
    for (const smpp::Pdu& pdu : b->pdus) {
      smpp::Pdu back;
      smpp::DecodeError error;
      if (!smpp::decode(smpp::encode(pdu), back, error)) std::abort();
      const auto* sent = back.as<smpp::SubmitSm>();
      if (!sent || !(*sent == *pdu.as<smpp::SubmitSm>())) std::abort();
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::string_view input(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0] % 5) {
    case 0: {  // a query, then after a newline a form body
      const std::size_t split = input.find('\n');
      const JasminArgs sources[] = {
          parse_jasmin_form(input.substr(0, split)),
          parse_jasmin_form(split == std::string_view::npos ? std::string_view()
                                                            : input.substr(split + 1))};
      check_send(merge_jasmin_args(sources));
      break;
    }
    case 1: {  // /send with Content-Type application/json
      JasminArgs args = parse_jasmin_form("username=u&password=p");
      if (auto r = merge_jasmin_json(args, input)) {
        check_refusal(*r);
      } else {
        check_send(args);
      }
      break;
    }
    case 2: {  // /secure/send
      const auto args = jasmin_rest_send_args(input, "shop", "secret");
      if (const auto* r = std::get_if<JasminRefusal>(&args)) {
        check_refusal(*r);
        if (!is_json(r->body)) std::abort();
      } else {
        check_send(std::get<JasminArgs>(args));
      }
      break;
    }
    case 3: {  // /secure/sendbatch
      JasminBatchLimits limits;
      limits.max_messages = 64;
      limits.max_bytes = 1 << 16;
      const auto batch = parse_jasmin_batch(input, "shop", "secret", kNow, limits);
      if (const auto* r = std::get_if<JasminRefusal>(&batch)) {
        check_refusal(*r);
        if (!is_json(r->body)) std::abort();
        break;
      }
      const JasminBatch& b = std::get<JasminBatch>(batch);
      if (b.messages.size() > limits.max_messages || b.delay.count() < 0) std::abort();
      if (!is_json(jasmin_batch_answer("id", b))) std::abort();
      for (const JasminArgs& message : b.messages) check_send(message);
      break;
    }
    default: {  // /rate and /balance
      const JasminArgs args = parse_jasmin_form(input);
      const auto rate = parse_jasmin_rate(args);
      if (const auto* r = std::get_if<JasminRefusal>(&rate)) {
        if (!ascii(r->body) || !is_json(r->body)) std::abort();
      } else {
        (void)jasmin_to_request(std::get<JasminSend>(rate), kNow);
      }
      const auto balance = parse_jasmin_balance(args);
      if (const auto* r = std::get_if<JasminRefusal>(&balance)) {
        if (!ascii(r->body) || !is_json(r->body)) std::abort();
      }
      break;
    }
  }
  return 0;
}
