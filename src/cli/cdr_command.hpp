// `smppd cdr export`: the CDRs of a period from the store's database (store/cdr_export.hpp),
// read without a running daemon, or beside one.
#pragma once

#include <optional>
#include <string>

namespace CLI {
class App;
}

namespace smppd::cli {

// Registers `cdr export`; its -c/--config writes to `config_path` (the same variable as the
// top-level --config), which must outlive the parse.
void add_cdr_command(CLI::App& app, std::string& config_path);

// After parsing: when `cdr` was on the command line, runs it and returns the exit code (0 done,
// 1 the export failed: no database, not smppd's, unreadable, output not writable; 2 a usage
// error: a missing or bad date or format, or a configuration that does not load); otherwise
// returns nothing.
std::optional<int> run_cdr_command(const CLI::App& app);

}  // namespace smppd::cli
