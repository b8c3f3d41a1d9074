#pragma once

#include <CLI/CLI.hpp>
#include <optional>
#include <string>

// `smppd health`: asks a running daemon's HTTP listener whether it is ready (GET /health) or
// alive (GET /health/live), exit 0 when it is. For container HEALTHCHECKs and scripts: the
// image needs no curl.
namespace smppd::cli {

void add_health_command(CLI::App& app, std::string& config_path);
std::optional<int> run_health_command(const CLI::App& app);

}  // namespace smppd::cli
