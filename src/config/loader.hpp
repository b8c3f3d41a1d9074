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
  // "file:line:column: error: message"
  std::string to_string() const;
};

struct LoadResult {
  std::shared_ptr<const Config> config;  // null when errors is not empty
  std::vector<ConfigError> errors;       // sorted by line, then column
  bool ok() const { return config != nullptr; }
};

// 64 MiB: 600,000 clients take about 35 MB of YAML.
inline constexpr uint64_t kMaxConfigFileBytes = 64 * kMiB;

struct LoadOptions {
  // Check the certificates, keys, CAs, scripts and folders the configuration names. Off for
  // tools that only look at routes, for example configurations of another machine, and fuzzing.
  bool check_files = true;
};

LoadResult load_config_file(const std::filesystem::path& path, const EnvLookup& env = process_env,
                            LoadOptions options = {});
// `name` stands for the file in errors.
LoadResult load_config_string(std::string_view yaml, std::string name,
                              const EnvLookup& env = process_env, LoadOptions options = {});

}  // namespace smppd::config
