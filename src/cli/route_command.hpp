// `smppd route test ADDRESS` and `smppd route list`: the routing of a configuration file, read
// without a running daemon (router/router.hpp makes the decisions, as the daemon does).
#pragma once

#include <optional>
#include <string>

namespace CLI {
class App;
}

namespace smppd::config {
struct Config;
}

namespace smppd::cli {

// Registers `route test` and `route list`; their -c/--config writes to `config_path` (the same
// variable as the top-level --config), which must outlive the parse.
void add_route_command(CLI::App& app, std::string& config_path);

// After parsing: when `route` was on the command line, runs it and returns the exit code
// (test: 0 routed, 1 no route; both: 2 for a configuration that does not load); otherwise
// returns nothing.
std::optional<int> run_route_command(const CLI::App& app);

}  // namespace smppd::cli
