// The files around a configuration: reading the configuration file itself without trusting what
// the path turns out to be, and checking every file the configuration names (TLS certificates,
// keys and CAs, route scripts, storage and log folders) the way start-up will use it, so that
// `smppd validate` says what start-up would stumble on, with the OS's reason.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "config/loader.hpp"

namespace smppd::config {

// Reads a whole file that must be a regular file of at most `max_bytes`. The file is opened
// without blocking (a FIFO or a device never stalls the read) and judged by fstat on the open
// descriptor, so that what is read is what was checked. Returns an empty string on success,
// otherwise why not: "is a directory, not a file", "cannot be opened: Permission denied", "is
// 70000000 bytes; the limit is 67108864 (64 MiB)".
std::string read_regular_file(const std::filesystem::path& path, uint64_t max_bytes,
                              std::string& text);

// How the configuration uses a file it names.
enum class FileUse {
  certificate,     // PEM certificate chain, leaf first
  private_key,     // PEM private key, not encrypted; matches the certificate before it
  ca,              // PEM certificates, one at least
  script,          // a file to read (Lua is not parsed here)
  file_in_folder,  // a file smppd creates or appends to: its folder must exist and be writable
  folder,          // a folder smppd writes files into
};

struct NamedFile {
  FileUse use;
  std::string path;  // as configured, ${VAR} expanded
  std::string what;  // "cert of tls of listener 'smpp'"
  int line = 0;      // of the value, 1-based
  int column = 0;
  // private_key: the index in the list of the certificate it must match; -1: none.
  int certificate = -1;
};

// Checks every file, in order, and returns one error per file that start-up would fail on.
// `config_file` is the name errors carry.
// `check_script`: compiles a script once read (loader.hpp, ScriptCheck); may be null.
std::vector<ConfigError> check_named_files(const std::vector<NamedFile>& files,
                                           const std::string& config_file,
                                           ScriptCheck check_script = nullptr);

}  // namespace smppd::config
