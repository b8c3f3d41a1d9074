// The Prometheus text format, line by line as a scraper reads it.
#include "api/metrics/exposition.hpp"

#include <gtest/gtest.h>

#include <array>
#include <cmath>

namespace smppd::metrics {
namespace {

TEST(Exposition, ACounterFamilyWithLabels) {
  std::string out;
  TextWriter w(out);
  w.family("smppd_messages_total", "Messages by client and status.", Type::counter);
  const std::array<Label, 2> a{{{"client", "acme"}, {"status", "ESME_ROK"}}};
  w.sample("smppd_messages_total", a, 1234);
  w.sample("smppd_up", {}, 1);
  EXPECT_EQ(out,
            "# HELP smppd_messages_total Messages by client and status.\n"
            "# TYPE smppd_messages_total counter\n"
            "smppd_messages_total{client=\"acme\",status=\"ESME_ROK\"} 1234\n"
            "smppd_up 1\n");
}

TEST(Exposition, LabelValuesAndHelpAreEscaped) {
  std::string out;
  TextWriter w(out);
  w.family("x", "a \\ b\nc \"quoted\"", Type::gauge);
  const std::array<Label, 1> a{{{"v", "say \"hi\"\\\n"}}};
  w.sample("x", a, 0);
  // HELP escapes backslash and newline only; label values also the double quote.
  EXPECT_EQ(out,
            "# HELP x a \\\\ b\\nc \"quoted\"\n"
            "# TYPE x gauge\n"
            "x{v=\"say \\\"hi\\\"\\\\\\n\"} 0\n");
}

TEST(Exposition, NumbersAsTheFormatSpellsThem) {
  auto text = [](double v) {
    std::string s;
    append_number(s, v);
    return s;
  };
  EXPECT_EQ(text(0), "0");
  EXPECT_EQ(text(-3), "-3");
  EXPECT_EQ(text(18446744.0), "18446744");
  EXPECT_EQ(text(0.005), "0.005");
  EXPECT_EQ(text(2.5e-7), "2.5e-07");
  EXPECT_EQ(text(INFINITY), "+Inf");
  EXPECT_EQ(text(-INFINITY), "-Inf");
  EXPECT_EQ(text(NAN), "NaN");
  EXPECT_EQ(std::stod(text(0.1 + 0.2)), 0.1 + 0.2);  // reads back exactly
}

TEST(Exposition, AHistogramIsCumulativeWithInfSumAndCount) {
  std::string out;
  TextWriter w(out);
  w.family("lat_seconds", "Latency.", Type::histogram);
  const std::array<Label, 1> a{{{"upstream", "carrier"}}};
  const std::array<double, 3> bounds{0.001, 0.01, 0.1};
  const std::array<uint64_t, 4> counts{5, 3, 0, 2};  // the last: above 0.1
  w.histogram("lat_seconds", a, bounds, counts, 0.75);
  EXPECT_EQ(out,
            "# HELP lat_seconds Latency.\n"
            "# TYPE lat_seconds histogram\n"
            "lat_seconds_bucket{upstream=\"carrier\",le=\"0.001\"} 5\n"
            "lat_seconds_bucket{upstream=\"carrier\",le=\"0.01\"} 8\n"
            "lat_seconds_bucket{upstream=\"carrier\",le=\"0.1\"} 8\n"
            "lat_seconds_bucket{upstream=\"carrier\",le=\"+Inf\"} 10\n"
            "lat_seconds_sum{upstream=\"carrier\"} 0.75\n"
            "lat_seconds_count{upstream=\"carrier\"} 10\n");
}

TEST(Exposition, NamesTheFormatAccepts) {
  EXPECT_TRUE(valid_metric_name("smppd_messages_total"));
  EXPECT_TRUE(valid_metric_name("job:rate:5m"));
  EXPECT_FALSE(valid_metric_name(""));
  EXPECT_FALSE(valid_metric_name("9lives"));
  EXPECT_FALSE(valid_metric_name("a-b"));
  EXPECT_TRUE(valid_label_name("client"));
  EXPECT_FALSE(valid_label_name("__name__"));
  EXPECT_FALSE(valid_label_name("a:b"));
  EXPECT_FALSE(valid_label_name("1a"));
}

}  // namespace
}  // namespace smppd::metrics
