// The logging facade: every module logs through these names, so the backend (spdlog) and its
// set-up live in one place. Logging on the message path is at debug level only.
#pragma once

#include <spdlog/spdlog.h>

#include <string>

namespace smppd::log {

using spdlog::critical;
using spdlog::debug;
using spdlog::error;
using spdlog::info;
using spdlog::warn;

enum class Level { debug, info, warn, error };
enum class Format { text, json };
enum class Output { stdout_, stderr_, file };

struct Settings {
  Level level = Level::info;
  Format format = Format::text;
  Output output = Output::stderr_;
  std::string file_path;
  std::size_t rotation_size = 100 * 1024 * 1024;
  std::size_t rotation_max_files = 10;
};

// Replaces the default logger. Throws spdlog::spdlog_ex when a log file cannot be opened
// (start-up only).
void setup(const Settings& settings);
// The level of the logger in place (a reload).
void set_level(Level level);

}  // namespace smppd::log
