// The forms of smppd's HTTP callbacks (api/callbacks/callback_format) from what an SMSC sends:
// any receipt PDU (decoded from the bytes) is read without crashing, and what it gives makes a
// JSON body that parses, Jasmin fields that encode, and Kannel's dlr-url filled in without a
// space or control character (the URL goes on a request line) from any pattern.
#include <boost/json.hpp>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <string_view>

#include "api/callbacks/callback_format.hpp"
#include "smpp/codec.hpp"

namespace {

void no_control(std::string_view s, std::string_view pattern) {
  // What Kannel's escapes put in is encoded; the pattern's own characters are the client's.
  for (std::size_t i = 0; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if ((c < 0x21 || c == 0x7F) && pattern.find(static_cast<char>(c)) == std::string_view::npos) {
      std::abort();
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  using namespace smppd::callbacks;
  if (size < 2) return 0;
  // The first byte splits the input: a dlr-url pattern, then a PDU.
  const std::size_t cut = std::min<std::size_t>(data[0], size - 1);
  const std::string_view pattern(reinterpret_cast<const char*>(data + 1), cut);
  const std::span<const uint8_t> bytes(data + 1 + cut, size - 1 - cut);
  smpp::Pdu pdu;
  smpp::DecodeError error;
  KannelDlr d;
  d.type = 1;
  d.data = "id:1 stat:DELIVRD text:a b";
  d.receiver = "00258 84";
  d.unix_seconds = 1'800'000'000;
  if (smpp::decode(bytes, pdu, error)) {
    if (auto r = receipt_facts(pdu)) {
      boost::system::error_code ec;
      (void)boost::json::parse(receipt_json(*r, "ref", "smsc", "up"), ec);
      if (ec) std::abort();
      (void)form_encode(jasmin_level2(r->message_id, "x", *r, "up"));
      d.data = r->receipt_text;
      d.receiver = r->to;
      d.sender = r->from;
      d.err = r->err;
      d.type = kannel_dlr_type(r->state, r->final);
    }
  }
  no_control(kannel_expand(pattern, d), pattern);
  return 0;
}
