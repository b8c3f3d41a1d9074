// A script file's bytes, read once when the configuration is loaded and shared, immutable, by the
// ScriptState of every worker thread.
//
// Each ScriptSource has a generation of its own, unique in the process and increasing: a
// ScriptState that compiled one generation compiles again, from a fresh Lua state, when it is
// handed another. A reload therefore reads the file into a new ScriptSource and hands that to the
// workers; each recompiles at its next call, and the old bytes go with the last reference.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

namespace smppd::script {

class ScriptSource {
 public:
  // Larger files are refused when read.
  static constexpr uint64_t kMaxBytes = uint64_t{16} << 20;

  struct ReadResult {
    std::shared_ptr<const ScriptSource> source;  // nullptr: see error
    std::string error;                           // "routing.lua: is a directory, not a file"
  };

  // Reads `path`, a regular file of at most kMaxBytes (a FIFO or a device is refused unread). It
  // is compiled by check_script and ScriptState, not here.
  static ReadResult read(const std::string& path);

  // A script given as text; `name` stands for its file in error messages.
  static std::shared_ptr<const ScriptSource> from_string(std::string name, std::string code);

  const std::string& name() const { return name_; }
  const std::string& code() const { return code_; }
  uint64_t generation() const { return generation_; }

 private:
  ScriptSource(std::string name, std::string code);

  std::string name_;
  std::string code_;
  uint64_t generation_;
};

}  // namespace smppd::script
