#pragma once

#include <string_view>

// What this binary is: the project's version and the git revision it was built from
// (cmake/build_info.cmake writes their definitions at every build).
namespace smppd::build_info {

std::string_view version();   // "0.1.0"
std::string_view revision();  // "v0.1.0-12-gabcdef012345-dirty", or "unknown"

}  // namespace smppd::build_info
