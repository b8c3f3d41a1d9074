#include "config/message_rule.hpp"

#include <boost/regex.hpp>

#include <array>

namespace smppd::config {

namespace {

constexpr std::array<std::string_view, 14> kNames = {
    "client",        "source_addr",         "destination_addr", "service_type",
    "short_message", "source_addr_ton",     "source_addr_npi",  "dest_addr_ton",
    "dest_addr_npi", "registered_delivery", "data_coding",      "esm_class",
    "priority_flag", "protocol_id"};

}  // namespace

const std::vector<std::string>& message_field_names() {
  static const std::vector<std::string> names(kNames.begin(), kNames.end());
  return names;
}

std::optional<MessageField> parse_message_field(std::string_view name) {
  for (std::size_t i = 0; i < kNames.size(); ++i) {
    if (kNames[i] == name) return static_cast<MessageField>(i);
  }
  return std::nullopt;
}

std::string_view to_string(MessageField f) {
  return kNames[static_cast<std::size_t>(f)];
}

bool is_numeric(MessageField f) {
  return f >= MessageField::source_addr_ton;
}

Parsed<MessageTemplate> parse_message_template(std::string_view text) {
  MessageTemplate t;
  std::string literal;
  auto flush = [&] {
    if (!literal.empty()) t.pieces.push_back({std::move(literal), std::nullopt});
    literal.clear();
  };
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c != '$' || i + 1 == text.size() || (text[i + 1] != '{' && text[i + 1] != '$')) {
      literal += c;
      continue;
    }
    if (text[i + 1] == '$') {
      literal += '$';
      ++i;
      continue;
    }
    const std::size_t close = text.find('}', i + 2);
    if (close == std::string_view::npos) {
      return Invalid{"unterminated '${' in template '" + std::string(text) + "'"};
    }
    const std::string_view name = text.substr(i + 2, close - i - 2);
    const auto field = parse_message_field(name);
    if (!field) {
      std::string reason =
          "unknown field '${" + std::string(name) + "}' in template '" + std::string(text) + "'";
      if (auto guess = closest_match(name, message_field_names())) {
        reason += "; did you mean '${" + *guess + "}'?";
      }
      return Invalid{reason};
    }
    flush();
    t.pieces.push_back({{}, field});
    i = close;
  }
  flush();
  return t;
}

std::optional<Invalid> check_message_regex(std::string_view pattern) {
  try {
    boost::regex re(pattern.begin(), pattern.end(), boost::regex::perl);
  } catch (const boost::regex_error& e) {
    return Invalid{"invalid regular expression '" + std::string(pattern) + "': " + e.what()};
  }
  return std::nullopt;
}

}  // namespace smppd::config
