// `smppd sim`: the built-in SMSC simulator as a standalone process, for testing ESMEs (and
// smppd itself) against an SMSC that behaves like a real one.
#pragma once

#include <optional>

namespace CLI {
class App;
}

namespace smppd::cli {

// Registers the `sim` subcommand and its options on the application.
void add_sim_command(CLI::App& app);

// After parsing: when `sim` was on the command line, runs the simulator until SIGTERM/SIGINT and
// returns the exit code; otherwise returns nothing.
std::optional<int> run_sim_command(const CLI::App& app);

}  // namespace smppd::cli
