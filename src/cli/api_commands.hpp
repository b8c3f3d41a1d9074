// The commands that talk to a running daemon through its management API: `smppd status`,
// `smppd client list|disconnect ID`, `smppd upstream list|suspend|resume NAME`,
// `smppd stats [--client X] [--upstream Y]`. Where the API is and its credentials come from the
// configuration file (`management` section), or from --api / --user / --password / --token.
// Readable tables, or the API's JSON with --json. Exit codes: 0 done, 1 the daemon is not
// running or refused, 2 a usage or configuration error.
#pragma once

#include <optional>
#include <string>

namespace CLI {
class App;
}

namespace smppd::cli {

void add_api_commands(CLI::App& app, std::string& config_path);
std::optional<int> run_api_commands(const CLI::App& app);

// `name` under `app`, made when it is not there yet (commands of several files share
// `upstream`).
CLI::App* subcommand_of(CLI::App& app, const std::string& name, const std::string& description);

}  // namespace smppd::cli
