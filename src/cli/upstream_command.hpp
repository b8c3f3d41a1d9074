// `smppd upstream ...`: commands about one upstream. `upstream test NAME` needs no daemon: it
// connects to each host of the upstream as the pool would (TLS, bind, one enquire_link, unbind;
// upstream/probe.hpp) and reports each step's time or its exact failure. Further subcommands
// (those that ask a running daemon) are added beside `test`.
#pragma once

#include <optional>
#include <string>

namespace CLI {
class App;
}

namespace smppd::cli {

// Registers `upstream` and its subcommands; their -c/--config writes to `config_path` (the same
// variable as the top-level --config), which must outlive the parse.
void add_upstream_command(CLI::App& app, std::string& config_path);

// After parsing: when `upstream` was on the command line, runs it and returns the exit code
// (test: 0 every host passed, 1 a host failed, 2 a usage or configuration error: a
// configuration that does not load, an unknown upstream, an upstream of type simulator, which
// has no hosts, TLS files that cannot be used); otherwise returns nothing.
std::optional<int> run_upstream_command(const CLI::App& app);

}  // namespace smppd::cli
