// YAML -> Config. Reads the whole file, collects every error (not only the first) with its
// file, line and column, and returns either an immutable snapshot or the list of errors.
// The configuration file must be a regular file of at most kMaxConfigFileBytes; a directory, a
// FIFO or a device is refused without reading from it. Unless options say otherwise, every file
// the configuration names is checked as start-up will use it (config/files.hpp), each error at
// the key that names the file, with the OS's or OpenSSL's reason.
// Every key of every section is checked: an unknown key is an error, with a suggestion when it
// looks like a misspelling of a known one. Scalars may use ${VAR} (environment; "$$" is "$").
#pragma once

#include <filesystem>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.hpp"
#include "config/values.hpp"

namespace smppd::config {

struct ConfigError {
  std::string file;
  int line = 0;    // 1-based; 0 when unknown
  int column = 0;  // 1-based; 0 when unknown
  std::string message;
  bool warning = false;
  // "file:line:column: error: message" ("warning: " for a warning)
  std::string to_string() const;
};

struct LoadResult {
  std::shared_ptr<const Config> config;  // null when errors is not empty
  std::vector<ConfigError> errors;       // sorted by line, then column
  // Keys written in the file that smppd accepts and ignores because their feature is not built
  // yet (config/keys.hpp), and settings it cannot honour as written, sorted by line. `smppd
  // validate` prints them and the daemon logs them at start-up.
  std::vector<ConfigError> warnings;
  bool ok() const { return config != nullptr; }
};

// 64 MiB: 600,000 clients take about 35 MB of YAML.
inline constexpr uint64_t kMaxConfigFileBytes = 64 * kMiB;

// What the loader took, against the key registry (config/keys.hpp); for tests.
struct KeyAudit {
  std::set<std::string> taken;         // registry paths of the keys the loader took
  std::set<std::string> unclassified;  // keys the loader took that the registry does not know
};

struct LoadOptions {
  // Check the certificates, keys, CAs, scripts and folders the configuration names. Off for
  // tools that only look at routes, for example configurations of another machine, and fuzzing.
  bool check_files = true;
  KeyAudit* audit = nullptr;
};

// With check_files: compiles a routing script (routes[].script) once read; its error
// ("routing.lua:12: unexpected symbol near 'x'"), or nothing. The script module is above the
// configuration's, so the caller hands it over (gateway::check_route_script); null: scripts are
// only read.
using ScriptCheck = std::optional<std::string> (*)(const std::string& path,
                                                   const std::string& code);

LoadResult load_config_file(const std::filesystem::path& path, const EnvLookup& env = process_env,
                            LoadOptions options = {}, ScriptCheck check_script = nullptr);
// `name` stands for the file in errors.
LoadResult load_config_string(std::string_view yaml, std::string name,
                              const EnvLookup& env = process_env, LoadOptions options = {},
                              ScriptCheck check_script = nullptr);

}  // namespace smppd::config
