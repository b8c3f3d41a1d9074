// What a scrape answers, and that every series the daemon counts has its help text.
#include "api/metrics/render.hpp"

#include <gtest/gtest.h>

#include <array>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>

namespace smppd::metrics {
namespace {

TEST(Render, FamiliesAreSortedAndEachHasAHelpText) {
  const auto all = families();
  for (std::size_t i = 0; i < all.size(); ++i) {
    EXPECT_TRUE(valid_metric_name(all[i].name)) << all[i].name;
    EXPECT_FALSE(all[i].help.empty()) << all[i].name;
    if (i > 0) {
      EXPECT_LT(all[i - 1].name, all[i].name) << "sorted, for the lookup";
    }
  }
}

// Every "smppd_..." name in the sources is a family of the table: a series added without its
// help text fails here rather than show "smppd metric." to an operator.
TEST(Render, EverySeriesNamedInTheSourcesIsDescribed) {
  const std::filesystem::path src = std::filesystem::path(SMPPD_SOURCE_DIR) / "src";
  const std::regex name(R"re("(smppd_[a-z0-9_]+)")re");
  std::set<std::string> missing;
  for (const auto& f : std::filesystem::recursive_directory_iterator(src)) {
    if (f.path().extension() != ".cpp" && f.path().extension() != ".hpp") continue;
    if (f.path().filename() == "render.cpp") continue;
    std::ifstream in(f.path());
    std::stringstream text;
    text << in.rdbuf();
    const std::string s = text.str();
    for (std::sregex_iterator it(s.begin(), s.end(), name), end; it != end; ++it) {
      const std::string n = (*it)[1];
      if (n == "smppd_database") continue;  // a file name, not a series
      if (help_of(n).empty()) missing.insert(n + " (" + f.path().filename().string() + ")");
    }
  }
  EXPECT_TRUE(missing.empty()) << [&] {
    std::string all;
    for (const auto& m : missing) all += m + "\n";
    return all;
  }();
}

// The Grafana dashboard (deploy/grafana) asks only for series smppd exposes.
TEST(Render, TheDashboardNamesOnlySeriesSmppdExposes) {
  const std::filesystem::path file =
      std::filesystem::path(SMPPD_SOURCE_DIR) / "deploy" / "grafana" / "smppd-dashboard.json";
  std::ifstream in(file);
  ASSERT_TRUE(in) << file;
  std::stringstream text;
  text << in.rdbuf();
  const std::string s = text.str();
  const std::regex name(R"re(smppd_[a-z0-9_]+)re");
  std::set<std::string> names;
  for (std::sregex_iterator it(s.begin(), s.end(), name), end; it != end; ++it) {
    std::string n = it->str();
    for (const char* suffix : {"_bucket", "_sum", "_count"}) {
      if (n.ends_with(suffix) && help_of(n).empty()) n.resize(n.size() - std::strlen(suffix));
    }
    names.insert(n);
  }
  EXPECT_GT(names.size(), 20u);
  for (const auto& n : names) EXPECT_FALSE(help_of(n).empty()) << n << " is not a series of smppd";
}

TEST(Render, RegistryThenComputedFamiliesEachOnce) {
  static constexpr std::array<uint64_t, 2> kBounds = {1000, 25'000};
  static constexpr Buckets kBuckets{kBounds, 1e6};
  Counters c;
  c.add("smppd_messages_total", {{"client", "b"}}, 2);
  c.add("smppd_messages_total", {{"client", "a"}}, 1);
  const HistogramId h = c.histogram("smppd_message_latency_seconds", {{"upstream", "u"}}, kBuckets);
  c.observe(h, 500);
  c.observe(h, 30'000);
  std::vector<Family> computed{{"smppd_upstream_health", Type::gauge, {{{{"upstream", "u"}}, 1}}},
                               {"smppd_receipts_held", Type::gauge, {}}};
  const std::string out = render(c, computed);
  EXPECT_EQ(out,
            "# HELP smppd_message_latency_seconds " + std::string(help_of("smppd_message_latency_seconds")) +
                "\n"
                "# TYPE smppd_message_latency_seconds histogram\n"
                "smppd_message_latency_seconds_bucket{upstream=\"u\",le=\"0.001\"} 1\n"
                "smppd_message_latency_seconds_bucket{upstream=\"u\",le=\"0.025\"} 1\n"
                "smppd_message_latency_seconds_bucket{upstream=\"u\",le=\"+Inf\"} 2\n"
                "smppd_message_latency_seconds_sum{upstream=\"u\"} 0.0305\n"
                "smppd_message_latency_seconds_count{upstream=\"u\"} 2\n"
                "# HELP smppd_messages_total " + std::string(help_of("smppd_messages_total")) + "\n"
                "# TYPE smppd_messages_total counter\n"
                "smppd_messages_total{client=\"a\"} 1\n"
                "smppd_messages_total{client=\"b\"} 2\n"
                "# HELP smppd_upstream_health " + std::string(help_of("smppd_upstream_health")) + "\n"
                "# TYPE smppd_upstream_health gauge\n"
                "smppd_upstream_health{upstream=\"u\"} 1\n");
}

}  // namespace
}  // namespace smppd::metrics
