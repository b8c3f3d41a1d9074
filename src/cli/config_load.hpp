// Loading the configuration for the subcommands, which print what is wrong with it the way
// `smppd validate` does.
#pragma once

#include <memory>
#include <string>

namespace smppd::config {
struct Config;
struct LoadResult;
}  // namespace smppd::config

namespace smppd::cli {

// Prints every error as "FILE:LINE:COLUMN: error: message" to stderr, then their count.
void print_config_errors(const config::LoadResult& result);

// Loads `path` for a subcommand that reads the configuration without running the daemon. The
// files it names (certificates, keys, folders) are not checked: they may exist only on the
// machine the configuration is meant for, and a subcommand that needs one says so when it
// opens it. On errors, prints them (print_config_errors) and returns null.
std::shared_ptr<const config::Config> load_config_for_command(const std::string& path);

}  // namespace smppd::cli
