// The Prometheus text exposition format (version 0.0.4), written by hand: Debian 12 has no
// prometheus-cpp. One family at a time: its HELP and TYPE lines, then its samples; label values
// and help texts escaped as the format says; histograms as cumulative `_bucket{le=...}` lines
// ending with le="+Inf", then `_sum` and `_count`. Pure: writes into a string, no I/O.
//
// Not wired to anything yet (issue 13 builds the registry and the endpoint on it).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace smppd::metrics {

enum class Type { counter, gauge, histogram };

struct Label {
  std::string_view name;
  std::string_view value;
};

// [a-zA-Z_:][a-zA-Z0-9_:]*
bool valid_metric_name(std::string_view name);
// [a-zA-Z_][a-zA-Z0-9_]*, and not starting with "__" (reserved).
bool valid_label_name(std::string_view name);

// A number as the format writes it (the `value` of a sample, the `le` of a bucket).
void append_number(std::string& out, double v);

class TextWriter {
 public:
  explicit TextWriter(std::string& out) : out_(out) {}

  // "# HELP name help" (backslash and newline escaped) and "# TYPE name type".
  void family(std::string_view name, std::string_view help, Type type);
  // "name{a="x",b="y"} value": label values with backslash, double quote and newline escaped;
  // no braces without labels. Integral values are written without a fraction; +Inf, -Inf, NaN
  // as the format spells them.
  void sample(std::string_view name, std::span<const Label> labels, double value);
  // A histogram's lines: `bounds` ascending (the upper bounds of the finite buckets);
  // `counts[i]` observations in bucket i (not cumulative), with one more for the values above
  // the last bound. Written cumulatively, then name_sum and name_count.
  void histogram(std::string_view name, std::span<const Label> labels,
                 std::span<const double> bounds, std::span<const uint64_t> counts, double sum);

 private:
  void labels(std::span<const Label> labels, std::string_view extra_name = {},
              std::string_view extra_value = {});
  void value(double v);
  std::string& out_;
};

}  // namespace smppd::metrics
