#include "api/metrics/exposition.hpp"

#include <charconv>
#include <cmath>

namespace smppd::metrics {

namespace {

bool name_char(char c, bool first, bool colon) {
  const bool letter = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
  if (letter || (colon && c == ':')) return true;
  return !first && c >= '0' && c <= '9';
}

void escape(std::string& out, std::string_view text, bool quotes) {
  for (char c : text) {
    switch (c) {
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '"':
        if (quotes) {
          out += "\\\"";
          break;
        }
        [[fallthrough]];
      default:
        out += c;
    }
  }
}

}  // namespace

bool valid_metric_name(std::string_view name) {
  if (name.empty()) return false;
  for (std::size_t i = 0; i < name.size(); ++i) {
    if (!name_char(name[i], i == 0, true)) return false;
  }
  return true;
}

bool valid_label_name(std::string_view name) {
  if (name.empty() || name.starts_with("__")) return false;
  for (std::size_t i = 0; i < name.size(); ++i) {
    if (!name_char(name[i], i == 0, false)) return false;
  }
  return true;
}

void TextWriter::family(std::string_view name, std::string_view help, Type type) {
  out_ += "# HELP ";
  out_ += name;
  out_ += ' ';
  escape(out_, help, false);
  out_ += "\n# TYPE ";
  out_ += name;
  out_ += type == Type::counter ? " counter\n" : type == Type::gauge ? " gauge\n" : " histogram\n";
}

void TextWriter::labels(std::span<const Label> labels, std::string_view extra_name,
                        std::string_view extra_value) {
  if (labels.empty() && extra_name.empty()) return;
  out_ += '{';
  bool first = true;
  auto one = [&](std::string_view n, std::string_view v) {
    if (!first) out_ += ',';
    first = false;
    out_ += n;
    out_ += "=\"";
    escape(out_, v, true);
    out_ += '"';
  };
  for (const Label& l : labels) one(l.name, l.value);
  if (!extra_name.empty()) one(extra_name, extra_value);
  out_ += '}';
}

void append_number(std::string& out, double v) {
  if (std::isnan(v)) {
    out += "NaN";
  } else if (std::isinf(v)) {
    out += v > 0 ? "+Inf" : "-Inf";
  } else {
    char buf[32];
    std::to_chars_result r{};
    if (v == std::trunc(v) && std::fabs(v) < 1e15) {
      r = std::to_chars(buf, buf + sizeof buf, static_cast<int64_t>(v));
    } else {
      r = std::to_chars(buf, buf + sizeof buf, v);  // the shortest form that reads back exactly
    }
    out.append(buf, r.ptr);
  }
}

void TextWriter::value(double v) { append_number(out_, v); }

void TextWriter::sample(std::string_view name, std::span<const Label> l, double v) {
  out_ += name;
  labels(l);
  out_ += ' ';
  value(v);
  out_ += '\n';
}

void TextWriter::histogram(std::string_view name, std::span<const Label> l,
                           std::span<const double> bounds, std::span<const uint64_t> counts,
                           double sum) {
  uint64_t cumulative = 0;
  std::string le;
  for (std::size_t i = 0; i <= bounds.size(); ++i) {
    cumulative += i < counts.size() ? counts[i] : 0;
    le.clear();
    append_number(le, i < bounds.size() ? bounds[i] : INFINITY);
    out_ += name;
    out_ += "_bucket";
    labels(l, "le", le);
    out_ += ' ';
    value(static_cast<double>(cumulative));
    out_ += '\n';
  }
  out_ += name;
  out_ += "_sum";
  labels(l);
  out_ += ' ';
  value(sum);
  out_ += "\n";
  out_ += name;
  out_ += "_count";
  labels(l);
  out_ += ' ';
  value(static_cast<double>(cumulative));
  out_ += '\n';
}

}  // namespace smppd::metrics
