#include "extauth/http_answer.hpp"

#include <boost/json/parser.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include <cmath>

namespace smppd::extauth {

namespace json = boost::json;

namespace {

constexpr std::size_t kMaxBody = 64 * 1024;

// A scalar as text: a string as it is, a number in its shortest form; nullopt otherwise.
std::optional<std::string> text_of(const json::value& v) {
  if (v.is_string()) return std::string(v.get_string());
  if (v.is_int64()) return std::to_string(v.get_int64());
  if (v.is_uint64()) return std::to_string(v.get_uint64());
  if (v.is_double()) {
    const double d = v.get_double();
    if (!std::isfinite(d)) return std::nullopt;
    return json::serialize(v);
  }
  return std::nullopt;
}

bool add_value(SettingsBuilder& b, Field field, std::string_view name, const json::value& v,
               std::string& error) {
  b.source_name(name);
  if (v.is_null()) return true;
  if (v.is_array()) {
    if (field != Field::allowed_ips && field != Field::bind_types && field != Field::tags) {
      error = std::string(name) + ": a list where one value is expected";
      return false;
    }
    for (const json::value& item : v.get_array()) {
      auto t = text_of(item);
      if (!t) {
        error = std::string(name) + ": an item that is not a string";
        return false;
      }
      if (!b.add(field, *t)) return false;
    }
    return true;
  }
  if (field == Field::tags && v.is_object()) {
    for (const auto& [key, value] : v.get_object()) {
      auto t = text_of(value);
      if (!t) {
        error = std::string(name) + ": the value of '" + std::string(key) + "' is not a string";
        return false;
      }
      if (!b.add(field, std::string(key) + "=" + *t)) return false;
    }
    return true;
  }
  if (field == Field::rate_limit && v.is_object()) {
    const json::object& o = v.get_object();
    for (auto [key, inner] : {std::pair{"messages_per_second", Field::rate_limit},
                              std::pair{"burst", Field::burst},
                              std::pair{"window_size", Field::window_size}}) {
      if (const json::value* x = o.if_contains(key)) {
        if (!add_value(b, inner, std::string(name) + "." + key, *x, error)) return false;
      }
    }
    return true;
  }
  auto t = text_of(v);
  if (!t) {
    error = std::string(name) + ": not a string or a number";
    return false;
  }
  return b.add(field, *t);
}

}  // namespace

bool read_http_answer(std::string_view body, SettingsBuilder& builder, std::string& error) {
  if (body.size() > kMaxBody) {
    error = "the answer is larger than 64 KiB";
    return false;
  }
  json::parse_options options;
  options.max_depth = 8;
  json::parser parser({}, options);
  boost::system::error_code ec;
  parser.write(body.data(), body.size(), ec);
  if (ec) {
    error = "the answer is not JSON (" + ec.message() + ")";
    return false;
  }
  const json::value v = parser.release();
  if (!v.is_object()) {
    error = "the answer is not a JSON object";
    return false;
  }
  for (const auto& [key, value] : v.get_object()) {
    auto field = field_named(key);
    if (!field) continue;
    if (!add_value(builder, *field, key, value, error)) {
      if (error.empty()) error = builder.error();
      return false;
    }
  }
  return true;
}

std::string http_request_body(std::string_view system_id, std::string_view password,
                              std::string_view ip, std::string_view bind_type,
                              std::string_view listener) {
  json::object o;
  o["system_id"] = system_id;
  o["password"] = password;
  o["ip"] = ip;
  o["bind_type"] = bind_type;
  o["listener"] = listener;
  return json::serialize(o);
}

}  // namespace smppd::extauth
