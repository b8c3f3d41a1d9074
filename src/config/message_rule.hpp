// The parts of a transform rule (middleware `transform`) that the configuration checks: the
// message fields a rule names, `${field}` templates, and the regular expressions of `match`.
// The loader checks them once, with the file:line of the value; the middleware compiles them
// again from the same text (as routes' address patterns are), so that a rule that passed
// `smppd validate` is the rule that runs.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/values.hpp"

namespace smppd::config {

// A message field as rules write it. Numeric fields are the octets of the PDU (TON, NPI,
// data_coding...); `client` is the system_id the message came from (matched, never written).
enum class MessageField : uint8_t {
  client,
  source_addr,
  destination_addr,
  service_type,
  short_message,  // the text, decoded by data_coding (message_payload when that carries it)
  source_addr_ton,
  source_addr_npi,
  dest_addr_ton,
  dest_addr_npi,
  registered_delivery,
  data_coding,
  esm_class,
  priority_flag,
  protocol_id,
};

// Every field name, in the enum's order (for "did you mean" and messages).
const std::vector<std::string>& message_field_names();
std::optional<MessageField> parse_message_field(std::string_view name);
std::string_view to_string(MessageField f);
// A number 0-255 in the PDU (matched as its decimal text, written from a literal).
bool is_numeric(MessageField f);

// "+258${destination_addr}" as literal text and fields. "$$" is a literal '$'; a '$' not
// followed by '{' stays as it is.
struct MessageTemplate {
  struct Piece {
    std::string literal;                // when `field` is empty
    std::optional<MessageField> field;  // a ${field} placeholder
  };
  std::vector<Piece> pieces;
};
// Fails on an unterminated "${", or a placeholder that is not a message field.
Parsed<MessageTemplate> parse_message_template(std::string_view text);

// Compiles the pattern as the middleware does (Boost.Regex, Perl syntax, matched against the
// whole value); the reason it does not compile otherwise.
std::optional<Invalid> check_message_regex(std::string_view pattern);

}  // namespace smppd::config
