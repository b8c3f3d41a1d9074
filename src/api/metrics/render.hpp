// What a scrape answers: every series of the registry (core/counters.hpp) and the families the
// daemon computes at scrape time (sessions, upstreams, the store, the process), in the text
// exposition format, each family with its help text (families.cpp lists them all).
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "api/metrics/exposition.hpp"
#include "core/counters.hpp"

namespace smppd::metrics {

// A value computed at scrape time.
struct Point {
  std::vector<std::pair<std::string, std::string>> labels;
  double value = 0;
};

struct Family {
  std::string name;
  Type type = Type::gauge;
  std::vector<Point> points;
};

// The help text of a family smppd exposes ("" for one it does not know).
std::string_view help_of(std::string_view family);
// Every family smppd can expose, with its type and help (for docs and tests).
struct FamilyInfo {
  std::string_view name;
  Type type;
  std::string_view help;
};
std::span<const FamilyInfo> families();

// The registry's series, then `computed`, family by family.
std::string render(const Counters& counters, const std::vector<Family>& computed);

}  // namespace smppd::metrics
