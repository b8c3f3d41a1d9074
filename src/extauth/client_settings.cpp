#include "extauth/client_settings.hpp"

#include <array>
#include <charconv>
#include <cmath>
#include <utility>

namespace smppd::extauth {

namespace {

constexpr std::array<std::pair<std::string_view, Field>, 9> kFields = {{
    {"allowed_ips", Field::allowed_ips},
    {"bind_types", Field::bind_types},
    {"rate_limit", Field::rate_limit},
    {"burst", Field::burst},
    {"window_size", Field::window_size},
    {"max_connections", Field::max_connections},
    {"upstream", Field::upstream},
    {"tier", Field::tier},
    {"tags", Field::tags},
}};

std::string_view trim(std::string_view t) {
  while (!t.empty() && (t.front() == ' ' || t.front() == '\t')) t.remove_prefix(1);
  while (!t.empty() && (t.back() == ' ' || t.back() == '\t')) t.remove_suffix(1);
  return t;
}

// The value as a log may show it: printable ASCII, at most 64 characters.
std::string shown(std::string_view value) {
  std::string out;
  for (char c : value.substr(0, 64)) {
    out.push_back(c >= 0x20 && c < 0x7F ? c : '?');
  }
  if (value.size() > 64) out += "...";
  return out;
}

// Calls f on each comma-separated item (trimmed, empty ones skipped); false as soon as f is.
template <class F>
bool each_item(std::string_view value, F f) {
  while (true) {
    const std::size_t comma = value.find(',');
    const std::string_view item = trim(value.substr(0, comma));
    if (!item.empty() && !f(item)) return false;
    if (comma == std::string_view::npos) return true;
    value.remove_prefix(comma + 1);
  }
}

std::optional<uint32_t> whole_number(std::string_view t) {
  uint32_t v = 0;
  auto [end, ec] = std::from_chars(t.data(), t.data() + t.size(), v);
  if (ec != std::errc() || end != t.data() + t.size() || t.empty()) return std::nullopt;
  return v;
}

}  // namespace

std::string_view to_string(Field f) {
  for (const auto& [name, field] : kFields) {
    if (field == f) return name;
  }
  return "?";
}

std::optional<Field> field_named(std::string_view name) {
  for (const auto& [n, field] : kFields) {
    if (n == name) return field;
  }
  return std::nullopt;
}

SettingsBuilder::SettingsBuilder(std::string_view system_id,
                                 const config::ExternalDefaults& defaults,
                                 const std::set<std::string, std::less<>>* upstreams)
    : upstreams_(upstreams) {
  client_.system_id = std::string(system_id);
  client_.allowed_ips = defaults.allowed_ips;
  client_.bind_types = defaults.bind_types;
  client_.max_connections = defaults.max_connections;
  client_.rate_limit = defaults.rate_limit;
  client_.upstream = defaults.upstream;
  client_.tier = defaults.tier;
  client_.tags = defaults.tags;
}

bool SettingsBuilder::fail(std::string_view value, std::string_view why) {
  if (error_.empty()) {
    error_ = (source_.empty() ? std::string("?") : source_) + ": '" + shown(value) + "' " +
             std::string(why);
  }
  return false;
}

bool SettingsBuilder::add(Field field, std::string_view value) {
  if (failed()) return false;
  const std::string_view v = trim(value);
  switch (field) {
    case Field::allowed_ips:
    {
      if (!ips_given_) client_.allowed_ips.clear();
      ips_given_ = true;
      std::size_t given = 0;
      const bool ok = each_item(v, [&](std::string_view item) {
        auto cidr = config::Cidr::parse(item);
        if (cidr.index() == 1) return fail(item, "is not an address or address block");
        client_.allowed_ips.push_back(std::get<0>(cidr));
        ++given;
        return true;
      });
      // An empty value would leave the list empty, which means any address: never by accident.
      return ok && (given > 0 || fail(v, "names no address (an empty list would allow any)"));
    }
    case Field::bind_types:
    {
      if (!types_given_) client_.bind_types.clear();
      types_given_ = true;
      std::size_t given = 0;
      const bool ok = each_item(v, [&](std::string_view item) {
        ++given;
        config::BindType t;
        if (item == "transmitter" || item == "tx") {
          t = config::BindType::transmitter;
        } else if (item == "receiver" || item == "rx") {
          t = config::BindType::receiver;
        } else if (item == "transceiver" || item == "trx") {
          t = config::BindType::transceiver;
        } else {
          return fail(item, "is not a bind type (transmitter, receiver or transceiver)");
        }
        client_.bind_types.push_back(t);
        return true;
      });
      return ok && (given > 0 || fail(v, "names no bind type"));
    }
    case Field::rate_limit: {
      double d = 0;
      auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), d);
      if (v.empty() || ec != std::errc() || end != v.data() + v.size() || !std::isfinite(d) ||
          d < 0 || d > 1e12) {
        return fail(v, "is not a rate (messages per second, 0 or more)");
      }
      client_.rate_limit.messages_per_second = d;
      return true;
    }
    case Field::burst:
    case Field::window_size:
    case Field::max_connections: {
      auto n = whole_number(v);
      if (!n) return fail(v, "is not a whole number (0 to 4294967295)");
      if (field == Field::burst) client_.rate_limit.burst = *n;
      if (field == Field::window_size) client_.rate_limit.window_size = *n;
      if (field == Field::max_connections) client_.max_connections = *n;
      return true;
    }
    case Field::upstream:
      if (upstreams_ != nullptr && !v.empty() && !upstreams_->contains(v)) {
        return fail(v, "is not a configured upstream");
      }
      client_.upstream = std::string(v);
      return true;
    case Field::tier:
      if (v.size() > 64) return fail(v, "is longer than 64 characters");
      client_.tier = std::string(v);
      return true;
    case Field::tags: {
      const std::size_t eq = v.find('=');
      if (eq == std::string_view::npos || eq == 0 || v.size() > 256) {
        return fail(v, "is not a tag (key=value)");
      }
      client_.tags[std::string(trim(v.substr(0, eq)))] = std::string(trim(v.substr(eq + 1)));
      return true;
    }
  }
  return false;
}

std::shared_ptr<const config::ClientConfig> SettingsBuilder::build() {
  return std::make_shared<const config::ClientConfig>(std::move(client_));
}

}  // namespace smppd::extauth
